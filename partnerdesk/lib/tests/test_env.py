import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from partnerdesk.lib.env import (
    env_base_url,
    env_bool,
    env_email,
    env_int,
    env_lines,
    env_list,
    env_vat_number,
    parse_database_url,
    parse_email_url,
    parse_fernet_keys,
)

BASE = Path("/srv/app")
FERNET = "mfA1cPz8y3q5qzq4RkC1QnW6vD1x8lV7Q1pD8yWm3KY="


@pytest.mark.parametrize(
    ("raw", "expected"), [("1", True), ("TRUE", True), ("yes", True), ("off", False), ("0", False)]
)
def test_env_bool_accepts_common_spellings(raw, expected):
    assert env_bool("DEBUG", environ={"DEBUG": raw}) is expected


def test_env_bool_uses_default_when_unset():
    assert env_bool("DEBUG", True, environ={}) is True


def test_env_bool_rejects_garbage_naming_the_variable():
    with pytest.raises(ImproperlyConfigured, match="DEBUG must be a boolean"):
        env_bool("DEBUG", environ={"DEBUG": "maybe"})


def test_env_int_parses_and_checks_range():
    assert env_int("PORT", 8000, minimum=1, maximum=65535, environ={"PORT": "9000"}) == 9000
    with pytest.raises(ImproperlyConfigured, match="PORT must be an integer"):
        env_int("PORT", 8000, environ={"PORT": "80a"})
    with pytest.raises(ImproperlyConfigured, match="PORT must be at most 65535"):
        env_int("PORT", 8000, maximum=65535, environ={"PORT": "70000"})


def test_env_list_splits_and_rejects_empty_items():
    assert env_list("ALLOWED_HOSTS", [], environ={"ALLOWED_HOSTS": "a.test, b.test"}) == ["a.test", "b.test"]
    with pytest.raises(ImproperlyConfigured, match="ALLOWED_HOSTS"):
        env_list("ALLOWED_HOSTS", [], environ={"ALLOWED_HOSTS": "a.test,,b.test"})


def test_env_email_and_base_url_validate():
    assert env_email("ADMIN_TEAM_EMAIL", "x@y.test", environ={}) == "x@y.test"
    with pytest.raises(ImproperlyConfigured, match="ADMIN_TEAM_EMAIL must be an email"):
        env_email("ADMIN_TEAM_EMAIL", "", environ={"ADMIN_TEAM_EMAIL": "not-an-email"})
    assert env_base_url("BASE_URL", "", environ={"BASE_URL": "https://pd.example.com/"}) == "https://pd.example.com"
    with pytest.raises(ImproperlyConfigured, match="BASE_URL must be an absolute"):
        env_base_url("BASE_URL", "", environ={"BASE_URL": "pd.example.com"})


def test_database_url_sqlite_relative_path_is_under_base_dir():
    config = parse_database_url("DATABASE_URL", "sqlite:///var/db.sqlite3", base_dir=BASE, environ={})
    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["NAME"] == "/srv/app/var/db.sqlite3"
    assert "journal_mode=WAL" in config["OPTIONS"]["init_command"]


def test_database_url_postgres():
    config = parse_database_url(
        "DATABASE_URL", "", base_dir=BASE, environ={"DATABASE_URL": "postgres://u:p%40ss@db.internal:6543/pd"}
    )
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["HOST"], config["PORT"], config["NAME"], config["USER"], config["PASSWORD"]) == (
        "db.internal",
        6543,
        "pd",
        "u",
        "p@ss",
    )


@pytest.mark.parametrize(
    "bad", ["mysql://u@h/db", "nonsense", "postgres://host:5432", "sqlite://", "sqlite:///:memory:"]
)
def test_database_url_rejects_malformed_values(bad):
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL"):
        parse_database_url("DATABASE_URL", "", base_dir=BASE, environ={"DATABASE_URL": bad})


def test_email_url_smtp_with_starttls_and_credentials():
    config = parse_email_url("EMAIL_URL", "smtp://me%40x.test:s3cret@mail.x.test:587?tls=1&timeout=5")
    assert config == {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "mail.x.test",
        "EMAIL_PORT": 587,
        "EMAIL_HOST_USER": "me@x.test",
        "EMAIL_HOST_PASSWORD": "s3cret",
        "EMAIL_USE_SSL": False,
        "EMAIL_USE_TLS": True,
        "EMAIL_TIMEOUT": 5,
    }


def test_email_url_smtps_defaults_to_port_465():
    config = parse_email_url("EMAIL_URL", "smtps://mail.x.test")
    assert (config["EMAIL_PORT"], config["EMAIL_USE_SSL"]) == (465, True)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("http://mail.x.test", "must start with smtp://"),
        ("smtp://", "must name a host"),
        ("smtp://mail.x.test:99999", "invalid port"),
        ("smtp://mail.x.test?tsl=1", "unknown options"),
        ("smtps://mail.x.test?tls=1", "already uses TLS"),
    ],
)
def test_email_url_rejects_malformed_values(bad, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        parse_email_url("EMAIL_URL", bad)


def test_fernet_keys_accept_rotation_list_and_reject_bad_keys():
    assert parse_fernet_keys("FIELD_ENCRYPTION_KEY", f"{FERNET}, {FERNET}") == [FERNET, FERNET]
    with pytest.raises(ImproperlyConfigured, match="FIELD_ENCRYPTION_KEY must be comma-separated Fernet keys"):
        parse_fernet_keys("FIELD_ENCRYPTION_KEY", "too-short")


def _import_settings(**env):
    """Import the settings module in a fresh interpreter with exactly this environment."""
    clean = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG"}}
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-c", "import partnerdesk.settings"],
        env=clean,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[3],
        check=False,
    )


def _rsa_pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


PRODUCTION = {
    "OIDC_PRIVATE_KEY": _rsa_pem(),
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_urlsafe(60),
    "FIELD_ENCRYPTION_KEY": FERNET,
    "EMAIL_URL": "smtp://mail.example.com:587?tls=1",
    "ALLOWED_HOSTS": "pd.example.com",
    "BASE_URL": "https://pd.example.com",
    "INVOICE_SUPPLIER_NAME": "Partnerdesk Ltd",
    "INVOICE_SUPPLIER_ADDRESS": "1 High Street|London|EC1A 1AA",
    "INVOICE_SUPPLIER_VAT_NUMBER": "GB 123 4567 89",
}


def test_settings_load_with_a_complete_production_environment():
    result = _import_settings(**PRODUCTION)
    assert result.returncode == 0, result.stderr


def test_oidc_key_may_come_with_escaped_newlines():
    one_line = PRODUCTION["OIDC_PRIVATE_KEY"].replace("\n", "\\n")
    assert "\n" not in one_line
    result = _import_settings(**{**PRODUCTION, "OIDC_PRIVATE_KEY": one_line})
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"SECRET_KEY": ""}, "SECRET_KEY must be set when DEBUG is off"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY must be at least 50 characters"),
        ({"FIELD_ENCRYPTION_KEY": ""}, "FIELD_ENCRYPTION_KEY must be set"),
        ({"EMAIL_URL": ""}, "EMAIL_URL must be set when DEBUG is off"),
        ({"ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS must be set"),
        ({"DEBUG": "perhaps"}, "DEBUG must be a boolean"),
        ({"PORT": "eighty"}, "PORT must be an integer"),
        ({"DATABASE_URL": "mysql://x/y"}, "DATABASE_URL must start with"),
        ({"REDIS_URL": "localhost:6379"}, "REDIS_URL must start with"),
        ({"EMAIL_URL": "smtp://"}, "EMAIL_URL must name a host"),
        ({"OIDC_PRIVATE_KEY": ""}, "OIDC_PRIVATE_KEY (an RSA private key in PEM) must be set"),
        ({"OIDC_PRIVATE_KEY": "not a key"}, "OIDC_PRIVATE_KEY must be an RSA private key in PEM"),
    ],
)
def test_settings_refuse_to_start_on_bad_values(change, message):
    result = _import_settings(**{**PRODUCTION, **change})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def test_deploy_check_is_clean_with_debug_off():
    env = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG"}}
    env.update(PRODUCTION, DATABASE_URL=os.environ.get("DATABASE_URL", "sqlite:///var/deploy-check.sqlite3"))
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[3],
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("GB123456789", "GB 123 4567 89"),
        ("gb 123 4567 89", "GB 123 4567 89"),
        ("GB123456789012", "GB123456789012"),
        ("GBGD001", "GBGD001"),
        ("", ""),
    ],
)
def test_vat_number_is_a_uk_one_printed_as_hmrc_does(value, expected):
    assert env_vat_number("INVOICE_SUPPLIER_VAT_NUMBER", "", environ={"INVOICE_SUPPLIER_VAT_NUMBER": value}) == expected


@pytest.mark.parametrize("bad", ["123456789", "GB12345678", "FR12345678901", "GB 123 4567 8X"])
def test_vat_number_rejects_anything_else(bad):
    with pytest.raises(ImproperlyConfigured, match="INVOICE_SUPPLIER_VAT_NUMBER must be a UK VAT registration number"):
        env_vat_number("INVOICE_SUPPLIER_VAT_NUMBER", "", environ={"INVOICE_SUPPLIER_VAT_NUMBER": bad})


def test_address_lines_split_on_bars_or_newlines():
    environ = {"A": " 1 High Street | London\nEC1A 1AA || "}
    assert env_lines("A", ["x"], environ=environ) == ["1 High Street", "London", "EC1A 1AA"]
    assert env_lines("A", ["x"], environ={}) == ["x"]


def test_production_without_the_supplier_details_does_not_start(tmp_path):
    """Settings load (tests run without them), but the system check stops migrate, the worker and runserver."""
    env = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG"}}
    incomplete = {k: v for k, v in PRODUCTION.items() if k != "INVOICE_SUPPLIER_VAT_NUMBER"}
    env.update(incomplete, DATABASE_URL=f"sqlite:///{tmp_path}/check.sqlite3")
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        env=env,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[3],
        check=False,
    )
    assert result.returncode != 0
    assert "billing.E001" in result.stderr
    assert "INVOICE_SUPPLIER_VAT_NUMBER not set: invoices would not be valid UK VAT invoices" in result.stderr
