from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from ninja import Field, Path, Schema
from pydantic import Strict, StrictInt


class Problem(Schema):
    type: str
    title: str
    status: int
    code: str
    instance: str
    detail: str | None = None


def problems(*statuses: int) -> dict[int | Any, Any]:
    """The error statuses an endpoint documents, each answered as problem+json (``Problem``)."""
    return dict.fromkeys(statuses, Problem)


class MessageOut(Schema):
    """A plain answer for a person to read (e.g. the same 202 whatever happened, so nothing is revealed)."""

    detail: str


class Me(Schema):
    id: int
    email: str
    full_name: str


class TokenIn(Schema):
    name: str = Field(min_length=1, max_length=100)
    days: StrictInt = Field(90, ge=1, le=366)


class TokenOut(Schema):
    id: int
    name: str
    hint: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenOut):
    token: str = Field(description="The token itself. Shown only this once: store it safely.")


# Database ids: positive and within a 64-bit signed integer (larger values can never exist; SQLite would overflow).
MAX_DB_ID = 2**63 - 1
DbId = Annotated[int, Field(ge=1, le=MAX_DB_ID)]
PathId = Annotated[int, Path(ge=1, le=MAX_DB_ID)]
# An id in a JSON body: a JSON integer only. Lax pydantic would read `true` as id 1 and "7" as 7 (use StrictBool
# for flags, for the same reason: lax pydantic reads "yes" and 1 as true).
StrictDbId = Annotated[int, Strict(), Field(ge=1, le=MAX_DB_ID)]
