import pytest
from django.urls import reverse

from partnerdesk.api.models import PersonalAccessToken
from partnerdesk.api.services import token_create
from partnerdesk.identity.tests.factories import UserFactory
from partnerdesk.lib.tokens import hash_token

pytestmark = pytest.mark.django_db
URL = "/account/api-tokens/"


@pytest.fixture
def user_client(client):
    user = UserFactory.create()
    client.force_login(user)
    client.user = user
    return client


def test_page_needs_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_create_shows_token_once_and_lists_it(user_client):
    response = user_client.post(URL, {"name": "Nightly export", "days": "30"}, follow=True)
    assert response.redirect_chain == [(URL, 302)]  # a reload or Back cannot create a second token
    assert response["Cache-Control"] == "no-store"
    token = response.context["created_token"]
    assert token.startswith("pdt_")
    assert token in response.content.decode()
    assert PersonalAccessToken.objects.get(user=user_client.user).token_hash == hash_token(token)
    again = user_client.get(URL).content.decode()  # the reload: listed, never shown again
    assert "Nightly export" in again
    assert token not in again
    assert PersonalAccessToken.objects.filter(user=user_client.user).count() == 1


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": "", "days": "30"}, "name", "This field is required."),
        ({"name": "x", "days": "0"}, "days", "Ensure this value is greater than or equal to 1."),
        ({"name": "x", "days": "abc"}, "days", "Enter a whole number."),
    ],
)
def test_bad_input_gets_inline_errors_and_keeps_input(user_client, data, field, message):
    response = user_client.post(URL, data)
    assert response.status_code == 200
    assert response.context["form"].errors[field] == [message]
    assert f'id="id_{field}_error"' in response.content.decode()
    assert not PersonalAccessToken.objects.exists()


def test_revoke_own_token(user_client):
    user_client.post(URL, {"name": "Old", "days": "30"})
    token = PersonalAccessToken.objects.get()
    response = user_client.post(f"{URL}{token.pk}/revoke/", follow=True)
    assert "Token “Old” revoked" in response.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_revoking_someone_elses_token_changes_nothing(user_client, client):
    other = UserFactory.create()
    token, _ = token_create(user=other, name="theirs")
    response = user_client.post(f"{URL}{token.pk}/revoke/", follow=True)
    assert "No such token" in response.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is None


def test_revoke_refuses_get(user_client):
    assert user_client.get(f"{URL}1/revoke/").status_code == 405


def test_token_list_query_count_does_not_grow_with_tokens(user_client, django_assert_max_num_queries):
    """Each row's Active/Expired reads the token's login: joined once, not fetched per token."""
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    PersonalAccessToken.objects.bulk_create(
        [
            PersonalAccessToken(
                user=user_client.user,
                name=f"Token {i}",
                token_hash=hash_token(f"token-{i}"),
                hint=f"pdt_{i:04d}",
                created_at=now - timedelta(days=60),
                expires_at=now + timedelta(days=-1 if i % 3 == 0 else 30),
            )
            for i in range(25)
        ]
    )
    user_client.get(URL)  # the first request records the device (usersessions): not what is counted
    with django_assert_max_num_queries(6):  # session, user, device, nav, tokens: 20 without the join
        response = user_client.get(URL)
    page = response.content.decode()
    assert page.count(">Active<") == 16
    assert page.count(">Expired<") == 9
