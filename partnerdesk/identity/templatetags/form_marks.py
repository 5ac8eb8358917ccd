"""``form|has_required_fields``: whether a form shows the required marker (``*``) on any of its visible fields, so
templates/_form.html says once what the marker means."""

from __future__ import annotations

from django import template
from django.forms import BaseForm

register = template.Library()


@register.filter
def has_required_fields(form: BaseForm) -> bool:
    return any(field.field.required for field in form.visible_fields())
