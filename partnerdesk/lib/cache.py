"""The embedded default cache: Django's database cache, except that it never drops a live entry.

Django's ``DatabaseCache`` keeps at most ``MAX_ENTRIES`` (300) rows: above that, every write first deletes the
expired rows and then, if still over, a third of the live ones in key order. allauth's rate-limit histories
(``allauth:rl:...``) sort first, so anyone able to make a few hundred cache writes (failed sign-ins spread over
a few addresses) could wipe a per-account lock. Here culling only ever deletes expired rows: a live rate-limit
history lasts exactly as long as its limit. The table then holds what is live (bounded by the limits'
durations and request rates), and the expired rows go at the next write above ``MAX_ENTRIES``.
Redis (``REDIS_URL``) is the production cache; this is the embedded default's.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.cache.backends.db import DatabaseCache as DjangoDatabaseCache
from django.db import connections


class DatabaseCache(DjangoDatabaseCache):
    def _cull(self, db: str, cursor: Any, now: dt.datetime, num: int) -> None:
        connection = connections[db]
        table = connection.ops.quote_name(self._table)  # type: ignore[attr-defined]  # (set by Django, not in the stubs)
        expires = connection.ops.quote_name("expires")
        cursor.execute(
            f"DELETE FROM {table} WHERE {expires} < %s",  # noqa: S608 (quoted names from settings, value bound)
            [connection.ops.adapt_datetimefield_value(now)],
        )
