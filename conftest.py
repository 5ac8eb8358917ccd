import os

import pytest


@pytest.fixture(autouse=True, scope="session")
def _database_vendor_is_the_expected_one(django_db_setup, django_db_blocker):
    """make test runs the suite twice; make sure each run really used the database it claims to."""
    expected = os.environ.get("EXPECT_DB_VENDOR")
    if expected:
        from django.db import connection

        if connection.vendor != expected:
            pytest.exit(f"expected the {expected} database, got {connection.vendor}", returncode=3)
