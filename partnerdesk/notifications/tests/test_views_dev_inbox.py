from datetime import timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from partnerdesk.notifications.models import DevMail
from partnerdesk.notifications.services import send_email

pytestmark = pytest.mark.django_db


@pytest.fixture
def inbox_on(settings):
    settings.DEV_INBOX_ENABLED = True
    settings.EMAIL_BACKEND = "partnerdesk.notifications.backends.DevInboxBackend"


def _mail(subject: str, minutes_ago: int, html: str = "") -> DevMail:
    return DevMail.objects.create(
        subject=subject,
        from_email="no-reply@partnerdesk.invalid",
        to=["sam@example.test"],
        body_text=f"Body of {subject} https://example.test/link",
        body_html=html,
        received_at=timezone.now() - timedelta(minutes=minutes_ago),
    )


@pytest.mark.django_db(transaction=True)
def test_emails_sent_by_the_worker_land_in_the_inbox(inbox_on, run_worker):
    with transaction.atomic():
        outbound = send_email(
            template="api-token-created",
            to="sam@example.test",
            context={
                "email": "sam@example.test",
                "full_name": "Sam",
                "token_name": "laptop",
                "token_hint": "pdt_x",
                "created_at": "today",
                "expires_at": "soon",
            },
        )
    run_worker()
    mail = DevMail.objects.get()
    assert mail.subject == "A new API token was added to your Partnerdesk account"
    assert mail.to == ["sam@example.test"]
    assert mail.message_id == outbound.message_id
    assert "<strong>laptop</strong>" in mail.body_html


def test_list_shows_newest_first(client, inbox_on):
    _mail("Older", 10)
    _mail("Newer", 1)
    response = client.get(reverse("notifications:dev_mail_list"))
    assert response.status_code == 200
    body = response.content.decode()
    assert body.index("Newer") < body.index("Older")
    assert '<th scope="col">Subject</th>' in body


def test_detail_page_shows_list_and_message_in_side_panel(client, inbox_on):
    mail = _mail("Your code", 1)
    response = client.get(reverse("notifications:dev_mail_detail", args=[mail.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="side-panel"' in body
    assert "Body of Your code" in body
    assert '<a href="https://example.test/link"' in body  # links in the email are clickable


def test_the_text_part_is_shown_as_written(client, inbox_on):
    """Web addresses become links; everything else is the email's own text, escaped (Django's urlize dropped the
    full stop in "(someone@example.test). This")."""
    mail = DevMail.objects.create(
        subject="Already in use",
        from_email="no-reply@partnerdesk.invalid",
        to=["sam@example.test"],
        body_text="this address (sam@example.test). This <b>is</b> it: https://example.test/a?b=1&c=2.\n",
        received_at=timezone.now(),
    )
    body = client.get(reverse("notifications:dev_mail_detail", args=[mail.pk])).content.decode()
    assert (
        "this address (sam@example.test). This &lt;b&gt;is&lt;/b&gt; it: "
        '<a href="https://example.test/a?b=1&amp;c=2">https://example.test/a?b=1&amp;c=2</a>.'
    ) in body


def test_detail_for_htmx_returns_only_the_panel(client, inbox_on):
    mail = _mail("Your code", 1)
    response = client.get(reverse("notifications:dev_mail_detail", args=[mail.pk]), headers={"HX-Request": "true"})
    body = response.content.decode()
    assert "Body of Your code" in body
    assert "<html" not in body


def test_html_part_is_served_sandboxed(client, inbox_on):
    mail = _mail("Fancy", 1, html="<p>Hello<script>alert(1)</script></p>")
    response = client.get(reverse("notifications:dev_mail_html", args=[mail.pk]))
    assert response.status_code == 200
    assert response["Content-Security-Policy"].startswith("sandbox;")
    assert "script-src" not in response["Content-Security-Policy"]  # default-src 'none' blocks scripts


def test_html_part_missing_is_404(client, inbox_on):
    mail = _mail("Plain", 1)
    assert client.get(reverse("notifications:dev_mail_html", args=[mail.pk])).status_code == 404


@pytest.mark.parametrize("name", ["dev_mail_list", "dev_mail_detail", "dev_mail_html"])
def test_inbox_is_off_without_debug(client, settings, name):
    settings.DEV_INBOX_ENABLED = False
    mail = _mail("Secret code", 1, html="<p>x</p>")
    args = [] if name == "dev_mail_list" else [mail.pk]
    response = client.get(reverse(f"notifications:{name}", args=args))
    assert response.status_code == 404
    assert b"Secret code" not in response.content
