"""Accessibility checks on a rendered page's markup, for view tests (no browser, standard library only).

``markup_problems(html)`` lists what a screen reader user would trip over and a test can see without running the
page: a form control with no label, an ``aria-describedby`` / ``aria-labelledby`` / ``<label for>`` that points at
nothing, a field marked invalid whose error is not in its description, a form that marks required fields with a
"*" without saying what it means ("* required"), a table header cell without ``scope``, not exactly one ``h1``, a skipped heading level, no ``lang``, no ``<title>``, no ``main`` landmark."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from html.parser import HTMLParser

UNLABELLED_TYPES = {"hidden", "submit", "button", "reset", "image"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    parent: Element | None
    text: list[str] = field(default_factory=list)

    def within(self, tag: str) -> bool:
        node = self.parent
        while node is not None:
            if node.tag == tag:
                return True
            node = node.parent
        return False

    def ancestor(self, tag: str) -> Element | None:
        node = self.parent
        while node is not None and node.tag != tag:
            node = node.parent
        return node

    def describe(self) -> str:
        shown = " ".join(f'{k}="{v}"' for k, v in self.attrs.items() if k in {"id", "name", "type", "class"})
        return f"<{self.tag} {shown}>".replace(" >", ">")


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self.stack: list[Element] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs}, self.stack[-1] if self.stack else None)
        self.elements.append(element)
        if tag not in VOID:
            self.stack.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append(Element(tag, {k: v or "" for k, v in attrs}, self.stack[-1] if self.stack else None))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        for element in self.stack:
            element.text.append(data)


def elements(html: str) -> list[Element]:
    collector = _Collector()
    collector.feed(html)
    collector.close()
    return collector.elements


def markup_problems(html: str, *, fragment: bool = False) -> list[str]:
    """``fragment``: an htmx response (the side panel), checked without the whole-page rules."""
    found = elements(html)
    ids = {e.attrs["id"] for e in found if e.attrs.get("id")}
    by_id = {e.attrs["id"]: e for e in found if e.attrs.get("id")}
    label_for = {e.attrs["for"] for e in found if e.tag == "label" and e.attrs.get("for")}
    problems: list[str] = []

    for e in found:
        for attribute in ("aria-describedby", "aria-labelledby"):
            for ref in e.attrs.get(attribute, "").split():
                if ref not in ids:
                    problems.append(f"{e.describe()} {attribute} points at a missing id {ref!r}")
        if e.tag == "label" and e.attrs.get("for") and e.attrs["for"] not in ids:
            problems.append(f"<label for={e.attrs['for']!r}> labels nothing")
        if e.tag in {"input", "select", "textarea"} and e.attrs.get("type", "text") not in UNLABELLED_TYPES:
            named = (
                e.attrs.get("id") in label_for
                or e.attrs.get("aria-label", "").strip()
                or e.attrs.get("aria-labelledby")
                or e.within("label")
            )
            if not named:
                problems.append(f"{e.describe()} has no label")
        if e.attrs.get("aria-invalid") == "true":
            described = [by_id[ref] for ref in e.attrs.get("aria-describedby", "").split() if ref in by_id]
            if not any("error" in d.attrs.get("class", "").split() for d in described):
                problems.append(f"{e.describe()} is marked invalid but its error is not in its description")
        if e.tag == "th" and e.attrs.get("scope") not in {"col", "row", "colgroup", "rowgroup"}:
            problems.append(f"<th> {''.join(e.text).strip()[:40]!r} has no scope")

    # The red "*" by a label is explained once in its form (templates/_required_legend.html).
    explained = {id(e.ancestor("form")) for e in found if "required-legend" in e.attrs.get("class", "").split()}
    for e in found:
        if e.tag == "span" and "required" in e.attrs.get("class", "").split() and e.within("label"):
            form = e.ancestor("form")
            if id(form) not in explained:
                explained.add(id(form))  # said once per form
                where = form.describe() if form is not None else "the page"
                problems.append(f"{where} marks required fields with * but does not say what * means")

    if fragment:
        return problems
    headings = [int(e.tag[1]) for e in found if len(e.tag) == 2 and e.tag[0] == "h" and e.tag[1] in "123456"]
    if headings.count(1) != 1:
        problems.append(f"{headings.count(1)} h1 headings (one expected)")
    for before, after in itertools.pairwise(headings):
        if after > before + 1:
            problems.append(f"heading level skipped: h{before} then h{after}")
    html_tag = next((e for e in found if e.tag == "html"), None)
    if html_tag is None or not html_tag.attrs.get("lang"):
        problems.append("<html> has no lang")
    title = next((e for e in found if e.tag == "title"), None)
    if title is None or not "".join(title.text).strip():
        problems.append("no <title>")
    if not any(e.tag == "main" for e in found):
        problems.append("no <main> landmark")
    return problems


def text_of(element: Element | None) -> str:
    """An element's text, whitespace collapsed ("" for no element)."""
    return " ".join("".join(element.text).split()) if element is not None else ""


def title_of(html: str) -> str:
    title = next((e for e in elements(html) if e.tag == "title"), None)
    return " ".join("".join(title.text).split()) if title else ""


def by_id(html: str, element_id: str) -> Element | None:
    return next((e for e in elements(html) if e.attrs.get("id") == element_id), None)
