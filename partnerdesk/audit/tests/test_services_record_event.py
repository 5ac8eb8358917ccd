import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory

from partnerdesk.audit.models import Action, AppendOnlyError, Event
from partnerdesk.audit.services import record_event
from partnerdesk.identity.tests.factories import UserFactory

pytestmark = pytest.mark.django_db
ON_POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


def test_record_event_stores_actor_ip_and_data():
    user = UserFactory.create()
    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.7")
    with transaction.atomic():
        event = record_event(action=Action.API_TOKEN_CREATE, actor=user, request=request, data={"token_id": 3})
    stored = Event.objects.get(pk=event.pk)
    assert (stored.action, stored.actor_id, stored.actor_email, stored.ip, stored.data) == (
        "api.token.create",
        user.pk,
        user.email,
        "203.0.113.7",
        {"token_id": 3},
    )


@pytest.mark.django_db(transaction=True)
def test_record_event_refuses_to_run_outside_a_transaction():
    with pytest.raises(RuntimeError, match="inside the service's transaction"):
        record_event(action=Action.DEMO_LOAD)
    assert not Event.objects.exists()


def test_record_event_rolls_back_with_the_callers_transaction():
    def service_that_fails_after_auditing() -> None:
        with transaction.atomic():
            record_event(action=Action.DEMO_LOAD)
            raise ZeroDivisionError

    before = Event.objects.count()
    with pytest.raises(ZeroDivisionError):
        service_that_fails_after_auditing()
    assert Event.objects.count() == before


def test_record_event_rejects_unknown_actions():
    with pytest.raises(ValueError, match="unknown audit action"), transaction.atomic():
        record_event(action="made.up.action")  # type: ignore[arg-type]


def test_events_cannot_be_updated_or_deleted_through_the_orm():
    with transaction.atomic():
        event = record_event(action=Action.DEMO_LOAD)
    event.data = {"tampered": True}
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        Event.objects.filter(pk=event.pk).update(data={"tampered": True})
    with pytest.raises(AppendOnlyError):
        Event.objects.filter(pk=event.pk).delete()
    assert Event.objects.get(pk=event.pk).data == {}


@pytest.mark.skipif(not ON_POSTGRES, reason="the append-only trigger exists on PostgreSQL only (see docs/decisions.md)")
@pytest.mark.parametrize(
    "sql", ["UPDATE audit_event SET data = '{}' WHERE id = %s", "DELETE FROM audit_event WHERE id = %s"]
)
def test_postgres_refuses_update_and_delete_in_sql(sql):
    with transaction.atomic():
        event = record_event(action=Action.DEMO_LOAD, data={"kept": 1})
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [event.pk])
    assert Event.objects.get(pk=event.pk).data == {"kept": 1}
