"""The markup screen readers rely on, page by page on the demo data, including the pages with their errors showing:
every control labelled, every description and label pointing at something, every field in error described by
its error, header cells with scope, one h1 and no skipped heading level, lang, a title that says where you are
(partnerdesk/tests/markup.py). The browser side (where focus goes) is e2e/test_keyboard_journeys.py."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client as Browser
from django.urls import reverse

from partnerdesk.identity.models import CompanyMembership, User
from partnerdesk.practice.demo import load_demo
from partnerdesk.practice.models import Client
from partnerdesk.tests.markup import by_id, elements, markup_problems, text_of, title_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo() -> None:
    assert load_demo()


def _browser(email: str) -> Browser:
    browser = Browser()
    browser.force_login(User.objects.get(email=email))
    return browser


def _page(response):
    assert response.status_code in {200, 400, 409, 422}, (response.status_code, response.get("Location"))
    return response.content.decode()


def test_signed_out_pages_and_their_errors(client):
    pages = {
        "sign in: choose": client.get("/signin/"),
        "sign in: choose, nothing chosen": client.post("/signin/", {"portal": "", "product": ""}),
        "sign in": client.get(reverse("account_login")),
        "sign in: empty": client.post(reverse("account_login"), {"login": "", "password": ""}),
        "sign in: wrong": client.post(reverse("account_login"), {"login": "x@example.test", "password": "nope"}),
        "create account": client.get(reverse("account_signup")),
        "create account: errors": client.post(
            reverse("account_signup"), {"email": "not-an-email", "password1": "short", "password2": "other"}
        ),
        "forgot password": client.get(reverse("account_reset_password")),
        "forgot password: error": client.post(reverse("account_reset_password"), {"email": "not-an-email"}),
    }
    problems = {name: markup_problems(_page(response)) for name, response in pages.items()}
    assert {name: found for name, found in problems.items() if found} == {}


def test_practice_pages_and_their_errors(demo):
    admin = _browser("admin@hartleymoss.test")
    cafe = Client.objects.get(business_name="Riverside Café")
    panel = reverse("practice:client", args=[cafe.pk])
    upload = admin.post(
        reverse("practice:import_upload"),
        {"file": SimpleUploadedFile("c.csv", b"Business name,Email,VAT number\nAlpha Ltd,bad@,GB1\n,x@y.test,\n")},
    )
    preview = upload["Location"]
    pages = {
        "client list": admin.get(reverse("practice:clients")),
        "client list, pending": admin.get(reverse("practice:clients") + "?tab=pending"),
        "panel": admin.get(panel),
        "panel, Manage": admin.get(panel + "?panel=details"),
        "panel, History": admin.get(panel + "?panel=history"),
        "panel, Details with errors": admin.post(
            reverse("practice:client_details", args=[cafe.pk]),
            {"version": cafe.version, "business_name": "", "email": "not-an-email"},
        ),
        "add client": admin.get(reverse("practice:client_add")),
        "add client: errors": admin.post(
            reverse("practice:client_add"), {"business_name": "", "email": "bad@", "vat_number": "X"}
        ),
        "import": admin.get(reverse("practice:import_upload")),
        "import: no file": admin.post(reverse("practice:import_upload"), {"file": ""}),
        "import preview": admin.get(preview),
        "fix row": admin.get(preview + "rows/1/"),
        "fix row: errors": admin.post(preview + "rows/1/", {"business_name": "", "email": "bad@"}),
        "stop managing": admin.get(reverse("practice:stop_managing", args=[cafe.pk])),
        "stop managing: nothing chosen": admin.post(reverse("practice:stop_managing", args=[cafe.pk]), {"mode": ""}),
        "stop managing: name mistyped": admin.post(
            reverse("practice:stop_managing", args=[cafe.pk]), {"mode": "delete", "confirm_business_name": "x"}
        ),
        "subscriptions": admin.get(f"/partner/clients/{cafe.pk}/subscriptions/"),
        "subscriptions: remove": admin.get(f"/partner/clients/{cafe.pk}/subscriptions/?step=remove"),
        "subscriptions: add nothing": admin.post(f"/partner/clients/{cafe.pk}/subscriptions/add/", {"service": ""}),
        "past clients": admin.get(reverse("practice:former_clients")),
        "security": admin.get(reverse("identity:security")),
    }
    problems = {name: markup_problems(_page(response)) for name, response in pages.items()}
    assert {name: found for name, found in problems.items() if found} == {}

    fragment = admin.post(
        reverse("practice:client_details", args=[cafe.pk]),
        {"version": cafe.version, "business_name": "", "email": "not-an-email"},
        HTTP_HX_REQUEST="true",
    )
    assert markup_problems(fragment.content.decode(), fragment=True) == []


def test_owner_pages(demo):
    owner = _browser("owner@brightsparks.test")
    number = CompanyMembership.objects.get(user__email="owner@brightsparks.test").company.customer_number
    pages = {"home": owner.get("/")}
    for suffix in ("", "users/", "payment/", "invoices/", "accountant/", "details/", "subscriptions/"):
        pages[suffix or "company"] = owner.get(f"/companies/{number}/{suffix}")
    problems = {name: markup_problems(_page(response)) for name, response in pages.items()}
    assert {name: found for name, found in problems.items() if found} == {}


def test_stop_managing_errors_are_tied_to_what_they_are_about(demo):
    admin = _browser("admin@hartleymoss.test")
    cafe = Client.objects.get(business_name="Riverside Café")
    url = reverse("practice:stop_managing", args=[cafe.pk])

    mistyped = admin.post(url, {"mode": "delete", "confirm_business_name": "Riverside"}).content.decode()
    field = by_id(mistyped, "id_confirm_business_name")
    assert field is not None
    assert field.attrs["aria-invalid"] == "true"
    assert field.attrs["aria-describedby"] == "id_confirm_business_name_helptext id_confirm_business_name_error"
    error = by_id(mistyped, "id_confirm_business_name_error")
    assert error is not None
    assert text_of(error) == "Type Riverside Café exactly to confirm."
    help_text = by_id(mistyped, "id_confirm_business_name_helptext")
    assert help_text is not None
    assert text_of(help_text) == "Deleting cannot be undone: the client's bookkeeping data is erased."
    assert "field-invalid" in field.parent.attrs["class"].split()  # type: ignore[union-attr]

    nothing = admin.post(url, {"mode": ""}).content.decode()
    fieldset = next(e for e in elements(nothing) if e.tag == "fieldset")
    assert fieldset.attrs["aria-describedby"] == "id_mode_error"
    for index in (0, 1):
        radio = by_id(nothing, f"id_mode_{index}")
        assert radio is not None
        assert radio.attrs["aria-invalid"] == "true"
        assert radio.attrs["aria-describedby"] == f"id_mode_error id_mode_{index}_helptext"
    error = by_id(nothing, "id_mode_error")
    assert error is not None
    assert text_of(error) == "This field is required."

    # Before any error each choice is described by its explanation only.
    fresh = admin.get(url).content.decode()
    transfer = by_id(fresh, "id_mode_0")
    assert transfer is not None
    assert transfer.attrs["aria-describedby"] == "id_mode_0_helptext"
    assert "aria-invalid" not in transfer.attrs


def test_the_title_names_the_client_whose_panel_is_open(demo):
    admin = _browser("admin@hartleymoss.test")
    cafe = Client.objects.get(business_name="Riverside Café")
    panel = reverse("practice:client", args=[cafe.pk])
    assert title_of(admin.get(reverse("practice:clients")).content.decode()) == "Clients · Partnerdesk"
    full = admin.get(panel).content.decode()
    assert title_of(full) == "Riverside Café · Clients · Partnerdesk"
    # Closing the panel (app.js) puts the list's title back.
    aside = by_id(full, "side-panel")
    assert aside is not None
    assert aside.attrs["data-list-title"] == "Clients · Partnerdesk"
    # The htmx fragment carries its title (htmx sets document.title from it) and a heading focus can go to.
    fragment = admin.get(panel + "?panel=history", HTTP_HX_REQUEST="true").content.decode()
    assert fragment.lstrip().startswith("<title>Riverside Café · Clients · Partnerdesk</title>")
    heading = by_id(fragment, "client-heading")
    assert heading is not None
    assert heading.attrs["tabindex"] == "-1"
    # Not in the body of a full page.
    assert full.count("<title>") == 1


def test_delete_client_title_names_the_client(demo):
    admin = _browser("admin@hartleymoss.test")
    pending = Client.objects.filter(tab=Client.Tab.PENDING).exclude(business_name="").first()
    assert pending is not None
    page = admin.get(reverse("practice:client_delete", args=[pending.pk])).content.decode()
    assert title_of(page) == f"Delete Client · {pending.business_name} · Partnerdesk"


def test_import_preview_fits_its_problems_in_the_page(demo):
    admin = _browser("admin@hartleymoss.test")
    upload = admin.post(
        reverse("practice:import_upload"),
        {"file": SimpleUploadedFile("c.csv", b"Business name,VAT number\nAlpha Ltd,GB1\n")},
    )
    page = admin.get(upload["Location"]).content.decode()
    found = elements(page)
    table = next(e for e in found if e.tag == "table")
    assert table.parent is not None
    assert table.parent.attrs.get("class") == "table-scroll"
    problems = [e for e in found if e.tag == "td" and e.attrs.get("class") == "problems"]
    assert problems
    assert "Enter a UK VAT number" in text_of(problems[0])
    # The breadcrumb's separator is not read out.
    assert '<span aria-hidden="true">\u203a</span>' in page


def test_past_clients_table_scrolls_in_its_own_box(demo):
    admin = _browser("admin@hartleymoss.test")
    page = admin.get(reverse("practice:former_clients")).content.decode()
    table = next(e for e in elements(page) if e.tag == "table")
    assert table.parent is not None
    assert table.parent.attrs.get("class") == "table-scroll"


def test_remove_step_names_only_the_chosen_services_and_takes_the_focus(demo):
    admin = _browser("admin@hartleymoss.test")
    cafe = Client.objects.get(business_name="Riverside Café")
    services = list(cafe.company.subscription_items.filter(ends_on=None).order_by("service__name"))
    assert len(services) >= 2
    first = services[0]
    page = admin.get(f"/partner/clients/{cafe.pk}/subscriptions/?step=remove&service={first.service_id}")
    text = page.content.decode()
    assert f"You chose to remove: <strong>{first.service.name}</strong>. Continue to check what changes." in text
    box = next(e for e in elements(text) if "data-focus-on-load" in e.attrs)
    assert text_of(box).startswith("You chose to remove: ")


def test_back_office_sign_in_page_has_its_heading(client):
    page = client.get("/admin/login/").content.decode()
    headings = [e for e in elements(page) if e.tag == "h1"]
    assert len(headings) == 1
    assert text_of(headings[0]) == "Partnerdesk back office"
    # Signed in, the back office's name is not a heading (each page has its own h1).
    client.force_login(User.objects.create_user(email="bo@example.test", password="x" * 16, is_staff=True))
    index = client.get("/admin/").content.decode()
    assert [text_of(h) for h in elements(index) if h.tag == "h1"] == ["Site administration"]


def test_the_code_page_and_its_errors(client):
    """Create account -> the emailed code: with its cooldown showing, and with a wrong code typed."""
    password = "a quiet harbour at dawn"
    signup = {"email": "nia@example.test", "password1": password, "password2": password, "full_name": "Nia Evans"}
    assert client.post(reverse("account_signup"), signup).status_code == 302
    pages = {
        "code": client.get(reverse("account_email_verification_sent")),
        "code: wrong": client.post(reverse("account_email_verification_sent"), {"code": "00000000"}),
    }
    problems = {name: markup_problems(_page(response)) for name, response in pages.items()}
    assert {name: found for name, found in problems.items() if found} == {}
    assert 'id="resend-cooldown"' in _page(pages["code: wrong"])
