#!/usr/bin/env bash
# The whole check: lint, format, types, the suite on SQLite, then on PostgreSQL when reachable.
#   REQUIRE_POSTGRES=1   fail when PostgreSQL is not reachable (CI sets it)
#   TEST_DATABASE_URL    the PostgreSQL server to test on (default: postgres://postgres@127.0.0.1:5432/test)
#   --e2e-only           only the browser tests, on SQLite
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin

# Production-like settings for tests: DEBUG off, test-only secrets generated per run (never stored).
export DEBUG=0
export SECRET_KEY="test-only-$($BIN/python -c 'import secrets; print(secrets.token_urlsafe(48))')"
export FIELD_ENCRYPTION_KEY="$($BIN/python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')"
export OIDC_PRIVATE_KEY="$($BIN/python -c '
from cryptography.hazmat.primitives import serialization as s
from cryptography.hazmat.primitives.asymmetric import rsa
k = rsa.generate_private_key(public_exponent=65537, key_size=2048)
print(k.private_bytes(s.Encoding.PEM, s.PrivateFormat.PKCS8, s.NoEncryption()).decode())')"
export EMAIL_URL="locmem://"
export ALLOWED_HOSTS="testserver,127.0.0.1,localhost"
export SECURE_SSL_REDIRECT=0
unset DATABASE_URL REDIS_URL

pytest_args=()
if [ -x /usr/bin/chromium ]; then
  export DJANGO_ALLOW_ASYNC_UNSAFE=true  # Playwright's sync API runs an event loop in the test thread
else
  echo "note: /usr/bin/chromium not found; browser tests (e2e/) are left out. apt-get install -y chromium to run them."
  pytest_args+=(-m "not e2e")
fi

if [ "${1:-}" = "--e2e-only" ]; then
  [ -x /usr/bin/chromium ] || { echo "error: /usr/bin/chromium is required for make e2e"; exit 1; }
  exec $BIN/pytest e2e -q
fi

echo "== ruff check" && $BIN/ruff check .
echo "== ruff format --check" && $BIN/ruff format --check .
echo "== mypy" && $BIN/mypy partnerdesk

echo "== pytest on SQLite"
EXPECT_DB_VENDOR=sqlite $BIN/pytest -q "${pytest_args[@]}"

pg_url="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
if $BIN/python - "$pg_url" <<'PY'
import sys, psycopg
try:
    psycopg.connect(sys.argv[1].replace("postgres://", "postgresql://", 1), connect_timeout=3).close()
except Exception as exc:
    print(f"PostgreSQL not reachable: {exc}")
    sys.exit(1)
PY
then
  echo "== pytest on PostgreSQL ($pg_url)"
  mkdir -p var
  DATABASE_URL="$pg_url" EXPECT_DB_VENDOR=postgresql $BIN/pytest -q "${pytest_args[@]}" --junitxml=var/junit-postgresql.xml
  $BIN/python - <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse("var/junit-postgresql.xml").getroot()
suite = root if root.tag == "testsuite" else root.find("testsuite")
ran = int(suite.get("tests", 0)) - int(suite.get("skipped", 0))
if ran <= 0:
    sys.exit("error: the PostgreSQL run executed no tests")
print(f"PostgreSQL suite: {ran} tests executed")
PY
elif [ "${REQUIRE_POSTGRES:-0}" = "1" ]; then
  echo "error: REQUIRE_POSTGRES=1 but PostgreSQL is not reachable at $pg_url"
  exit 1
else
  echo "warning: PostgreSQL not reachable at $pg_url; its run was skipped (set REQUIRE_POSTGRES=1 to make this fatal)"
fi
