from __future__ import annotations

from collections.abc import Sequence

from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.core.mail.backends.console import EmailBackend as ConsoleBackend

from partnerdesk.notifications.models import DevMail


class DevInboxBackend(ConsoleBackend):
    """DEBUG-only email backend: prints each message and keeps a copy for /dev/mail/."""

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        for message in email_messages:
            html = ""
            if isinstance(message, EmailMultiAlternatives):
                html = next((str(content) for content, mimetype in message.alternatives if mimetype == "text/html"), "")
            DevMail.objects.create(
                message_id=str(message.extra_headers.get("Message-ID", "")),
                from_email=str(message.from_email),
                to=list(message.to) + list(message.cc) + list(message.bcc),
                subject=str(message.subject),
                body_text=str(message.body),
                body_html=html,
            )
        return super().send_messages(email_messages)
