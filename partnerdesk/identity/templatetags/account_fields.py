"""``{% account_inputs field help_text inputmode %}``: the ``<input>`` tags of one text-like account field.

The same markup templates/account/snippets/field.html wrote with a loop over the widget's attributes, built in
Python: the account screens (the sign-in page above all) render their fields several times faster. The
attributes, their order and escaping are those of the widget (Django's ``{{ }}`` escaping), without the
placeholder (it only repeats the label) and with ``aria-describedby`` pointing at the help text and the error.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.forms import BoundField
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

_SKIPPED = frozenset({"placeholder", "aria-describedby"})


@register.simple_tag
def account_inputs(field: BoundField, help_text: Any = "", inputmode: Any = "") -> SafeString:
    described = []
    if help_text:
        described.append(f"{field.auto_id}_helptext")
    if field.errors:
        described.append(f"{field.auto_id}_error")
    tail = ""
    if described:
        tail += f' aria-describedby="{conditional_escape(" ".join(described))}"'
    if inputmode:
        tail += f' inputmode="{conditional_escape(inputmode)}"'
    tail += ' spellcheck="false">'
    tags = []
    for widget in field.subwidgets:
        data = widget.data
        parts = [f'<input type="{conditional_escape(data["type"])}" name="{conditional_escape(data["name"])}"']
        if data["value"] is not None:
            parts.append(f' value="{conditional_escape(str(data["value"]))}"')
        for name, value in data["attrs"].items():
            if name in _SKIPPED or value is False:
                continue
            parts.append(f" {conditional_escape(name)}")
            if value is not True:
                parts.append(f'="{conditional_escape(str(value))}"')
        parts.append(tail)
        tags.append("".join(parts))
    return mark_safe("".join(tags))  # noqa: S308 - every value above is escaped
