import socket
import threading
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message

import pytest
from aiosmtpd.controller import Controller
from django.core.management import call_command


@dataclass
class SinkHandler:
    """An SMTP server's behaviour: accept and keep messages, or answer every DATA with a 4xx."""

    fail: bool = False
    messages: list[Message] = field(default_factory=list)
    refused: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            if self.fail:
                self.refused += 1
                return "451 4.3.0 Temporary failure, try again later"
            self.messages.append(message_from_bytes(envelope.original_content or envelope.content))
        return "250 2.0.0 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_sink(settings):
    """A real SMTP server on 127.0.0.1 (aiosmtpd), with Django's SMTP backend pointed at it."""
    handler = SinkHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    yield handler
    controller.stop()


@pytest.fixture
def run_worker():
    """Run the real task worker until no task is due, as `manage.py db_worker --batch` does."""

    def run() -> None:
        call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", "--queue-name", "*", verbosity=0)

    return run


@pytest.fixture(autouse=True)
def _quiet_smtp_server_log():
    import logging

    logging.getLogger("mail.log").setLevel(logging.WARNING)
