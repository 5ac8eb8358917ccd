"""The practice client list (page and API) at 1,000, 100,000 and 1,000,000 clients (issue 5, "bench/client_list.py").

Run from the repository root (``make bench`` does this for every bench/bench_*.py):

    .venv/bin/python bench/bench_client_list.py             # every size (BENCH_SECONDS per measurement, default 10)
    BENCH_MAX_SIZE=100000 .venv/bin/python bench/bench_client_list.py    # leave out the 1,000,000 size
    .venv/bin/python bench/bench_client_list.py --explain   # also EXPLAIN (ANALYZE, BUFFERS) the list's queries

What it does, all on loopback and for a bounded time:

1. One PostgreSQL database per size, named after BENCH_DATABASE_URL (default
   postgres://postgres@127.0.0.1:5432/partnerdesk_bench_clients) plus ``_<size>``, created when missing and
   migrated. The data is generated with ``INSERT ... SELECT generate_series`` (not the ORM) and kept: a later
   run reuses a database whose ``bench_client_list_meta`` row says it holds this layout at this size.
2. Layout: 1,000 practices; practice 1 (the measured one) holds 10,000 clients at every size, the others share
   the rest evenly. The table holds ``max(size, 10,999)`` clients: at the 1,000 size there is no room for a
   10,000-client practice, so that size is the big practice plus one client for each other practice. Each
   client has its own Company (8-digit customer number, MBR + 8 digits registration id, both unique).
   ~85% Active / 7% Pending / 8% Imported, 2% hidden; access 50% none, 20% invited, 25% both, 5% disabled.
3. An admin of practice 1 with a verified primary EmailAddress. In-process (django.test.Client against the
   same database, CaptureQueriesContext) the SQL queries of each request are counted.
4. gunicorn with one sync worker per core, as deployed (DEBUG off; BENCH_DEBUG=1 for on), RATE_LIMITS=0, ALLOWED_HOSTS=127.0.0.1; one sign-in
   through /accounts/login/, then 2 x workers client threads request the same URL with that session cookie
   for BENCH_SECONDS, per scenario: first page, page 150, a search (q=bakery), a filter (access=invited), for
   /partner/clients/ and /api/v1/practice/clients.
5. A bare Django app (settings module written to a temp dir, no middleware, one view returning a fixed
   ~20 KB HTML page) under the same gunicorn command line, for the throughput ratio.

Figures are printed, never asserted. The exit status is non-zero only for a broken run: no database, the
server not starting, a scenario answering something other than 200, or more than 1% failed requests.

Environment: BENCH_DATABASE_URL, BENCH_SECONDS (10), BENCH_WARMUP_SECONDS (1), BENCH_WORKERS
(os.cpu_count()), BENCH_CLIENTS (2 x workers), BENCH_MAX_SIZE (no limit), BENCH_SIZES (1000,100000,1000000).
"""

from __future__ import annotations

import html
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlencode, urlsplit, urlunsplit

from bench_login import (
    CSRF_INPUT,
    HOST,
    PYTHON,
    ROOT,
    VALUE_ATTR,
    BenchError,
    child_env,
    cpu_seconds,
    ensure_database,
    env_int,
    free_port,
    machine_busy,
    manage,
    parse_set_cookies,
    prepare_static,
    stop_gunicorn,
    worker_pids,
)

GUNICORN = str(Path(PYTHON).with_name("gunicorn"))
DEFAULT_DB_URL = "postgres://postgres@127.0.0.1:5432/partnerdesk_bench_clients"
DEFAULT_SIZES = (1_000, 100_000, 1_000_000)
PRACTICES = 1_000
BIG_PRACTICE_CLIENTS = 10_000
LAYOUT = f"v1:practices={PRACTICES}:big={BIG_PRACTICE_CLIENTS}"
EMAIL = "bench-clients-admin@bench.partnerdesk.invalid"
PASSWORD = "bench-correct-horse-battery-staple"
LOGIN_PATH = "/accounts/login/"
POST_LOGIN_PATH = "/partner/clients/"
DEEP_PAGE = 150
SEARCH = "bakery"
MAX_FAILURE_RATE = 0.01
TARGET_LATENCY_RATIO = 1.3
TARGET_BARE_SHARE = 0.40

# (key, label, path): the same four questions to the page and to the API.
SCENARIOS = [
    ("page-first", "page  first", "/partner/clients/"),
    ("page-deep", f"page  page {DEEP_PAGE}", f"/partner/clients/?page={DEEP_PAGE}"),
    ("page-search", f"page  q={SEARCH}", f"/partner/clients/?q={SEARCH}"),
    ("page-filter", "page  access=invited", "/partner/clients/?access=invited"),
    ("api-first", "api   first", "/api/v1/practice/clients"),
    ("api-deep", f"api   page {DEEP_PAGE}", f"/api/v1/practice/clients?page={DEEP_PAGE}"),
    ("api-search", f"api   q={SEARCH}", f"/api/v1/practice/clients?q={SEARCH}"),
    ("api-filter", "api   access=invited", "/api/v1/practice/clients?access=invited"),
]


def table_rows(size: int) -> int:
    """Clients in the table for a size: the size, but never fewer than the big practice plus one per other."""
    return max(size, BIG_PRACTICE_CLIENTS + PRACTICES - 1)


def size_url(base: str, size: int) -> str:
    parts = urlsplit(base)
    name = unquote(parts.path.lstrip("/")) or "partnerdesk_bench_clients"
    return urlunsplit(parts._replace(path=f"/{name}_{size}"))


def connect(url: str):  # type: ignore[no-untyped-def]
    import psycopg

    parts = urlsplit(url)
    return psycopg.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=unquote(parts.username or "postgres"),
        password=unquote(parts.password) if parts.password else None,
        dbname=unquote(parts.path.lstrip("/")),
        connect_timeout=5,
        autocommit=True,
    )


# --------------------------------------------------------------------------------------------
# Data: generated in SQL, kept per size

ADJECTIVES = [
    "Northern",
    "Southern",
    "Eastern",
    "Western",
    "Royal",
    "Golden",
    "Silver",
    "Green",
    "Blue",
    "Red",
    "Oak",
    "Cedar",
    "Maple",
    "Willow",
    "Riverside",
    "Harbour",
    "Hillside",
    "Valley",
    "Meadow",
    "Coastal",
    "Highland",
    "Lowland",
    "Central",
    "Premier",
    "Bright",
    "Swift",
    "Noble",
    "Ancient",
    "Modern",
    "Urban",
    "Rural",
    "Grand",
    "Little",
    "Old",
    "New",
    "Castle",
    "Bridge",
    "Station",
    "Market",
    "Crown",
]
NOUNS = [
    "Bakery",
    "Joinery",
    "Plumbing",
    "Electrical",
    "Consulting",
    "Design",
    "Catering",
    "Cleaning",
    "Logistics",
    "Motors",
    "Dental",
    "Optics",
    "Pharmacy",
    "Florist",
    "Brewery",
    "Roofing",
    "Landscaping",
    "Printing",
    "Tailoring",
    "Fitness",
    "Travel",
    "Media",
    "Software",
    "Security",
    "Removals",
    "Builders",
    "Carpentry",
    "Decorating",
    "Glazing",
    "Haulage",
    "Farming",
    "Fisheries",
    "Textiles",
    "Pottery",
    "Jewellers",
    "Butchers",
    "Grocers",
    "Kitchens",
    "Interiors",
    "Studios",
]
SUFFIXES = ["Ltd", "Limited", "LLP", "& Co", "Partners", "Group"]
FIRST_NAMES = [
    "Amelia",
    "Oliver",
    "Isla",
    "George",
    "Ava",
    "Noah",
    "Mia",
    "Arthur",
    "Ivy",
    "Muhammad",
    "Freya",
    "Leo",
    "Lily",
    "Harry",
    "Florence",
    "Oscar",
    "Grace",
    "Jack",
    "Sophia",
    "Charlie",
    "Emily",
    "Henry",
    "Ella",
    "Theo",
    "Isabella",
    "Alfie",
    "Poppy",
    "Archie",
    "Evie",
    "Thomas",
]
LAST_NAMES = [
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Johnson",
    "Davies",
    "Patel",
    "Robinson",
    "Wright",
    "Thompson",
    "Evans",
    "Walker",
    "White",
    "Roberts",
    "Green",
    "Hall",
    "Wood",
    "Jackson",
    "Clarke",
    "Khan",
    "Hughes",
    "Edwards",
    "Turner",
    "Hill",
    "Moore",
    "Cooper",
    "Ward",
    "Morris",
]


def sql_array(words: list[str]) -> str:
    return "ARRAY[" + ",".join("'" + w.replace("'", "''") + "'" for w in words) + "]"


# h1/h2: two stable 32-bit hashes of the row number; every attribute is a function of them (deterministic data).
H1 = "(hashtext('a' || {i})::bigint + 2147483648)"
H2 = "(hashtext('b' || {i})::bigint + 2147483648)"


def name_sql(i: str) -> str:
    h = H1.format(i=i)
    return (
        f"({sql_array(ADJECTIVES)})[1 + {h} % {len(ADJECTIVES)}] || ' ' || "
        f"({sql_array(NOUNS)})[1 + ({h} / 64) % {len(NOUNS)}] || ' ' || "
        f"({sql_array(SUFFIXES)})[1 + ({h} / 4096) % {len(SUFFIXES)}]"
    )


def generate_sql(rows: int) -> list[str]:
    """Companies 1..1000 are the practices', 1000+i is client i's; client i belongs to practice 1 when
    i <= 10,000, else to practice 2 + (i - 10,001) % 999. Ids are set explicitly, sequences moved after."""
    h1, h2 = H1.format(i="i"), H2.format(i="i")
    adjective = f"({sql_array(ADJECTIVES)})[1 + {h1} % {len(ADJECTIVES)}]"
    noun = f"({sql_array(NOUNS)})[1 + ({h1} / 64) % {len(NOUNS)}]"
    first = f"({sql_array(FIRST_NAMES)})[1 + {h2} % {len(FIRST_NAMES)}]"
    last = f"({sql_array(LAST_NAMES)})[1 + ({h2} / 32) % {len(LAST_NAMES)}]"
    big = BIG_PRACTICE_CLIENTS
    return [
        "SET LOCAL synchronous_commit = off",
        "SET LOCAL maintenance_work_mem = '256MB'",
        # The bench owns this database: start from empty tables (CASCADE reaches members, clients, sessions' users
        # stay) so ids are predictable.
        "TRUNCATE identity_company, practice_practice, practice_client RESTART IDENTITY CASCADE",
        f"""
        INSERT INTO identity_company (id, customer_number, registration_id, business_name, owner_email, owner_id,
                                      created_at)
        SELECT i,
               (10000000 + (i::bigint * 7777777) % 90000000)::text,
               'MBR' || lpad(((i::bigint * 7777777 + 12345) % 100000000)::text, 8, '0'),
               CASE WHEN i <= {PRACTICES} THEN 'Bench Practice ' || i ELSE {name_sql(f"(i - {PRACTICES})")} END,
               '', NULL, now() - (i % 1500) * interval '1 day'
        FROM generate_series(1, {PRACTICES + rows}) AS i
        """,
        f"""
        INSERT INTO practice_practice (id, company_id, name, contact_email, contact_email_pending,
                                       contact_email_token_hash, created_at)
        SELECT i, i, 'Bench Practice ' || i, 'practice' || i || '@bench.partnerdesk.invalid', '', '', now()
        FROM generate_series(1, {PRACTICES}) AS i
        """,
        f"""
        INSERT INTO practice_client (id, practice_id, company_id, business_name, contact_name, email, phone, address,
                                     postcode, vat_number, company_number, tab, access, hidden, payer, created_at,
                                     updated_at, version, ended_reason, grace_reminders_sent, requested_by)
        SELECT i,
               CASE WHEN i <= {big} THEN 1 ELSE 2 + (i - {big} - 1) % {PRACTICES - 1} END,
               {PRACTICES} + i,
               {name_sql("i")},
               {first} || ' ' || {last},
               lower({first}) || '.' || lower({last}) || '@' || lower({adjective}) || lower({noun}) || '.co.uk',
               '020 7' || lpad((i % 1000000)::text, 6, '0'),
               i || ' High Street', 'SW1A 1AA', '', '',
               CASE WHEN ({h2} / 1024) % 100 < 85 THEN 'active'
                    WHEN ({h2} / 1024) % 100 < 92 THEN 'pending' ELSE 'imported' END,
               CASE WHEN ({h2} / 131072) % 100 < 50 THEN 'none' WHEN ({h2} / 131072) % 100 < 70 THEN 'invited'
                    WHEN ({h2} / 131072) % 100 < 95 THEN 'both' ELSE 'disabled' END,
               ({h1} / 262144) % 50 = 0,
               CASE WHEN ({h1} / 16777216) % 10 < 7 THEN 'accountant' ELSE 'client' END,
               now() - interval '400 days',
               now() - ({h2} % 31536000) * interval '1 second',
               1, '', 0, ''
        FROM generate_series(1, {rows}) AS i
        """,
        "SELECT setval(pg_get_serial_sequence('identity_company', 'id'), (SELECT max(id) FROM identity_company))",
        "SELECT setval(pg_get_serial_sequence('practice_practice', 'id'), (SELECT max(id) FROM practice_practice))",
        "SELECT setval(pg_get_serial_sequence('practice_client', 'id'), (SELECT max(id) FROM practice_client))",
    ]


META = "bench_client_list_meta"


def ensure_data(url: str, size: int) -> tuple[bool, float]:
    """(generated now?, seconds spent): reuse the database when its meta row and row count say it is ready."""
    rows = table_rows(size)
    with connect(url) as conn:
        conn.execute(f"CREATE TABLE IF NOT EXISTS {META} (layout text NOT NULL, size integer NOT NULL, rows integer)")
        meta = conn.execute(f"SELECT layout, size, rows FROM {META}").fetchone()
        if meta == (LAYOUT, size, rows):
            (have,) = conn.execute("SELECT count(*) FROM practice_client").fetchone()
            if have == rows:
                return False, 0.0
        print(f"  generating {rows:,} clients and {rows + PRACTICES:,} companies in SQL ...", flush=True)
        start = time.perf_counter()
        with conn.transaction():
            conn.execute(f"DELETE FROM {META}")
            for statement in generate_sql(rows):
                conn.execute(statement)  # type: ignore[arg-type]
            conn.execute(f"INSERT INTO {META} (layout, size, rows) VALUES (%s, %s, %s)", [LAYOUT, size, rows])
        conn.execute("VACUUM (ANALYZE) identity_company")
        conn.execute("VACUUM (ANALYZE) practice_practice")
        conn.execute("VACUUM (ANALYZE) practice_client")
        return True, time.perf_counter() - start


# In-process (one Django process per size): the admin user, then one request per scenario under
# CaptureQueriesContext, and with --explain the plans of the queries that read practice_client.
IN_PROCESS = """
import json, os, re
from allauth.account.models import EmailAddress
from allauth.usersessions.models import UserSession
from django.contrib.auth.hashers import make_password
from django.contrib.sessions.models import Session
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from partnerdesk.identity.models import User
from partnerdesk.practice.models import PracticeMember

params = json.loads(os.environ["BENCH_CLIENT_LIST_PARAMS"])
with transaction.atomic():
    user, _ = User.objects.get_or_create(email=params["email"], defaults={"full_name": "Bench Admin"})
    user.password = make_password(params["password"])
    user.is_active = True
    user.save()
    EmailAddress.objects.filter(user=user).exclude(email=user.email).delete()
    EmailAddress.objects.update_or_create(user=user, email=user.email, defaults={"verified": True, "primary": True})
    PracticeMember.objects.filter(user=user).exclude(practice_id=1).delete()
    PracticeMember.objects.update_or_create(practice_id=1, user=user, defaults={"role": "admin"})
    UserSession.objects.filter(user=user).delete()
    Session.objects.all().delete()

client = Client(HTTP_HOST="127.0.0.1")
response = client.post(params["login"], {"login": params["email"], "password": params["password"]})
if response.status_code != 302:
    raise SystemExit(f"in-process sign-in: HTTP {response.status_code}")
out = {}
for key, path in params["scenarios"]:
    for _ in range(2):  # warm: templates, the once-a-minute session activity write
        client.get(path)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    body = response.content.decode()
    if key.startswith("api"):
        data = json.loads(body) if response.status_code == 200 else {}
        shown, count = data.get("page"), data.get("count")
    else:
        found = re.search(r"Page (\\d+) of (\\d+)", body)
        shown, count = (int(found.group(1)) if found else 1), None
    queries = [{"sql": q["sql"], "ms": float(q["time"]) * 1000} for q in captured.captured_queries]
    plans = []
    if params["explain"]:
        for q in queries:
            if "practice_client" in q["sql"]:
                with connection.cursor() as cursor:
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + q["sql"])
                    plans.append({"sql": q["sql"], "plan": [row[0] for row in cursor.fetchall()]})
    out[key] = {"status": response.status_code, "queries": queries, "bytes": len(response.content),
                "page": shown, "count": count, "plans": plans}
print("BENCH-JSON " + json.dumps(out))
"""


def in_process(env: dict[str, str], explain: bool) -> dict[str, dict]:
    params = {
        "email": EMAIL,
        "password": PASSWORD,
        "login": LOGIN_PATH,
        "scenarios": [(key, path) for key, _, path in SCENARIOS],
        "explain": explain,
    }
    out = manage({**env, "BENCH_CLIENT_LIST_PARAMS": json.dumps(params)}, "shell", "-c", IN_PROCESS)
    for line in out.splitlines():
        if line.startswith("BENCH-JSON "):
            return json.loads(line.removeprefix("BENCH-JSON "))
    raise BenchError(f"in-process measurement printed no result:\n{out[-2000:]}")


# --------------------------------------------------------------------------------------------
# gunicorn: the app, and a bare Django app under the same command line

BARE_SETTINGS = '''
"""A bare Django project: no apps, no middleware, one view returning a fixed page."""
from django.http import HttpResponse
from django.urls import path

DEBUG = False  # as the app runs
SECRET_KEY = "bench-bare-view-not-a-secret"
ALLOWED_HOSTS = ["127.0.0.1"]
ROOT_URLCONF = __name__
INSTALLED_APPS = []
MIDDLEWARE = []
DATABASES = {}
USE_TZ = True

ROW = "<tr><td><a href='/partner/clients/1/'>Northern Bakery Ltd</a></td><td>Amelia Smith</td>" \\
      "<td>amelia.smith@northernbakery.co.uk</td><td>No client access</td><td>Accountant paying</td></tr>\\n"
PAGE = ("<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Clients</title></head><body>"
        "<main><h1>Clients</h1><table>" + ROW * 105 + "</table></main></body></html>").encode()  # ~20 KB


def page(request):
    return HttpResponse(PAGE, content_type="text/html; charset=utf-8")


urlpatterns = [path("", page), path("healthz", page)]
'''

BARE_WSGI = """
import os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench_bare_settings")
from django.core.wsgi import get_wsgi_application
application = get_wsgi_application()
"""

# For reference only: the same fixed page behind the app's own settings, middleware and login_required (session and
# user loaded from PostgreSQL), i.e. what any signed-in page costs before the view does anything.
STACK_SETTINGS = """
from partnerdesk.settings import *  # noqa: F403
ROOT_URLCONF = "bench_stack_urls"
"""
STACK_URLS = """
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.urls import path
from bench_bare_settings import PAGE
from partnerdesk.urls import urlpatterns as app_urlpatterns

@login_required
def fixed(request):
    return HttpResponse(PAGE, content_type="text/html; charset=utf-8")

urlpatterns = [path("bench/fixed/", fixed), *app_urlpatterns]
"""
STACK_PATH = "/bench/fixed/"


def write_reference_apps(tmp: str) -> None:
    files = {
        "bench_bare_settings.py": BARE_SETTINGS,
        "bench_bare_wsgi.py": BARE_WSGI,
        "bench_stack_settings.py": STACK_SETTINGS,
        "bench_stack_urls.py": STACK_URLS,
    }
    for name, text in files.items():
        Path(tmp, name).write_text(text)


def gunicorn_command(app: str, port: int, workers: int) -> list[str]:
    return [
        GUNICORN,
        app,
        "--bind",
        f"{HOST}:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--backlog",
        "2048",
        "--timeout",
        "60",
    ]


def start_gunicorn(
    app: str, env: dict[str, str], port: int, workers: int, log_path: Path, pythonpath: str | None = None
) -> subprocess.Popen[bytes]:
    cmd = gunicorn_command(app, port, workers) + (["--pythonpath", pythonpath] if pythonpath else [])
    log = log_path.open("ab")
    # Own process group, so the master and its workers are stopped together and only them.
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def wait_healthy(proc: subprocess.Popen[bytes], port: int, workers: int, log_path: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"gunicorn exited with status {proc.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            resp, _ = request(port, "GET", "/healthz", {})
            if resp.status == 200 and len(worker_pids(proc.pid)) >= workers:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise BenchError(f"gunicorn did not answer /healthz within {timeout:.0f}s:\n{log_path.read_text()[-3000:]}")


def request(
    port: int, method: str, path: str, headers: dict[str, str], body: str | None = None
) -> tuple[http.client.HTTPResponse, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        conn.request(method, path, body=body, headers={"Host": HOST, **headers})
        resp = conn.getresponse()
        return resp, resp.read()
    finally:
        conn.close()


def sign_in(port: int) -> str:
    """Sign in once through the real form; returns the Cookie header of the signed-in session."""
    resp, body = request(port, "GET", LOGIN_PATH, {})
    cookies = parse_set_cookies(resp)
    tag = CSRF_INPUT.search(body.decode("utf-8", "replace"))
    value = VALUE_ATTR.search(tag.group(0)) if tag else None
    if resp.status != 200 or "csrftoken" not in cookies or value is None:
        raise BenchError(f"GET {LOGIN_PATH}: HTTP {resp.status}, no usable CSRF token")
    form = {"csrfmiddlewaretoken": html.unescape(value.group(1)), "login": EMAIL, "password": PASSWORD}
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
        "Referer": f"http://{HOST}:{port}{LOGIN_PATH}",
        "Origin": f"http://{HOST}:{port}",
    }
    resp, _ = request(port, "POST", LOGIN_PATH, headers, urlencode(form))
    cookies.update(parse_set_cookies(resp))
    if resp.status != 302 or not cookies.get("sessionid"):
        raise BenchError(f"POST {LOGIN_PATH}: HTTP {resp.status} -> {resp.headers.get('Location')!r}, not signed in")
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


def postgres_cpu() -> float:
    """CPU seconds of every local postgres process, plus what the postmaster's exited children used (parallel
    query workers and closed backends live shorter than a measurement; their time lands in its cutime/cstime)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if entry.joinpath("comm").read_text().strip() != "postgres":
                continue
            fields = entry.joinpath("stat").read_text().rsplit(")", 1)[1].split()
            parent = Path(f"/proc/{fields[1]}/comm").read_text().strip()
        except (OSError, IndexError):
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
        if parent != "postgres":  # the postmaster
            total += int(fields[13]) + int(fields[14])  # cutime, cstime of reaped children
    return total / ticks


# --------------------------------------------------------------------------------------------
# The load: N client threads requesting one URL with one session for a bounded time


@dataclass
class Measured:
    ok: int
    failures: Counter[str]
    elapsed: float
    latencies: list[float]
    bytes: int
    server_cpu: float
    postgres_cpu: float
    other_cpu: float

    @property
    def rps(self) -> float:
        return self.ok / self.elapsed if self.elapsed else 0.0

    def pct(self, p: float) -> float:
        lat = self.latencies
        return lat[min(len(lat) - 1, int(p * len(lat)))] * 1000 if lat else 0.0


@dataclass
class Load:
    port: int
    path: str
    cookie: str
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)
    counting: bool = False
    ok: int = 0
    size: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)

    def client(self) -> None:
        headers = {"Cookie": self.cookie} if self.cookie else {}
        while not self.stop.is_set():
            start = time.perf_counter()
            try:
                resp, body = request(self.port, "GET", self.path, headers)
                reason = None if resp.status == 200 and body else f"HTTP {resp.status}"
            except (OSError, http.client.HTTPException) as exc:
                reason, body = f"{type(exc).__name__}: {exc}", b""
            elapsed = time.perf_counter() - start
            with self.lock:
                if not self.counting:
                    continue
                if reason is None:
                    self.ok += 1
                    self.size = len(body)
                    self.latencies.append(elapsed)
                else:
                    self.failures[reason] += 1


def measure(
    port: int, path: str, cookie: str, clients: int, warmup: float, seconds: float, pids: list[int]
) -> Measured:
    load = Load(port, path, cookie)
    threads = [threading.Thread(target=load.client, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    try:
        time.sleep(warmup)
        with load.lock:
            load.counting = True
            started = time.perf_counter()
            server0, client0, pg0 = cpu_seconds(pids), time.process_time(), postgres_cpu()
            busy0, _ = machine_busy()
        time.sleep(seconds)
        with load.lock:
            load.counting = False
            elapsed = time.perf_counter() - started
            server = cpu_seconds(pids) - server0
            client = time.process_time() - client0
            pg = max(0.0, postgres_cpu() - pg0)
            busy1, _ = machine_busy()
            result = Measured(
                ok=load.ok,
                failures=Counter(load.failures),
                elapsed=elapsed,
                latencies=sorted(load.latencies),
                bytes=load.size,
                server_cpu=server,
                postgres_cpu=pg,
                other_cpu=max(0.0, (busy1 - busy0) - server - client - pg),
            )
    finally:
        load.stop.set()
        for t in threads:
            t.join(timeout=35)
    total = result.ok + sum(result.failures.values())
    if result.ok == 0 or (total and sum(result.failures.values()) / total > MAX_FAILURE_RATE):
        raise BenchError(f"GET {path}: {result.ok} ok, failures {dict(result.failures)}")
    return result


# --------------------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def sizes_to_run() -> list[int]:
    raw = os.environ.get("BENCH_SIZES", "").strip()
    try:
        sizes = sorted({int(s.replace("_", "")) for s in raw.split(",") if s.strip()}) if raw else list(DEFAULT_SIZES)
    except ValueError:
        raise BenchError(f"BENCH_SIZES must be whole numbers separated by commas, got {raw!r}") from None
    limit = os.environ.get("BENCH_MAX_SIZE", "").strip()
    if limit:
        sizes = [s for s in sizes if s <= env_int("BENCH_MAX_SIZE", 1)]
    if not sizes or min(sizes) < 1:
        raise BenchError("no size to run (BENCH_SIZES / BENCH_MAX_SIZE)")
    return sizes


def measure_stack(
    tmp: str, env: dict[str, str], workers: int, clients: int, warmup: float, seconds: float, log_path: Path
) -> Measured:
    """The fixed page behind the app's settings, middleware and login_required, with the same sign-in."""
    port = free_port()
    env = {**env, "PORT": str(port), "DJANGO_SETTINGS_MODULE": "bench_stack_settings"}
    proc = None
    try:
        proc = start_gunicorn("partnerdesk.wsgi:application", env, port, workers, log_path, pythonpath=tmp)
        wait_healthy(proc, port, workers, log_path)
        cookie = sign_in(port)
        return measure(port, STACK_PATH, cookie, clients, warmup, seconds, [proc.pid, *worker_pids(proc.pid)])
    finally:
        stop_gunicorn(proc)


def print_plans(size: int, inproc: dict[str, dict]) -> None:
    print(f"\n==== EXPLAIN (ANALYZE, BUFFERS) at {size:,} (queries reading practice_client)")
    for key, label, path in SCENARIOS:
        for plan in inproc[key]["plans"]:
            print(f"\n-- {label.strip()}  ({path})\n{plan['sql']}")
            print("\n".join("   " + line for line in plan["plan"]))


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bench-client-list-") as tmp:
        write_reference_apps(tmp)
        return run(tmp)


def run(tmp: str) -> int:
    explain = "--explain" in sys.argv[1:]
    seconds = env_int("BENCH_SECONDS", 10)
    warmup = env_int("BENCH_WARMUP_SECONDS", 1)
    workers = env_int("BENCH_WORKERS", os.cpu_count() or 1)
    clients = env_int("BENCH_CLIENTS", 2 * workers)
    base_url = os.environ.get("BENCH_DATABASE_URL", "").strip() or DEFAULT_DB_URL
    sizes = sizes_to_run()
    cores = os.cpu_count() or 1
    print(
        f"bench_client_list: {cores} CPUs, {workers} gunicorn sync workers, {clients} client threads, "
        f"{seconds}s per measurement (+{warmup}s warm-up); sizes {', '.join(f'{s:,}' for s in sizes)}"
    )
    log_path = ROOT / "var" / "bench-client-list-gunicorn.log"
    log_path.parent.mkdir(exist_ok=True)
    log_path.write_bytes(b"")

    # The bare view first: it needs no database.
    port = free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench_bare_settings", "PYTHONUNBUFFERED": "1"}
    proc = None
    try:
        proc = start_gunicorn("bench_bare_wsgi:application", env, port, workers, log_path, pythonpath=tmp)
        wait_healthy(proc, port, workers, log_path)
        bare = measure(port, "/", "", clients, warmup, seconds, [proc.pid, *worker_pids(proc.pid)])
    finally:
        stop_gunicorn(proc)
    print(
        f"bare Django view ({bare.bytes / 1024:.0f} KB page): {bare.rps:,.0f} req/s, p50 {bare.pct(0.5):.1f} ms, "
        f"gunicorn CPU {bare.server_cpu / bare.ok * 1000:.2f} ms/req"
    )

    results: dict[int, dict[str, Measured]] = {}
    inprocs: dict[int, dict[str, dict]] = {}
    busy_warnings: list[str] = []
    stack: Measured | None = None
    for size in sizes:
        url = size_url(base_url, size)
        dbname = urlsplit(url).path.lstrip("/")
        print(f"\n== size {size:,}: database {dbname}, {table_rows(size):,} clients in {PRACTICES:,} practices")
        ensure_database(url)
        port = free_port()
        env = child_env(url, port)
        manage(env, "migrate", "--noinput")
        manage(env, "createcachetable")
        prepare_static(env)
        generated, took = ensure_data(url, size)
        print(f"  data generated in {took:.0f}s" if generated else "  data reused (already generated at this size)")
        inproc = inprocs[size] = in_process(env, explain)
        for key, _, path in SCENARIOS:
            if inproc[key]["status"] != 200:
                raise BenchError(f"in-process GET {path}: HTTP {inproc[key]['status']}")
        proc = None
        try:
            proc = start_gunicorn("partnerdesk.wsgi:application", env, port, workers, log_path)
            wait_healthy(proc, port, workers, log_path)
            pids = [proc.pid, *worker_pids(proc.pid)]
            cookie = sign_in(port)
            results[size] = {}
            print(
                f"  {'scenario':22s} {'req/s':>7s} {'p50 ms':>7s} {'p95 ms':>7s} {'queries':>7s} {'SQL ms':>7s} "
                f"{'KB':>5s} {'CPU ms/req: gunicorn':>21s} {'PostgreSQL':>10s}  rows / page"
            )
            for key, label, path in SCENARIOS:
                m = results[size][key] = measure(port, path, cookie, clients, warmup, seconds, pids)
                info = inproc[key]
                sql_ms = sum(q["ms"] for q in info["queries"])
                shown = f"page {info['page']}" if info["page"] is not None else ""
                count = f"{info['count']:,} rows, " if info["count"] is not None else ""
                print(
                    f"  {label:22s} {m.rps:7.1f} {m.pct(0.5):7.1f} {m.pct(0.95):7.1f} {len(info['queries']):7d} "
                    f"{sql_ms:7.1f} {m.bytes / 1024:5.0f} {m.server_cpu / m.ok * 1000:21.1f} "
                    f"{m.postgres_cpu / m.ok * 1000:10.1f}  {count}{shown}"
                )
                if key.endswith("deep") and info["page"] != DEEP_PAGE:
                    print(f"    (page {DEEP_PAGE} does not exist at this size: the last page was served)")
                if m.other_cpu / (m.elapsed * cores) > 0.05:
                    busy_warnings.append(
                        f"{size:,} {label.strip()}: other processes used "
                        f"{m.other_cpu / (m.elapsed * cores):.0%} of the machine"
                    )
        finally:
            stop_gunicorn(proc)
        if stack is None:
            stack = measure_stack(tmp, env, workers, clients, warmup, seconds, log_path)
            print(
                f"  {'(fixed page, app stack)':22s} {stack.rps:7.1f} {stack.pct(0.5):7.1f} {stack.pct(0.95):7.1f} "
                f"{'':7s} {'':7s} {stack.bytes / 1024:5.0f} {stack.server_cpu / stack.ok * 1000:21.1f} "
                f"{stack.postgres_cpu / stack.ok * 1000:10.1f}  the bare page behind the app's middleware, signed in"
            )
        if explain:
            print_plans(size, inproc)

    # ---- targets
    smallest, largest = sizes[0], sizes[-1]
    print("\n== targets")
    print("query count the same at every size:")
    same_everywhere = True
    for key, label, _ in SCENARIOS:
        counts = [len(inprocs[s][key]["queries"]) for s in sizes]
        same = len(set(counts)) == 1
        same_everywhere &= same
        print(f"  {label:22s} {' / '.join(str(c) for c in counts):>20s}  {verdict(same)}")
    print(f"  overall: {verdict(same_everywhere)}" + ("" if len(sizes) > 1 else " (only one size run)"))

    print(f"p50 latency at {largest:,} within {TARGET_LATENCY_RATIO}x of p50 at {smallest:,}:")
    latency_ok = True
    for key, label, _ in SCENARIOS:
        lo, hi = results[smallest][key].pct(0.5), results[largest][key].pct(0.5)
        ratio = hi / lo if lo else float("inf")
        latency_ok &= ratio <= TARGET_LATENCY_RATIO
        print(f"  {label:22s} {lo:7.1f} ms -> {hi:7.1f} ms  x{ratio:5.2f}  {verdict(ratio <= TARGET_LATENCY_RATIO)}")
    note = "" if largest == 1_000_000 else f" (NOTE: the largest size run is {largest:,}, not 1,000,000)"
    print(f"  overall: {verdict(latency_ok)}{note}")

    print(f"page throughput >= {TARGET_BARE_SHARE:.0%} of the bare view ({bare.rps:,.0f} req/s):")
    share_ok = True
    for size in sizes:
        shares = []
        for key, label, _ in SCENARIOS:
            if key.startswith("page"):
                share = results[size][key].rps / bare.rps
                share_ok &= share >= TARGET_BARE_SHARE
                shares.append(f"{label.split(maxsplit=1)[1]} {share:.0%}")
        api = ", ".join(
            f"{label.split(maxsplit=1)[1]} {results[size][key].rps / bare.rps:.0%}"
            for key, label, _ in SCENARIOS
            if key.startswith("api")
        )
        print(f"  {size:>9,}  page: {', '.join(shares)}   (api: {api})")
    print(f"  overall (page scenarios): {verdict(share_ok)}")
    if stack is not None:
        print(
            f"  for reference: the bare page behind the app's middleware and sign-in serves {stack.rps:,.0f} req/s "
            f"({stack.rps / bare.rps:.0%} of the bare view); the page scenarios at {largest:,} are "
            + ", ".join(
                f"{label.split(maxsplit=1)[1]} {results[largest][key].rps / stack.rps:.0%}"
                for key, label, _ in SCENARIOS
                if key.startswith("page")
            )
            + " of it"
        )
    print(
        "(rates and p50 are with "
        f"{clients} concurrent clients on {workers} sync workers, load generator on the same machine)"
    )
    for warning in busy_warnings:
        print(f"WARNING: the machine was not idle: {warning}; rerun when idle")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as exc:
        print(f"bench_client_list: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("bench_client_list: interrupted", file=sys.stderr)
        sys.exit(130)
