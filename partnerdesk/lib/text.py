"""Text people type that others read: names, addresses, contacts."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

# Control characters (tab, line feed and carriage return excepted: addresses have lines), and the invisible
# characters that change how text displays without showing: zero-width spaces and joiners, direction marks,
# embeddings, overrides and isolates (U+202E makes "Ltd.exe" read "exe.dtL"), word joiners, the byte-order mark.
HIDDEN_CHARACTERS = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)
HIDDEN_CHARACTERS_MESSAGE = (
    "Remove the hidden control or text-direction characters (often pasted with the text): they can make it "
    "display differently from what it says."
)


def refuse_hidden_characters(value: str) -> None:
    """A validator (forms, and services that take text from the API directly)."""
    if HIDDEN_CHARACTERS.search(value):
        raise ValidationError(HIDDEN_CHARACTERS_MESSAGE, code="hidden_characters")
