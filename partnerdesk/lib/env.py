"""Strict readers for environment variables.

Every helper raises ``ImproperlyConfigured`` naming the variable when its value is
malformed, so a bad deployment stops at start-up instead of misbehaving later.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _raw(name: str, environ: Mapping[str, str] | None) -> str | None:
    env = os.environ if environ is None else environ
    value = env.get(name)
    return None if value is None else value.strip()


def env_str(name: str, default: str = "", *, environ: Mapping[str, str] | None = None) -> str:
    value = _raw(name, environ)
    return default if value is None or value == "" else value


def env_bool(name: str, default: bool = False, *, environ: Mapping[str, str] | None = None) -> bool:
    value = _raw(name, environ)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false, yes/no, on/off), got {value!r}")


def env_int(
    name: str,
    default: int,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    environ: Mapping[str, str] | None = None,
) -> int:
    value = _raw(name, environ)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {number}")
    if maximum is not None and number > maximum:
        raise ImproperlyConfigured(f"{name} must be at most {maximum}, got {number}")
    return number


def env_list(name: str, default: list[str], *, environ: Mapping[str, str] | None = None) -> list[str]:
    value = _raw(name, environ)
    if value is None or value == "":
        return list(default)
    items = [item.strip() for item in value.split(",")]
    if any(item == "" for item in items):
        raise ImproperlyConfigured(f"{name} must be a comma-separated list without empty items, got {value!r}")
    return items


def env_email(name: str, default: str, *, environ: Mapping[str, str] | None = None) -> str:
    from django.core.validators import validate_email

    value = env_str(name, default, environ=environ)
    try:
        validate_email(value)
    except Exception:
        raise ImproperlyConfigured(f"{name} must be an email address, got {value!r}") from None
    return value


def env_lines(name: str, default: list[str], *, environ: Mapping[str, str] | None = None) -> list[str]:
    """Lines of text such as a postal address: separated by "|" or newlines, each stripped, blank ones dropped."""
    value = env_str(name, "", environ=environ)
    if not value:
        return list(default)
    return [line.strip() for line in value.replace("\n", "|").split("|") if line.strip()]


_UK_VAT_NUMBER = re.compile(r"GB(\d{9}|\d{12}|GD[0-4]\d{2}|HA[5-9]\d{2})")


def env_vat_number(name: str, default: str, *, environ: Mapping[str, str] | None = None) -> str:
    """A UK VAT registration number, e.g. ``GB123456789`` (spaces allowed): returned as HMRC prints it,
    ``GB 123 4567 89`` (12-digit group numbers and GD/HA ones as given, without spaces)."""
    value = env_str(name, default, environ=environ)
    if not value:
        return ""
    compact = "".join(value.split()).upper()
    if not _UK_VAT_NUMBER.fullmatch(compact):
        raise ImproperlyConfigured(f"{name} must be a UK VAT registration number such as GB123456789, got {value!r}")
    digits = compact[2:]
    return f"GB {digits[:3]} {digits[3:7]} {digits[7:]}" if len(digits) == 9 else compact


def env_base_url(name: str, default: str, *, environ: Mapping[str, str] | None = None) -> str:
    value = env_str(name, default, environ=environ)
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.hostname or parts.query or parts.fragment:
        raise ImproperlyConfigured(f"{name} must be an absolute http(s) URL such as https://example.com, got {value!r}")
    return value.rstrip("/")


def parse_database_url(
    name: str, default: str, *, base_dir: Any, environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Parse DATABASE_URL: ``sqlite:///relative/path``, ``sqlite:////abs/path`` or ``postgres://...``."""
    value = env_str(name, default, environ=environ)
    scheme = value.split("://", 1)[0] if "://" in value else ""
    if scheme not in {"sqlite", "postgres", "postgresql"}:
        raise ImproperlyConfigured(f"{name} must start with sqlite:// or postgres://, got {value!r}")
    try:
        config: dict[str, Any] = dict(dj_database_url.parse(value, conn_max_age=0))
    except Exception as exc:  # dj-database-url raises several types on malformed input
        raise ImproperlyConfigured(f"{name} is not a valid database URL: {exc}") from None
    if scheme == "sqlite":
        path = str(config.get("NAME") or "")
        if path in {"", ":memory:"}:
            raise ImproperlyConfigured(f"{name} must name a SQLite file, e.g. sqlite:///var/partnerdesk.sqlite3")
        if not os.path.isabs(path):
            config["NAME"] = str(base_dir / path)
        # WAL lets the web server and the worker read while the other writes.
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        }
    else:
        if not config.get("NAME"):
            raise ImproperlyConfigured(f"{name} must name a database, e.g. postgres://user@host:5432/partnerdesk")
        config["ENGINE"] = "django.db.backends.postgresql"
        config["CONN_MAX_AGE"] = 60
        config["CONN_HEALTH_CHECKS"] = True
    config.setdefault("TEST", {})
    return config


def parse_email_url(name: str, value: str) -> dict[str, Any]:
    """Translate EMAIL_URL into Django email settings.

    ``smtp://user:pass@host:port`` (plain, or STARTTLS with ``?tls=1``), ``smtps://...`` (implicit TLS),
    ``console://`` and ``locmem://``.
    """
    parts = urlsplit(value)
    scheme = parts.scheme
    if scheme == "console":
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if scheme == "locmem":
        return {"EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    if scheme not in {"smtp", "smtps"}:
        raise ImproperlyConfigured(f"{name} must start with smtp://, smtps://, console:// or locmem://, got {value!r}")
    if not parts.hostname:
        raise ImproperlyConfigured(f"{name} must name a host, e.g. smtp://mail.example.com:587, got {value!r}")
    try:
        port = parts.port
    except ValueError:
        raise ImproperlyConfigured(f"{name} has an invalid port: {value!r}") from None
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    unknown = set(query) - {"tls", "timeout"}
    if unknown:
        raise ImproperlyConfigured(f"{name} has unknown options {sorted(unknown)}; allowed: tls, timeout")
    tls = query.get("tls", "0").lower() in _TRUE
    if scheme == "smtps" and tls:
        raise ImproperlyConfigured(f"{name}: smtps:// already uses TLS; drop ?tls=1 or use smtp://")
    try:
        timeout = int(query.get("timeout", "10"))
    except ValueError:
        raise ImproperlyConfigured(f"{name}: timeout must be an integer number of seconds") from None
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parts.hostname,
        "EMAIL_PORT": port or (465 if scheme == "smtps" else 25),
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_SSL": scheme == "smtps",
        "EMAIL_USE_TLS": tls,
        "EMAIL_TIMEOUT": timeout,
    }


def parse_fernet_keys(name: str, value: str) -> list[str]:
    """FIELD_ENCRYPTION_KEY: one or more Fernet keys, comma-separated, newest first (rotation)."""
    import base64
    import binascii

    keys = [key.strip() for key in value.split(",") if key.strip()]
    if not keys:
        raise ImproperlyConfigured(f"{name} must hold at least one Fernet key")
    for key in keys:
        try:
            raw = base64.urlsafe_b64decode(key.encode())
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) != 32:
            raise ImproperlyConfigured(
                f"{name} must be comma-separated Fernet keys (32 url-safe base64 bytes each); "
                "make one with: python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
            )
    return keys
