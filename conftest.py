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


@pytest.fixture(autouse=True)
def _static_files_without_manifest(settings):
    """Tests run without `collectstatic`; production keeps the hashed-manifest storage."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _fresh_local_cache():
    """Per-process throttles must not leak between tests."""
    from django.core.cache import caches

    caches["local"].clear()


@pytest.fixture(autouse=True)
def _clean_shared_cache(request):
    """Rate-limit counters live in the shared (database) cache, which test rollbacks and flushes do not
    touch: every database test starts from none."""
    if request.node.get_closest_marker("django_db") is not None:
        request.getfixturevalue("_django_db_helper")
        from django.core.cache import cache

        cache.clear()
