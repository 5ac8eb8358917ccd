from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from partnerdesk.backoffice.models import PeriodicRun
from partnerdesk.backoffice.periodic import SCHEDULE, enqueue_due

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 11, 22, 10, 0, 5, tzinfo=UTC)


def test_each_job_is_enqueued_once_per_slot_however_many_schedulers_check():
    assert enqueue_due(now=T0) == [p.name for p in SCHEDULE]
    assert enqueue_due(now=T0 + timedelta(minutes=30)) == []  # same hourly slot, another scheduler
    assert DBTaskResult.objects.count() == len(SCHEDULE)
    hourly = [p.name for p in SCHEDULE if p.every_seconds <= 3600]
    assert enqueue_due(now=T0 + timedelta(hours=1)) == hourly  # daily jobs wait for their next day
    assert PeriodicRun.objects.count() == len(SCHEDULE) + len(hourly)


def test_scheduler_command_once(capsys):
    call_command("scheduler", "--once")
    assert "enqueued identity.expire_access_requests" in capsys.readouterr().out
    assert DBTaskResult.objects.filter(task_path="partnerdesk.identity.tasks.expire_access_requests").count() == 1
