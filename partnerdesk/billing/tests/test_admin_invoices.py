"""The back office's invoices: read-only, found by number, customer number or business name, lines inline."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import Client as HttpClient

from partnerdesk.identity.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer_services():
    user = User.objects.create_user(email="cs@partnerdesk.test", password="x" * 16, is_staff=True)
    user.groups.add(Group.objects.get(name="Customer services"))
    http = HttpClient()
    http.force_login(user)
    return http


def test_customer_services_finds_an_invoice_and_reads_its_lines(customer_services, billed):
    invoice = billed["practice_invoice"]
    url = f"/admin/billing/invoice/{invoice.pk}/change/"
    for query in (invoice.number, invoice.customer_number, "Hartley"):
        listing = customer_services.get("/admin/billing/invoice/", {"q": query}).content.decode()
        assert url in listing, query
        assert f"/admin/billing/invoice/{billed['own_invoice'].pk}/change/" not in listing, query
    page = customer_services.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Bakery Ltd" in text  # the lines, inline
    assert "=Joinery Ltd" in text
    assert f"£{invoice.total:,.2f}" in text
    assert 'name="_save"' not in text  # nothing to save: read-only
    assert customer_services.get("/admin/billing/invoice/add/").status_code == 403
    assert customer_services.get(f"/admin/billing/invoice/{invoice.pk}/delete/").status_code == 403
    assert "delete_selected" not in customer_services.get("/admin/billing/invoice/").content.decode()
