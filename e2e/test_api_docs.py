import pytest
from playwright.sync_api import expect

from e2e.conftest import console_errors, csp_violations

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_api_docs_render_under_the_content_security_policy(page, live_server, console_messages, screenshot):
    response = page.goto("/api/v1/docs")
    assert response.status == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]

    # Swagger UI (served from ninja's static files) builds the page from the OpenAPI document.
    expect(page.get_by_role("heading", name="Partnerdesk API")).to_be_visible()
    expect(page.get_by_role("link", name="/api/v1/openapi.json")).to_be_visible()
    operation = page.locator(".opblock").filter(has_text="/api/v1/me").first
    expect(operation).to_be_visible()
    screenshot("api-docs")

    # Try it out: the request runs from the page (connect-src falls back to 'self') and shows the API's answer.
    operation.locator(".opblock-summary").click()
    page.get_by_role("button", name="Try it out").click()
    with page.expect_response(f"{live_server.url}/api/v1/me") as api_response:
        page.get_by_role("button", name="Execute").click()
    assert api_response.value.status == 401
    expect(operation.locator(".responses-table.live-responses-table")).to_contain_text("401")
    screenshot("api-docs-try-it-out")

    assert csp_violations(console_messages) == []
    # The only error is the browser's note of the expected 401 above.
    assert [m for m in console_errors(console_messages) if "status of 401" not in m] == []
