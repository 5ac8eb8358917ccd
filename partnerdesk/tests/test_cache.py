"""The embedded default cache never culls a live entry (allauth's rate-limit histories live there)."""

import datetime as dt

import pytest
from django.core.cache.backends.db import DatabaseCache as DjangoDatabaseCache
from django.db import connection

from partnerdesk.lib.cache import DatabaseCache

pytestmark = pytest.mark.django_db


def _small(backend: type[DjangoDatabaseCache]) -> DjangoDatabaseCache:
    return backend("partnerdesk_cache", {"OPTIONS": {"MAX_ENTRIES": 5}, "KEY_PREFIX": "t"})


def _rows() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM partnerdesk_cache")
        return cursor.fetchone()[0]


def test_live_rate_limit_history_survives_many_writes():
    cache = _small(DatabaseCache)
    cache.set("allauth:rl:login_failed:someone", [1, 2, 3], timeout=300)
    for i in range(30):
        cache.set(f"zz-filler-{i}", i, timeout=300)
    assert cache.get("allauth:rl:login_failed:someone") == [1, 2, 3]
    assert _rows() == 31


def test_djangos_own_cull_would_have_dropped_it():
    """The reason for the subclass: the same writes through Django's class lose the lock."""
    cache = _small(DjangoDatabaseCache)
    cache.set("allauth:rl:login_failed:someone", [1, 2, 3], timeout=300)
    for i in range(30):
        cache.set(f"zz-filler-{i}", i, timeout=300)
    assert cache.get("allauth:rl:login_failed:someone") is None


def test_expired_rows_go_at_the_next_write_above_the_limit(monkeypatch):
    cache = _small(DatabaseCache)
    for i in range(10):
        cache.set(f"old-{i}", i, timeout=60)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
    monkeypatch.setattr("django.core.cache.backends.db.tz_now", lambda: later)
    cache.set("new", 1, timeout=3600)
    assert _rows() == 1
    assert cache.get("new") == 1
