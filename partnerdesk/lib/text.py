"""Text people type that others read: names, addresses, contacts."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

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


ELLIPSIS = "…"
# Where a cut looks for the end of a word: within the last quarter of what is kept, so a long word is not lost.
_WORD_END_WINDOW = 4
# A name shortened to fit a subject keeps at least this many characters (then the whole subject is cut instead).
_SHORTEST_NAME = 12


def shorten(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` characters: unchanged when it fits, else cut with an ellipsis, at the end of a
    word when one is near (never leaving a dangling space or punctuation before the ellipsis)."""
    if len(text) <= limit:
        return text
    if limit <= 1:
        return ELLIPSIS[:limit]
    kept = text[: limit - 1]
    space = kept.rfind(" ")
    if space >= len(kept) - len(kept) // _WORD_END_WINDOW:
        kept = kept[:space]
    return kept.rstrip(" ,.;:-\u2013\u2014&(") + ELLIPSIS  # also en and em dashes


def fit(render: Callable[[Mapping[str, Any]], str], names: Mapping[str, Any], limit: int) -> str:
    """``render(names)`` in at most ``limit`` characters, for a subject (an in-app message's column, an email's)
    built from names people typed, each up to 200 characters: when it is too long, the longest names are shortened
    (``shorten``), all to the same length, until it fits, so that the words around them (what happened) stay. Only
    text values are shortened. Where even that cannot fit, the whole is shortened."""
    text = render(names)
    if len(text) <= limit:
        return text
    texts = {key: value for key, value in names.items() if isinstance(value, str)}

    def shortened(cap: int) -> str:
        return render({**names, **{key: shorten(value, cap) for key, value in texts.items()}})

    # The longest length the names may keep: the largest that fits, found by halving (a few renders).
    fits, too_long = _SHORTEST_NAME - 1, max((len(value) for value in texts.values()), default=0)
    best = ""
    while too_long - fits > 1:
        cap = (fits + too_long) // 2
        candidate = shortened(cap)
        if len(candidate) <= limit:
            fits, best = cap, candidate
        else:
            too_long = cap
    return best or shorten(shortened(_SHORTEST_NAME) if texts else text, limit)


def fill(template: str, *, limit: int, **names: str) -> str:
    """``template.format(**names)`` in at most ``limit`` characters, the names shortened first (``fit``):
    ``fill("{practice} no longer manages {business}", limit=200, practice=..., business=...)``."""
    return fit(lambda values: template.format(**values), names, limit)
