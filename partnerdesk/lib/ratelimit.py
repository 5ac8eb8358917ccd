"""Named rate limiters in the shared cache (fixed windows), raising RateLimited with ``resets_in``."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from django.core.cache import cache

from partnerdesk.lib.errors import RateLimited


def too_many_attempts_message(seconds: float) -> str:
    """What a rate-limited person reads: the minutes until they may try again, rounded up (at least 1)."""
    minutes = max(1, math.ceil(seconds / 60))
    return f"Too many attempts, try again in {minutes} minute{'' if minutes == 1 else 's'}."


@dataclass(frozen=True)
class RateLimiter:
    name: str
    limit: int
    window_seconds: int

    def _key(self, key: str) -> tuple[str, int]:
        now = time.time()
        window = int(now // self.window_seconds)
        resets_in = self.window_seconds - int(now % self.window_seconds)
        return f"ratelimit:{self.name}:{key}:{window}", resets_in

    def hit(self, key: str) -> None:
        """Count one attempt for ``key``; raise RateLimited when the window's allowance is used up."""
        cache_key, resets_in = self._key(key)
        if cache.add(cache_key, 1, self.window_seconds + 1):
            count = 1
        else:
            try:
                count = cache.incr(cache_key)
            except ValueError:  # expired between add and incr
                cache.add(cache_key, 1, self.window_seconds + 1)
                count = 1
        if count > self.limit:
            raise RateLimited(too_many_attempts_message(resets_in), resets_in=resets_in)

    def refund(self, key: str) -> None:
        """Give back this window's last attempt for ``key`` (an attempt that turned out not to be what the limit
        is for, e.g. a lookup that matched)."""
        cache_key, _ = self._key(key)
        try:
            if cache.decr(cache_key) < 0:
                cache.set(cache_key, 0, self.window_seconds + 1)
        except ValueError:  # nothing counted in this window (it just turned)
            pass


# Looking up a subscription by number: per person and per IP. Only lookups that match nothing count (a match
# is refunded): the limits are there against guessing numbers, not against someone linking their companies.
LINK_LOOKUP_PER_USER = RateLimiter("link-lookup-user", limit=10, window_seconds=3600)
LINK_LOOKUP_PER_IP = RateLimiter("link-lookup-ip", limit=30, window_seconds=3600)
# Opening or accepting an emailed invitation link (staff invitations, client activations): per IP.
INVITATION_LINK_PER_IP = RateLimiter("invitation-link-ip", limit=60, window_seconds=3600)
