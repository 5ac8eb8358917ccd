"""Secrets handed to people (links, API tokens): random, stored only as a hash, compared in constant time."""

from __future__ import annotations

import hashlib
import secrets


def new_token(prefix: str = "", nbytes: int = 32) -> str:
    """A URL-safe token with at least 256 bits of entropy by default."""
    return f"{prefix}{secrets.token_urlsafe(nbytes)}"


def hash_token(token: str) -> str:
    """SHA-256 is right here: the tokens are high-entropy, so a slow hash adds nothing but latency."""
    return hashlib.sha256(token.encode()).hexdigest()
