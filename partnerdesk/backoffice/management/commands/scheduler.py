import signal
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections
from django.utils import timezone

from partnerdesk.backoffice.periodic import enqueue_due


class Command(BaseCommand):
    help = "Enqueue periodic jobs when they are due (safe to run on several machines at once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--interval", type=float, default=30.0, help="Seconds between checks.")
        parser.add_argument("--once", action="store_true", help="Check once and exit.")

    def handle(self, *args: Any, interval: float = 30.0, once: bool = False, **options: Any) -> None:
        running = True

        def stop(signum: int, frame: object) -> None:
            nonlocal running
            running = False

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        while running:
            for name in enqueue_due(now=timezone.now()):
                self.stdout.write(f"enqueued {name}")
            if once:
                return
            slept = 0.0
            while running and slept < interval:
                time.sleep(0.5)
                slept += 0.5
            close_old_connections()  # like a request's end: drop broken or expired connections
