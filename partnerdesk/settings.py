"""Partnerdesk settings: one module, every deployment difference comes from the environment.

See README.md (Configuration) for the variables. Malformed values stop start-up with a message
naming the variable.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from partnerdesk.lib.env import (
    env_base_url,
    env_bool,
    env_email,
    env_int,
    env_lines,
    env_list,
    env_str,
    env_vat_number,
    parse_database_url,
    parse_email_url,
    parse_fernet_keys,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

DEBUG = env_bool("DEBUG", False)


def _dev_secret(filename: str, make: str) -> str:
    """A per-checkout secret for DEBUG use, kept in var/ (never in the repository)."""
    VAR_DIR.mkdir(exist_ok=True)
    path = VAR_DIR / filename
    if not path.exists():
        if make == "fernet":
            from cryptography.fernet import Fernet

            value = Fernet.generate_key().decode()
        elif make == "rsa":
            from cryptography.hazmat.primitives import serialization
            from cryptography.hazmat.primitives.asymmetric import rsa

            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            value = key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ).decode()
        else:
            value = secrets.token_urlsafe(50)
        path.write_text(value)
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = _dev_secret("dev-secret-key", "token")
elif not DEBUG and len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters when DEBUG is off")

_field_keys = env_str("FIELD_ENCRYPTION_KEY")
if not _field_keys:
    if not DEBUG:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY must be set when DEBUG is off")
    _field_keys = _dev_secret("dev-field-encryption-key", "fernet")
FIELD_ENCRYPTION_KEYS = parse_fernet_keys("FIELD_ENCRYPTION_KEY", _field_keys)

PORT = env_int("PORT", 8000, minimum=1, maximum=65535)
BASE_URL = env_base_url("BASE_URL", f"http://127.0.0.1:{PORT}")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DEBUG is off")
CSRF_TRUSTED_ORIGINS = [BASE_URL]
ADMIN_TEAM_EMAIL = env_email("ADMIN_TEAM_EMAIL", "admin-team@partnerdesk.invalid")
# Customer Services (business-name changes, invoices, anything a customer asks): not the administration team, which
# handles practices' changes to their clients.
CUSTOMER_SERVICES_EMAIL = env_email("CUSTOMER_SERVICES_EMAIL", "customer-services@partnerdesk.invalid")
# The supplier every invoice names (a UK VAT invoice must give the supplier's name, address and VAT registration
# number). DEBUG has demo values; without DEBUG they come from the environment only, and while any is missing the
# system check billing.E001 stops `migrate`, the task worker and runserver from starting (decision: invoices would
# not be valid VAT invoices; settings themselves don't refuse, so tests run without them).
INVOICE_SUPPLIER_NAME = env_str("INVOICE_SUPPLIER_NAME", "Partnerdesk Ltd" if DEBUG else "")
INVOICE_SUPPLIER_ADDRESS = env_lines(
    "INVOICE_SUPPLIER_ADDRESS", ["1 Demo Street", "London", "EC1A 1AA", "United Kingdom"] if DEBUG else []
)
INVOICE_SUPPLIER_VAT_NUMBER = env_vat_number("INVOICE_SUPPLIER_VAT_NUMBER", "GB999999973" if DEBUG else "")
DEFAULT_FROM_EMAIL = env_email("DEFAULT_FROM_EMAIL", "no-reply@partnerdesk.invalid")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "csp",
    "ninja",
    "django_tasks",
    "django_tasks_db",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",
    "allauth.idp.oidc",
    "allauth.headless",
    "partnerdesk.identity",
    "partnerdesk.practice",
    "partnerdesk.billing",
    "partnerdesk.compliance",
    "partnerdesk.ledger",
    "partnerdesk.notifications",
    "partnerdesk.audit",
    "partnerdesk.backoffice",
    "partnerdesk.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "partnerdesk.identity.ratelimits.RateLimitMiddleware",
    "partnerdesk.identity.middleware.UserSessionActivityMiddleware",
    "partnerdesk.identity.oidc.OIDCPolicyMiddleware",
    "partnerdesk.api.middleware.ApiProblemMiddleware",
]

ROOT_URLCONF = "partnerdesk.urls"
WSGI_APPLICATION = "partnerdesk.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "partnerdesk.lib.context_processors.site",
            ],
        },
    },
]

DATABASES = {"default": parse_database_url("DATABASE_URL", "sqlite:///var/partnerdesk.sqlite3", base_dir=BASE_DIR)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(exist_ok=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    if not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured(f"REDIS_URL must start with redis://, rediss:// or unix://, got {REDIS_URL!r}")
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    # Django's database cache that never culls live entries (rate-limit histories): partnerdesk/lib/cache.py.
    CACHES = {"default": {"BACKEND": "partnerdesk.lib.cache.DatabaseCache", "LOCATION": "partnerdesk_cache"}}
# Per-process memory, for throttles that only save work and need no agreement between processes.
CACHES["local"] = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "partnerdesk-local"}

TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}

# Email: EMAIL_URL names a real server; without it, DEBUG keeps a developer inbox at /dev/mail/.
EMAIL_URL = env_str("EMAIL_URL")
if EMAIL_URL:
    globals().update(parse_email_url("EMAIL_URL", EMAIL_URL))
    DEV_INBOX_ENABLED = False
elif DEBUG:
    EMAIL_BACKEND = "partnerdesk.notifications.backends.DevInboxBackend"
    DEV_INBOX_ENABLED = True
else:
    raise ImproperlyConfigured("EMAIL_URL must be set when DEBUG is off (e.g. smtp://mail.example.com:587?tls=1)")
# How long the outbox keeps retrying a message that fails to send, and the backoff cap.
EMAIL_RETRY_WINDOW_SECONDS = env_int("EMAIL_RETRY_WINDOW_SECONDS", 26 * 3600, minimum=60)
EMAIL_RETRY_MAX_DELAY_SECONDS = 3600

AUTH_USER_MODEL = "identity.User"
# allauth's backend extends Django's ModelBackend (permissions, admin sign-in by email): one backend means
# one password hash per attempt, also for failed and unknown-account attempts.
AUTHENTICATION_BACKENDS = ["allauth.account.auth_backends.AuthenticationBackend"]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"

# Accounts (django-allauth): email is the login, verified by an emailed code. See docs/decisions.md.
ACCOUNT_ADAPTER = "partnerdesk.identity.adapters.AccountAdapter"
ACCOUNT_SIGNUP_FORM_CLASS = "partnerdesk.identity.forms.SignupDetailsForm"
ACCOUNT_FORMS = {"signup": "partnerdesk.identity.signup.SignupForm"}
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED = True
ACCOUNT_EMAIL_VERIFICATION_BY_CODE_TIMEOUT = 10 * 60
ACCOUNT_EMAIL_VERIFICATION_BY_CODE_MAX_ATTEMPTS = 3
ACCOUNT_EMAIL_VERIFICATION_BY_CODE_FORMAT = {"length": 8, "numeric": True, "dashed": False}
ACCOUNT_EMAIL_VERIFICATION_SUPPORTS_RESEND = 5  # Resend code, at most 5 times per sign-up
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = True
ACCOUNT_EMAIL_NOTIFICATIONS = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = ""
ACCOUNT_SIGNUP_REDIRECT_URL = "/account/link/"
ACCOUNT_LOGOUT_REDIRECT_URL = "home"
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_PASSWORD_INPUT_RENDER_VALUE = False
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if BASE_URL.startswith("https://") else "http"
PASSWORD_RESET_TIMEOUT = 60 * 60  # reset links last one hour and die when the password changes
# Rate limits live in the shared cache, so they hold across processes and machines.
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "30/h/ip",  # every POST counts, refused forms too: an office behind one address signs up staff
    "confirm_email": "1/1m/key",
    "reset_password": "10/m/ip,3/15m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
    "manage_email": "10/m/user",
    "reauthenticate": "10/m/user",
}
# RATE_LIMITS=0 turns every allauth limit off: for load tests on loopback only (bench/), never in production.
if not env_bool("RATE_LIMITS", True):
    ACCOUNT_RATE_LIMITS = False  # type: ignore[assignment]
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Partnerdesk"
MFA_RECOVERY_CODE_COUNT = 10
MFA_RECOVERY_CODES_SHOW_ONCE = True
USERSESSIONS_TRACK_ACTIVITY = False  # our middleware tracks activity, throttled
HEADLESS_ONLY = False
HEADLESS_CLIENTS = ("browser", "app")  # browser: session + CSRF; app: X-Session-Token for scripts and apps
HEADLESS_SERVE_SPECIFICATION = True  # OpenAPI of the account API at /_allauth/openapi.html
ACCOUNT_USER_DISPLAY = "partnerdesk.identity.adapters.user_display"

# OpenID Connect provider (allauth.idp.oidc): RS256 signing key from OIDC_PRIVATE_KEY (PEM).
_oidc_key = env_str("OIDC_PRIVATE_KEY").replace("\\n", "\n")
if not _oidc_key:
    if not DEBUG:
        raise ImproperlyConfigured("OIDC_PRIVATE_KEY (an RSA private key in PEM) must be set when DEBUG is off")
    _oidc_key = _dev_secret("dev-oidc-private-key.pem", "rsa")
elif "PRIVATE KEY-----" not in _oidc_key:
    raise ImproperlyConfigured("OIDC_PRIVATE_KEY must be an RSA private key in PEM format")
IDP_OIDC_PRIVATE_KEY = _oidc_key
IDP_OIDC_ADAPTER = "partnerdesk.identity.oidc.OIDCAdapter"
IDP_OIDC_ROTATE_REFRESH_TOKEN = True
IDP_OIDC_ACCESS_TOKEN_EXPIRES_IN = 15 * 60
IDP_OIDC_REFRESH_TOKEN_EXPIRES_IN = 30 * 24 * 3600
IDP_OIDC_USERINFO_ENDPOINT = None
# Every product is a public client (PKCE, no secret): discovery advertises "none" only, and secrets are not taken.
IDP_OIDC_AUTH_METHODS = ["none"]

# Argon2id with OWASP's parameters (t=2, m=19 MiB, p=1): see partnerdesk/identity/hashers.py.
PASSWORD_HASHERS = [
    "partnerdesk.identity.hashers.Argon2idOwaspHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
# NIST 800-63B: length, not composition rules. Each validator has its own message.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "partnerdesk.identity.validators.MaximumLengthValidator", "OPTIONS": {"max_length": 128}},
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ["email", "full_name"]},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "partnerdesk.identity.validators.RepetitionValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Database sessions; a sign-in writes its session row once (see partnerdesk/identity/sessions.py).
SESSION_ENGINE = "partnerdesk.identity.sessions"

# Security. HTTPS-only cookies and HSTS whenever DEBUG is off.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# Content Security Policy: same-origin scripts and styles only (htmx is served from static/).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO").upper()},
    "loggers": {
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "WARNING"},
    },
}

NINJA_PAGINATION_PER_PAGE = 50
