import pytest
from argon2 import PasswordHasher, extract_parameters
from django.contrib.auth.hashers import check_password, identify_hasher
from django.db import IntegrityError

from partnerdesk.identity.models import User

pytestmark = pytest.mark.django_db


def test_passwords_are_hashed_with_argon2id_owasp_parameters():
    user = User.objects.create_user(email="a@example.test", password="a long enough passphrase")
    assert identify_hasher(user.password).algorithm == "argon2id_owasp"
    encoded = user.password.split("$", 1)[1]
    params = extract_parameters("$" + encoded)
    assert (params.type.name, params.time_cost, params.memory_cost, params.parallelism) == ("ID", 2, 19 * 1024, 1)
    assert user.check_password("a long enough passphrase")
    assert not user.check_password("wrong")


def test_hashes_from_django_default_argon2_still_verify():
    legacy = "argon2" + PasswordHasher().hash("old password here")  # library default parameters
    assert check_password("old password here", legacy)


def test_email_is_the_login_and_unique_ignoring_case():
    User.objects.create_user(email="Person@Example.test", password="x" * 12)
    assert User.objects.get_by_natural_key("PERSON@example.TEST").email == "person@example.test"
    with pytest.raises(IntegrityError):
        User.objects.create_user(email="person@EXAMPLE.test", password="x" * 12)


def test_superuser_is_staff():
    admin = User.objects.create_superuser(email="root@example.test", password="x" * 12)
    assert admin.is_staff
    assert admin.is_superuser
