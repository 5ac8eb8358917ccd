import datetime as dt
from decimal import Decimal

import pytest

from partnerdesk.audit.models import Action, Event
from partnerdesk.billing import selectors, services
from partnerdesk.billing.models import Service, ServicePrice
from partnerdesk.billing.tests.subscription_factories import LONG_AGO, make_practice, make_service
from partnerdesk.identity.tests.factories import UserFactory
from partnerdesk.lib.errors import Conflict, DomainError

pytestmark = pytest.mark.django_db


def test_seeded_catalogue_lists_active_services_with_their_current_rrp():
    catalogue = {s.code: getattr(s, "monthly_rrp", None) for s in selectors.catalogue()}
    assert catalogue["accounting-standard"] == Decimal("30.00")
    assert catalogue["payroll"] == Decimal("10.00")
    assert set(catalogue) >= {"accounting-start", "accounting-plus", "final-accounts"}


def test_inactive_service_is_not_in_the_catalogue():
    make_service("t-old").__class__.objects.filter(code="t-old").update(is_active=False)
    assert "t-old" not in {s.code for s in selectors.catalogue()}


def test_price_in_force_follows_the_effective_date():
    service = make_service("t-priced", "30.00")
    ServicePrice.objects.create(service=service, monthly_rrp=Decimal("33.00"), effective_from=dt.date(2026, 4, 1))
    assert selectors.price_in_force(service=service, on=dt.date(2026, 3, 31)) == Decimal("30.00")
    assert selectors.price_in_force(service=service, on=dt.date(2026, 4, 1)) == Decimal("33.00")
    assert selectors.price_in_force(service=service, on=LONG_AGO - dt.timedelta(days=1)) is None


def test_price_change_adds_a_row_keeps_history_and_is_audited():
    service = make_service("t-change", "30.00")
    actor = UserFactory.create(is_staff=True)
    starts = selectors.today() + dt.timedelta(days=10)
    services.service_price_set(service=service, monthly_rrp=Decimal("35.50"), effective_from=starts, actor=actor)
    assert list(service.prices.order_by("effective_from").values_list("monthly_rrp", flat=True)) == [
        Decimal("30.00"),
        Decimal("35.50"),
    ]
    assert selectors.price_in_force(service=service, on=starts - dt.timedelta(days=1)) == Decimal("30.00")
    assert selectors.price_in_force(service=service, on=starts) == Decimal("35.50")
    event = Event.objects.get(action=Action.PRICE_CHANGE)
    assert event.data == {"service": "t-change", "monthly_rrp": "35.50", "effective_from": starts.isoformat()}
    assert event.actor == actor


def test_price_change_cannot_reach_back_into_invoiced_months():
    service = make_service("t-back", "30.00")
    last_month = selectors.today().replace(day=1) - dt.timedelta(days=1)
    with pytest.raises(DomainError) as exc:
        services.service_price_set(service=service, monthly_rrp=Decimal("1"), effective_from=last_month, actor=None)
    assert exc.value.code == "date_in_past"


def test_price_change_on_a_date_that_already_has_a_price_is_refused():
    service = make_service("t-dup", "30.00")
    day = selectors.today() + dt.timedelta(days=3)
    services.service_price_set(service=service, monthly_rrp=Decimal("31"), effective_from=day, actor=None)
    with pytest.raises(Conflict):
        services.service_price_set(service=service, monthly_rrp=Decimal("32"), effective_from=day, actor=None)


def test_negative_price_is_refused():
    with pytest.raises(DomainError) as exc:
        services.service_price_set(
            service=make_service("t-neg"), monthly_rrp=Decimal("-1"), effective_from=selectors.today(), actor=None
        )
    assert exc.value.code == "price_invalid"


def test_practice_discount_change_is_dated_audited_and_range_checked():
    setup = make_practice(discount="20.00")
    actor = UserFactory.create(is_staff=True)
    today = selectors.today()
    row = services.practice_discount_set(practice=setup.practice, rate=Decimal("25"), actor=actor)
    assert row is not None
    assert (row.rate, row.effective_from) == (Decimal("25.00"), today)
    assert selectors.discount_rate_in_force(practice=setup.practice, on=today) == Decimal("25.00")
    assert selectors.discount_rate_in_force(practice=setup.practice, on=today - dt.timedelta(days=1)) == Decimal("20")
    event = Event.objects.get(action=Action.PRACTICE_DISCOUNT_CHANGE)
    assert event.practice_id == setup.practice.pk
    assert event.data == {"old": "20.00", "new": "25.00", "effective_from": today.isoformat()}
    with pytest.raises(DomainError):
        services.practice_discount_set(practice=setup.practice, rate=Decimal("101"), actor=actor)
    with pytest.raises(Conflict):  # one row a day: history is never edited
        services.practice_discount_set(practice=setup.practice, rate=Decimal("30"), actor=actor)
    with pytest.raises(DomainError) as past:
        services.practice_discount_set(
            practice=setup.practice,
            rate=Decimal("30"),
            effective_from=today.replace(day=1) - dt.timedelta(days=1),
            actor=actor,
        )
    assert past.value.code == "date_in_past"
    # The same rate as the one in force that day changes nothing.
    later = today + dt.timedelta(days=40)
    assert (
        services.practice_discount_set(practice=setup.practice, rate=Decimal("25"), effective_from=later, actor=None)
        is None
    )
    assert Event.objects.filter(action=Action.PRACTICE_DISCOUNT_CHANGE).count() == 1


def test_back_office_adds_a_price_row_and_never_edits_old_ones(client):
    admin_user = UserFactory.create(is_staff=True, is_superuser=True)
    client.force_login(admin_user)
    service = make_service("t-admin", "30.00", name="Admin Test Service")
    old = service.prices.get()
    starts = selectors.today() + dt.timedelta(days=5)
    response = client.post(
        f"/admin/billing/service/{service.pk}/change/",
        {
            "code": service.code,
            "name": service.name,
            "product": service.product,
            "sort_order": "0",
            "is_active": "on",
            # Only a new row: the prices already written are a table on the page, not a form.
            "prices-TOTAL_FORMS": "1",
            "prices-INITIAL_FORMS": "0",
            "prices-MIN_NUM_FORMS": "0",
            "prices-MAX_NUM_FORMS": "1000",
            "prices-0-service": str(service.pk),
            "prices-0-effective_from": starts.isoformat(),
            "prices-0-monthly_rrp": "36.00",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    old.refresh_from_db()
    assert old.monthly_rrp == Decimal("30.00")
    assert ServicePrice.objects.get(service=service, effective_from=starts).monthly_rrp == Decimal("36.00")
    assert Event.objects.filter(action=Action.PRICE_CHANGE, data__service="t-admin").count() == 1
    # An existing row posted as if editable is refused, not applied.
    tampered = response.wsgi_request.POST.copy()
    tampered.update({"prices-INITIAL_FORMS": "1", "prices-0-id": str(old.pk), "prices-0-monthly_rrp": "99.00"})
    tampered["prices-0-effective_from"] = "2020-01-01"
    client.post(f"/admin/billing/service/{service.pk}/change/", tampered)
    old.refresh_from_db()
    assert (old.monthly_rrp, ServicePrice.objects.filter(service=service).count()) == (Decimal("30.00"), 2)
    # The page: every price in pounds from its date as people write them; a negative price is a field error.
    page = client.get(f"/admin/billing/service/{service.pk}/change/").content.decode()
    assert f"<td>{starts.day} {starts:%B %Y}</td><td>£36.00</td>" in page
    assert f"<td>{old.effective_from.day} {old.effective_from:%B %Y}</td><td>£30.00</td>" in page
    negative = response.wsgi_request.POST.copy()
    negative["prices-0-monthly_rrp"], negative["prices-0-effective_from"] = (
        "-1.00",
        (starts + dt.timedelta(days=1)).isoformat(),
    )
    refused = client.post(f"/admin/billing/service/{service.pk}/change/", negative)
    assert refused.status_code == 200
    errors = refused.context["inline_admin_formsets"][0].formset.forms[0].errors
    assert errors == {"monthly_rrp": ["Enter a monthly price of £0.00 or more."]}
    assert "service_price_not_negative" not in refused.content.decode()


def test_back_office_discount_change_goes_through_the_audited_service(client):
    admin_user = UserFactory.create(is_staff=True, is_superuser=True)
    client.force_login(admin_user)
    setup = make_practice("Discount LLP", discount="10.00")
    practice = setup.practice
    response = client.post(
        f"/admin/practice/practice/{practice.pk}/change/",
        {
            "company": str(practice.company_id),
            "name": practice.name,
            "contact_email": "",
            "new_discount_rate": "15.00",
            "new_discount_from": "",
            "created_at_0": practice.created_at.strftime("%Y-%m-%d"),
            "created_at_1": practice.created_at.strftime("%H:%M:%S"),
            "members-TOTAL_FORMS": "1",
            "members-INITIAL_FORMS": "1",
            "members-MIN_NUM_FORMS": "0",
            "members-MAX_NUM_FORMS": "1000",
            "members-0-id": str(setup.member.pk),
            "members-0-practice": str(practice.pk),
            "members-0-user": str(setup.admin.pk),
            "members-0-role": "admin",
            "members-0-sees_all_clients": "on",
            "members-0-created_at_0": setup.member.created_at.strftime("%Y-%m-%d"),
            "members-0-created_at_1": setup.member.created_at.strftime("%H:%M:%S"),
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert selectors.discount_rate_in_force(practice=practice, on=selectors.today()) == Decimal("15.00")
    assert list(practice.discounts.values_list("rate", "effective_from")) == [
        (Decimal("15.00"), selectors.today()),
        (Decimal("10.00"), LONG_AGO),  # the earlier rate is kept for the months before
    ]
    assert Event.objects.filter(action=Action.PRACTICE_DISCOUNT_CHANGE, practice=practice).count() == 1
    # A second rate on the same day, or one dated in an invoiced month, is a form error: nothing saved.
    client.get(response.url)  # shows (and uses up) the first change's "changed successfully"
    form = response.wsgi_request.POST.copy()
    for when in ("", (selectors.today().replace(day=1) - dt.timedelta(days=1)).isoformat()):
        form["new_discount_rate"], form["new_discount_from"], form["name"] = "25.00", when, "Renamed LLP"
        refused = client.post(f"/admin/practice/practice/{practice.pk}/change/", form)
        assert refused.status_code == 200
        assert "errorlist" in refused.content.decode()
        assert "changed successfully" not in refused.content.decode()
    practice.refresh_from_db()
    assert practice.name == "Discount LLP"
    assert practice.discounts.count() == 2


def test_service_is_not_deletable_in_the_back_office(client):
    client.force_login(UserFactory.create(is_staff=True, is_superuser=True))
    service = Service.objects.get(code="payroll")
    assert client.get(f"/admin/billing/service/{service.pk}/delete/").status_code == 403


def test_prices_and_discounts_read_as_people_write_them():
    service = make_service("t-str", "1234.50", name="Str Service")
    price = service.prices.get()
    price.effective_from = dt.date(2026, 1, 1)
    assert str(price) == "Str Service: £1,234.50 from 1 January 2026"
    setup = make_practice("Str LLP", discount="20.00")
    discount = setup.practice.discounts.get()
    discount.effective_from = dt.date(2026, 1, 1)
    assert str(discount) == "Str LLP: 20.00% from 1 January 2026"
