"""Numbered pages for list endpoints. The page asked for is the page answered: past the last one it is empty (a
client that reads until an empty page stops), never silently the last page again."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.paginator import Paginator
from ninja import Field

PAGE_DESCRIPTION = "The page asked for (from 1); past the last page its list is empty"
PAGES_DESCRIPTION = "How many pages there are (at least 1, even when there is nothing to list)"


def page_field() -> Any:
    return Field(description=PAGE_DESCRIPTION)


def pages_field() -> Any:
    return Field(description=PAGES_DESCRIPTION)


@dataclass(frozen=True)
class Page:
    count: int
    page: int
    pages: int
    items: list[Any]


def paginate(items: Any, *, page: int, per_page: int) -> Page:
    """``items`` is a queryset or a list; only the rows of the page are fetched (none past the last page)."""
    paginator = Paginator(items, per_page)
    rows = list(paginator.page(page)) if page <= paginator.num_pages else []
    return Page(count=paginator.count, page=page, pages=paginator.num_pages, items=rows)
