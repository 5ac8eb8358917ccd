import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from partnerdesk.billing.invoicing import invoice_run, next_month, previous_month


def _period(value: str) -> dt.date:
    try:
        return dt.datetime.strptime(value, "%Y-%m").date()
    except ValueError:
        raise CommandError(f"--period must be YYYY-MM, got {value!r}") from None


class Command(BaseCommand):
    help = "Issue the monthly invoices for one calendar month (default: last month). Idempotent: safe to rerun."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--period", help="The month to invoice, YYYY-MM (default: the previous month).")

    def handle(self, *args: Any, period: str | None = None, **options: Any) -> None:
        today = timezone.localdate()
        month = _period(period) if period else previous_month(today)
        if next_month(month) > today:
            # Invoices are in arrears: a month billed before it ends would never bill what changes later in it.
            last_day = next_month(month) - dt.timedelta(days=1)
            raise CommandError(
                f"{month:%B %Y} has not ended: its invoices can be issued from {next_month(month):%-d %B %Y} "
                f"(the run bills whole months in arrears, up to {last_day:%-d %B %Y})."
            )
        result = invoice_run(period=month)
        self.stdout.write(
            f"Invoice run for {month:%Y-%m}: {result.invoices_created} invoices issued "
            f"({result.lines_created} lines, net £{result.net_total}, VAT £{result.vat_total}, "
            f"total £{result.total}); {result.invoices_existing} already issued, left unchanged."
        )
