"""Helpers for the PostgreSQL race tests: run calls at the same moment, each in its own thread and connection,
and slow one side down where it holds its first lock, so that the interleaving that used to deadlock (or let
both through) happens every time instead of by chance."""

from __future__ import annotations

import importlib
import threading
import time
from collections.abc import Callable
from typing import Any
from unittest import mock

from django.db import connections

PAUSE = 0.4  # long enough for the other thread to take its first lock meanwhile


def race(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls at the same moment, each in its own thread and connection; return results or errors."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results[index] = call()
        except Exception as exc:
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def slowed(target: str, seconds: float = PAUSE) -> Any:
    """Patch the function ``target`` (dotted: module.name) to wait before it runs, holding whatever its caller
    has locked by then."""
    module_name, _, name = target.rpartition(".")
    original = getattr(importlib.import_module(module_name), name)

    def wait_then_call(*args: Any, **kwargs: Any) -> Any:
        time.sleep(seconds)
        return original(*args, **kwargs)

    return mock.patch(target, wait_then_call)


class SlowModel:
    """Stands for a model class (patched into a module) whose every query first waits (``Model.objects``)."""

    def __init__(self, model: type, seconds: float = PAUSE) -> None:
        self._model = model
        self._seconds = seconds

    def __getattr__(self, name: str) -> Any:
        if name == "objects":
            time.sleep(self._seconds)
        return getattr(self._model, name)
