"""Field encryption at rest (bank details): Fernet under ``settings.FIELD_ENCRYPTION_KEYS``.

The keys are newest first. New writes use the first key; every listed key still decrypts, so keys are
rotated by putting a new one in front, running ``manage.py rotate_field_encryption`` (which re-encrypts the
stored values with the new key) and then dropping the old one.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

__all__ = ["InvalidToken", "decrypt", "encrypt", "rotate"]


def _fernet() -> MultiFernet:
    # Built per call (cheap): settings can change at run time in tests and management commands.
    keys = settings.FIELD_ENCRYPTION_KEYS
    if not keys:
        raise RuntimeError("FIELD_ENCRYPTION_KEYS holds no key")
    return MultiFernet([Fernet(key.encode() if isinstance(key, str) else key) for key in keys])


def encrypt(text: str) -> str:
    """Encrypt with the newest key; the token is url-safe ASCII."""
    return _fernet().encrypt(text.encode()).decode()


def decrypt(token: str) -> str:
    """Decrypt with whichever listed key made the token (``InvalidToken`` if none did)."""
    return _fernet().decrypt(token.encode()).decode()


def rotate(token: str) -> str:
    """Re-encrypt a token under the newest key (same plaintext)."""
    return _fernet().rotate(token.encode()).decode()


def encrypted_with_newest(token: str) -> bool:
    """Whether the newest key decrypts this token (nothing left to rotate)."""
    try:
        Fernet(settings.FIELD_ENCRYPTION_KEYS[0]).decrypt(token.encode())
    except InvalidToken:
        return False
    return True
