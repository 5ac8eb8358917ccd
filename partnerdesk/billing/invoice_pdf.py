"""The invoice as a PDF: the printable invoice page (``billing/invoice_print.html`` and its print stylesheet)
rendered by WeasyPrint (decision 34 in docs/decisions.md).

WeasyPrint fetches only our own stylesheets, read from the static files; every other URL (any scheme, any host,
any path) is refused, so nothing in an invoice can make the server fetch a remote or local resource. A very
large invoice is not rendered (it would hold a worker for long): its page offers the CSV export and the
printable page instead.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.template.loader import render_to_string

# The largest invoice rendered as a PDF: about 5 seconds of WeasyPrint on a shared CPU (1,000 lines took 12.6 s).
PDF_MAX_LINES = 400
_BASE_URL = "https://partnerdesk.invalid/"
# WeasyPrint lays out the browser's flex header and its max-content grid badly (one character per line): the
# header is stacked instead, the facts in fixed columns. It also paints a visually hidden caption (clipped, but its
# text is in the PDF, after the table): a PDF has no use for it. Each page says "Page X of Y" at its foot. Extra stylesheets rank below the page's, hence
# !important.
PDF_CSS = """
.visually-hidden { display: none !important; }
.invoice-header { display: block !important; }
.invoice-header .facts { display: grid !important; grid-template-columns: 11rem auto !important; margin: 0 0 1rem; }
@page { @bottom-right { content: "Page " counter(page) " of " counter(pages); font-size: 9pt; color: #555; } }
"""
# WeasyPrint logs each rendering step at INFO: not worth a line in the server's log per download.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)


def _static_bytes(path: str) -> bytes | None:
    """A static file's bytes by its URL path (``/static/css/app.css``, hashed names included), or None."""
    static_url = urlsplit(settings.STATIC_URL).path or "/static/"
    if not path.startswith(static_url) or ".." in path:
        return None
    name = path[len(static_url) :]
    if not name.endswith(".css"):
        return None
    if staticfiles_storage.exists(name):
        with staticfiles_storage.open(name) as handle:
            return bytes(handle.read())
    found = finders.find(name)
    if isinstance(found, str):
        with open(found, "rb") as handle:
            return handle.read()
    return None


def _fetcher() -> Any:
    from weasyprint.urls import URLFetcher, URLFetcherResponse  # type: ignore[import-untyped]

    class StaticStylesheetsOnly(URLFetcher):
        def fetch(self, url: str, headers: dict[str, str] | None = None) -> Any:
            parts = urlsplit(url)
            body = None
            if f"{parts.scheme}://{parts.netloc}/" == _BASE_URL:
                body = _static_bytes(parts.path)
            if body is None:
                raise ValueError(f"not fetched for an invoice PDF: {url}")
            return URLFetcherResponse(url, body=body, headers={"Content-Type": "text/css; charset=utf-8"})

    return StaticStylesheetsOnly()


class PdfUnavailable(Exception):
    """WeasyPrint cannot run here (not installed, or the system's Pango library is missing)."""


def invoice_document(context: dict[str, Any]) -> Any:
    """The printable invoice laid out in pages by WeasyPrint (``.pages``; ``.write_pdf()`` makes the PDF)."""
    try:
        from weasyprint import CSS, HTML  # type: ignore[import-untyped]
    except (ImportError, OSError) as exc:  # OSError: cannot load the Pango library
        raise PdfUnavailable(str(exc)) from exc

    html = render_to_string("billing/invoice_print.html", context)
    document = HTML(string=html, base_url=_BASE_URL, url_fetcher=_fetcher(), media_type="print")
    return document.render(stylesheets=[CSS(string=PDF_CSS)])


def invoice_pdf(context: dict[str, Any]) -> bytes:
    """The printable invoice (the same template and print stylesheet as the browser's Print) as PDF bytes."""
    return bytes(invoice_document(context).write_pdf())
