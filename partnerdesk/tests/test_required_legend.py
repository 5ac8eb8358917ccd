"""The red "*" by a required field's label is explained once, at the top of its form: "* required"
(templates/_required_legend.html), shown only where the marker is."""

from __future__ import annotations

import re

import pytest
from django import forms
from django.template.loader import render_to_string
from django.test import Client as Browser
from django.urls import reverse

from partnerdesk.identity.models import User
from partnerdesk.practice.demo import load_demo
from partnerdesk.practice.models import Client
from partnerdesk.tests.markup import markup_problems

LEGEND = '<p class="required-legend" aria-hidden="true"><span class="required">*</span> required</p>'


class _Mixed(forms.Form):
    name = forms.CharField(label="Business name")
    phone = forms.CharField(label="Phone", required=False)


class _Optional(forms.Form):
    phone = forms.CharField(label="Phone", required=False)


def test_a_form_with_required_fields_says_once_what_the_marker_means():
    html = render_to_string("_form.html", {"form": _Mixed()})
    assert html.count(LEGEND) == 1
    assert html.index(LEGEND) < html.index('<label for="id_name">')  # before the fields
    assert '<label for="id_name">Business name <span class="required" aria-hidden="true">*</span></label>' in html
    assert re.search(r'<input[^>]*name="name"[^>]*required', html)  # what screen readers hear instead


def test_a_form_without_required_fields_has_no_marker_and_no_legend():
    html = render_to_string("_form.html", {"form": _Optional()})
    assert "required" not in html


def test_the_markup_check_finds_a_marker_that_is_not_explained():
    marked = '<form><label for="a">A <span class="required" aria-hidden="true">*</span></label><input id="a"></form>'
    assert markup_problems(marked, fragment=True) == [
        "<form> marks required fields with * but does not say what * means"
    ]
    explained = marked.replace("<form>", f"<form>{LEGEND}")
    assert markup_problems(explained, fragment=True) == []


@pytest.mark.django_db
def test_the_practices_forms_say_what_the_marker_means():
    assert load_demo()
    admin = Browser()
    admin.force_login(User.objects.get(email="admin@hartleymoss.test"))
    cafe = Client.objects.get(business_name="Riverside Café")
    pages = {
        "add client": admin.get(reverse("practice:client_add")),
        "staff (Invite a member)": admin.get(reverse("practice:staff")),
        "panel, Manage": admin.get(reverse("practice:client", args=[cafe.pk]) + "?panel=details"),
        "panel, Manage (htmx)": admin.get(
            reverse("practice:client", args=[cafe.pk]) + "?panel=details", headers={"HX-Request": "true"}
        ),
    }
    for name, response in pages.items():
        assert response.content.decode().count(LEGEND) == 1, name
    # A form with no required field says nothing about it: the client list's search.
    assert "required-legend" not in admin.get(reverse("practice:clients")).content.decode()
