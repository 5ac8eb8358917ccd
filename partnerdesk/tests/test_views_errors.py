"""The 404 and 500 pages with DEBUG off (Django's bare "Not Found" / "Server Error" otherwise)."""

import pytest
from django.template.loader import render_to_string
from django.test import Client as HttpClient
from django.test import override_settings
from django.urls import path

from partnerdesk.identity.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@override_settings(DEBUG=False)
def test_404_page_says_the_page_does_not_exist_or_no_access_and_links_home():
    user = UserFactory.create()
    client = HttpClient()
    client.force_login(user)
    response = client.get("/partner/no-such-page/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "<h1>Page not found</h1>" in body
    assert "doesn't exist, or you no longer have access to it" in body
    assert '<a href="/">Home</a>' in body
    assert 'class="site-header"' in body  # the site's own layout (base.html), not the bare "Not Found"


@override_settings(DEBUG=False)
def test_404_page_for_anonymous_visitors():
    response = HttpClient().get("/no-such-page/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


@override_settings(DEBUG=False)
def test_500_page_renders_without_any_context():
    body = render_to_string("500.html")  # Django renders it with an empty context
    assert "Something went wrong" in body
    assert 'href="/"' in body


def _boom(request):
    raise RuntimeError("boom")


urlpatterns = [path("boom/", _boom)]


@override_settings(DEBUG=False, ROOT_URLCONF=__name__)
def test_500_page_is_served_on_an_unhandled_error():
    response = HttpClient(raise_request_exception=False).get("/boom/")
    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()
