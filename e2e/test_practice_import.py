"""Import CSV in Chromium (issue 5): upload a small file with a bad row, fix it in the preview, drop another,
import, and find the clients on the Imported tab."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from e2e.conftest import console_errors, csp_violations
from e2e.test_portal_link import sign_in
from partnerdesk.identity.services import company_create
from partnerdesk.identity.tests.factories import PASSWORD, UserFactory
from partnerdesk.practice.models import Client, Practice, PracticeMember

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CSV = (
    "\ufeffBusiness name;Contact;Email;Postcode\n"
    "Alpha Bakery;Ann;ann@alpha.test;LS1 4AP\n"
    'Beta Joinery;Bob;bob@beta;"LS2 7HY"\n'
    "Test Row Please Ignore;;;\n"
    "Gamma Garage;Gus;gus@gamma.test;\n"
)


@pytest.fixture
def practice_admin():
    practice = Practice.objects.create(company=company_create(business_name="Hartley LLP"), name="Hartley LLP")
    admin = UserFactory(email="helen@hartley.test", full_name="Helen Hartley")
    PracticeMember.objects.create(practice=practice, user=admin, role="admin")
    return admin


def test_upload_fix_drop_and_import(page, live_server, practice_admin, console_messages, screenshot):
    sign_in(page, practice_admin.email, PASSWORD)
    page.goto("/partner/clients/")
    page.get_by_role("link", name="Import CSV").first.click()  # the toolbar's (an empty tab offers it too)
    page.get_by_label("CSV file").set_input_files(
        files=[{"name": "clients.csv", "mimeType": "text/csv", "buffer": CSV.encode()}]
    )
    page.get_by_role("button", name="Upload and preview").click()

    counts = page.locator("#import-counts")
    expect(counts).to_contain_text("4 rows: 3 ready to import, 1 with problems, 0 dropped.")
    expect(page.locator("#row-2")).to_contain_text("Enter a valid email address.")
    screenshot("practice-import-preview")

    # Fix the bad row.
    page.get_by_role("link", name="Fix row 2").click()
    expect(page.get_by_label("Email")).to_have_value("bob@beta")
    page.get_by_label("Email").fill("bob@beta.test")
    page.get_by_role("button", name="Save row").click()
    expect(page.get_by_role("status")).to_contain_text("Row 2 is ready to import.")

    # Drop another.
    page.get_by_role("button", name="Drop row 3").click()
    expect(page.get_by_role("status")).to_contain_text("Row 3 dropped.")
    expect(counts).to_contain_text("4 rows: 3 ready to import, 0 with problems, 1 dropped.")

    page.get_by_role("button", name="Import 3 clients").click()
    expect(page.get_by_role("status")).to_contain_text("3 clients imported to your Imported tab. 1 row not imported.")
    table = page.get_by_role("table")
    expect(table.get_by_role("row")).to_have_count(4)
    for name in ("Alpha Bakery", "Beta Joinery", "Gamma Garage"):
        expect(table).to_contain_text(name)
    expect(table).not_to_contain_text("Test Row Please Ignore")
    screenshot("practice-import-imported-tab")
    assert Client.objects.filter(tab="imported").count() == 3
    assert Client.objects.get(business_name="Beta Joinery").email == "bob@beta.test"

    assert csp_violations(console_messages) == []
    assert console_errors(console_messages) == []
