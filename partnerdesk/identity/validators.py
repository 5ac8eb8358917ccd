from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import ngettext


class MaximumLengthValidator:
    """Long passphrases are welcome (at least 64 characters), but not unbounded input to the hasher."""

    def __init__(self, max_length: int = 128) -> None:
        self.max_length = max_length

    def validate(self, password: str, user: Any = None) -> None:
        if len(password) > self.max_length:
            raise ValidationError(
                ngettext(
                    "This password is too long. It must contain at most %(max_length)d character.",
                    "This password is too long. It must contain at most %(max_length)d characters.",
                    self.max_length,
                ),
                code="password_too_long",
                params={"max_length": self.max_length},
            )

    def get_help_text(self) -> str:
        return f"Your password can be up to {self.max_length} characters long."


class RepetitionValidator:
    """No composition rules, but a password of only spaces, or of one or two characters repeated
    ("aaaaaaaaaaaa", "abababababab"), is as easy to guess as a common one (NIST SP 800-63B's blocklist:
    "repetitive or sequential characters")."""

    min_distinct = 3

    def validate(self, password: str, user: Any = None) -> None:
        if not password.strip():
            raise ValidationError("This password is only spaces.", code="password_blank")
        if len(set(password)) < self.min_distinct:
            raise ValidationError(
                "This password repeats the same one or two characters. Choose one that is harder to guess.",
                code="password_repetitive",
            )

    def get_help_text(self) -> str:
        return "Your password can't be only spaces or the same one or two characters repeated."
