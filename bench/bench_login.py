"""Password sign-ins per second per core through the real sign-in endpoint, next to raw Argon2id.

Run from the repository root (``make bench`` does this for every bench/bench_*.py):

    .venv/bin/python bench/bench_login.py            # the benchmark (BENCH_SECONDS, default 20)
    .venv/bin/python bench/bench_login.py --profile  # where one sign-in spends its time (in-process)

What it does, all on loopback and for a bounded time:

1. PostgreSQL from BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/partnerdesk_bench);
   the database is created when missing. No PostgreSQL: a message and exit status 2.
2. ``migrate``, ``createcachetable`` and a set of bench users with a verified primary email address,
   their passwords hashed by the project's hasher (Argon2id, t=2, m=19 MiB, p=1).
3. gunicorn with one sync worker per core, configured as deployed (DEBUG off, static files collected; the
   checkout's own secrets from var/; BENCH_DEBUG=1 runs it with DEBUG on instead), RATE_LIMITS=0,
   ALLOWED_HOSTS=127.0.0.1.
4. 2 x cores client threads, each looping: fresh cookies, GET /accounts/login/, POST the form.
   A sign-in counts only as a 302 to the post-login URL that sets a ``sessionid`` cookie.
5. The ceiling (BENCH_CEILING=0 leaves it out): the same load against a WSGI app that only checks the form
   token and verifies the same hash with argon2-cffi (no Django, no database), under the same gunicorn
   command line: the most any sign-in can reach on this machine, as a rate and a ratio.
6. Then, with the server idle, one process per core verifying a precomputed hash with the same
   hasher (``django.contrib.auth.hashers.check_password``) for the same duration.

Figures are printed, never asserted. The exit status is non-zero only for a broken run: no
database, the server not starting, more than 1% failed sign-ins, or no sign-in at all.

Environment: BENCH_DATABASE_URL, BENCH_SECONDS (20), BENCH_WARMUP_SECONDS (3), BENCH_WORKERS
(os.cpu_count()), BENCH_THREADS (1: sync workers; more: gthread), BENCH_CEILING (1), BENCH_CLIENTS
(2 x workers x threads), BENCH_USERS (2000; sign-ins go round them), BENCH_DEBUG (0).
"""

from __future__ import annotations

import cProfile
import html
import http.client
import io
import json
import multiprocessing
import os
import pstats
import re
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PYTHON = sys.executable
GUNICORN = str(Path(PYTHON).with_name("gunicorn"))
HOST = "127.0.0.1"
DEFAULT_DB_URL = "postgres://postgres@127.0.0.1:5432/partnerdesk_bench"
PASSWORD = "bench-correct-horse-battery-staple"
EMAIL_PATTERN = "bench{}@bench.partnerdesk.invalid"
LOGIN_PATH = "/accounts/login/"
KEYCLOAK_PER_VCPU = 15.0  # password logins/s/vCPU, Keycloak sizing guide
TARGET_RATIO = 0.80
TARGET_PER_CORE = 2 * KEYCLOAK_PER_VCPU
MAX_FAILURE_RATE = 0.01


class BenchError(Exception):
    """A broken run: printed and turned into a non-zero exit status."""


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BenchError(f"{name} must be a whole number, got {raw!r}") from None
    if value < 1:
        raise BenchError(f"{name} must be at least 1, got {value}")
    return value


# --------------------------------------------------------------------------------------------
# Database


def server_conninfo(url: str) -> tuple[dict[str, object], str]:
    """(connection settings for the server's ``postgres`` database, the bench database's name) from the URL."""
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql"}:
        raise BenchError(f"BENCH_DATABASE_URL must be a postgres:// URL, got {url!r}")
    dbname = unquote(parts.path.lstrip("/"))
    if not dbname:
        raise BenchError(f"BENCH_DATABASE_URL must name a database, got {url!r}")
    conninfo: dict[str, object] = {
        "host": parts.hostname or "127.0.0.1",
        "port": parts.port or 5432,
        "user": unquote(parts.username or "postgres"),
        "dbname": "postgres",
        "connect_timeout": 5,
    }
    if parts.password:
        conninfo["password"] = unquote(parts.password)
    return conninfo, dbname


def ensure_database(url: str) -> None:
    """Connect to the server's ``postgres`` database and create the bench database if missing."""
    import psycopg
    from psycopg import sql

    conninfo, dbname = server_conninfo(url)
    try:
        with psycopg.connect(**conninfo, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [dbname]).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
                print(f"created database {dbname}")
    except psycopg.OperationalError as exc:
        where = f"{conninfo['host']}:{conninfo['port']} as {conninfo['user']}"
        raise BenchError(
            f"PostgreSQL is not reachable at {where}: {str(exc).strip()}\n"
            "Start PostgreSQL or point BENCH_DATABASE_URL at one (postgres://user@host:port/dbname)."
        ) from None


# The checkout's own secrets (made by a DEBUG run, kept in var/, never in the repository), passed in the
# environment as a deployment passes its own.
DEPLOYED_SECRETS = {
    "SECRET_KEY": "dev-secret-key",
    "FIELD_ENCRYPTION_KEY": "dev-field-encryption-key",
    "OIDC_PRIVATE_KEY": "dev-oidc-private-key.pem",
}


def bench_debug() -> bool:
    return env_int("BENCH_DEBUG", 0) == 1


def child_env(db_url: str, port: int) -> dict[str, str]:
    """The app's environment: as deployed (DEBUG off) unless BENCH_DEBUG=1.

    DEBUG on logs every SQL statement in memory and keeps the templates' debug information: it measures a
    development server, not the product.
    """
    env = dict(os.environ)
    env.update(
        {
            "DEBUG": "1" if bench_debug() else "0",
            "DATABASE_URL": db_url,
            "RATE_LIMITS": "0",
            "PORT": str(port),
            "ALLOWED_HOSTS": HOST,
            "DJANGO_SETTINGS_MODULE": "partnerdesk.settings",
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.pop("REDIS_URL", None)  # the database cache, as in the embedded default deployment
    if bench_debug():
        env.pop("EMAIL_URL", None)  # DEBUG's developer inbox: a sign-in sends no email anyway
        return env
    var = ROOT / "var"
    if not all((var / name).exists() for name in DEPLOYED_SECRETS.values()):
        manage({**env, "DEBUG": "1"}, "check")  # a DEBUG start makes the checkout's secrets
    env.update({key: (var / name).read_text().strip() for key, name in DEPLOYED_SECRETS.items()})
    env.update(
        {
            "EMAIL_URL": "locmem://",  # nothing here sends email; the outbox rows stay in the database
            "SECURE_SSL_REDIRECT": "0",  # plain HTTP on loopback (a deployment terminates TLS in front)
            "SECURE_HSTS_SECONDS": "0",
            # Printed on invoices; without them the system check billing.E001 stops manage.py (no invoice here).
            "INVOICE_SUPPLIER_NAME": "Partnerdesk Bench Ltd",
            "INVOICE_SUPPLIER_ADDRESS": "1 Bench Street|London|EC1A 1AA",
            "INVOICE_SUPPLIER_VAT_NUMBER": "GB999999973",
        }
    )
    return env


def prepare_static(env: dict[str, str]) -> None:
    """DEBUG off serves static files from the collected manifest (WhiteNoise), as deployed."""
    if env.get("DEBUG") == "0":
        manage(env, "collectstatic", "--noinput", "-v", "0")


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    if result.returncode != 0:
        raise BenchError(f"manage.py {' '.join(args[:1])} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


SETUP_USERS = """
import json
from allauth.account.models import EmailAddress
from allauth.usersessions.models import UserSession
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.sessions.models import Session
from django.db import transaction
from django.shortcuts import resolve_url
from partnerdesk.identity.models import User

count, pattern, password = {count}, {pattern!r}, {password!r}
emails = [pattern.format(i) for i in range(count)]
# One hash by the first hasher in PASSWORD_HASHERS, shared by every bench user: verifying it costs
# exactly what verifying a per-user hash costs, and setting up thousands of users stays quick.
encoded = make_password(password)
with transaction.atomic():
    User.objects.filter(email__in=emails).update(password=encoded, is_active=True)
    have = set(User.objects.filter(email__in=emails).values_list("email", flat=True))
    User.objects.bulk_create(
        [User(email=e, full_name="Bench User", password=encoded) for e in emails if e not in have], batch_size=1000
    )
    users = dict(User.objects.filter(email__in=emails).values_list("email", "pk"))
    EmailAddress.objects.filter(user_id__in=users.values()).update(verified=True, primary=True)
    verified = set(EmailAddress.objects.filter(user_id__in=users.values()).values_list("email", flat=True))
    EmailAddress.objects.bulk_create(
        [EmailAddress(user_id=users[e], email=e, verified=True, primary=True) for e in emails if e not in verified],
        batch_size=1000,
    )
    # Every run starts from the same state: no sessions left over from earlier runs.
    UserSession.objects.filter(user_id__in=users.values()).delete()
    Session.objects.all().delete()
print(json.dumps({{
    "redirect": resolve_url(settings.LOGIN_REDIRECT_URL),
    "hasher": settings.PASSWORD_HASHERS[0],
    "sample_hash": encoded,
}}))
"""


def prepare(env: dict[str, str], users: int) -> dict[str, str]:
    manage(env, "migrate", "--noinput")
    manage(env, "createcachetable")
    prepare_static(env)
    code = SETUP_USERS.format(count=users, pattern=EMAIL_PATTERN, password=PASSWORD)
    out = manage(env, "shell", "-c", code)
    return json.loads(out.strip().splitlines()[-1])


# --------------------------------------------------------------------------------------------
# gunicorn


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


# A gunicorn config file (server hooks only): each worker meters the CPU time of its Argon2 computations and keeps
# the running total, 8 bytes, in a file named after its pid in BENCH_HASH_CPU_DIR. So the sign-in's CPU splits into
# the hash and the rest as measured in the same processes, which other work on the machine skews far less than
# comparing with a separate hash run. The meter costs two clock reads and one pwrite per hash.
HASH_METER_CONFIG = """
import os
import struct
import threading
import time


def post_worker_init(worker):
    import argon2
    from argon2 import low_level

    fd = os.open(os.path.join(os.environ["BENCH_HASH_CPU_DIR"], str(os.getpid())), os.O_WRONLY | os.O_CREAT, 0o600)
    lock = threading.Lock()
    total = [0.0]

    def metered(function):
        def wrapper(*args, **kwargs):
            start = time.thread_time()
            try:
                return function(*args, **kwargs)
            finally:
                with lock:
                    total[0] += time.thread_time() - start
                    os.pwrite(fd, struct.pack("d", total[0]), 0)

        return wrapper

    # Django's Argon2 hashers verify with argon2.PasswordHasher().verify and hash with argon2.low_level.hash_secret.
    argon2.PasswordHasher.verify = metered(argon2.PasswordHasher.verify)
    low_level.hash_secret = metered(low_level.hash_secret)
"""


def hash_cpu_seconds(directory: Path) -> float:
    """The Argon2 CPU seconds the gunicorn workers metered so far (HASH_METER_CONFIG), summed."""
    total = 0.0
    for path in directory.iterdir():
        try:
            data = path.read_bytes()
        except OSError:
            continue
        if len(data) == 8:
            total += struct.unpack("d", data)[0]
    return total


def start_gunicorn(
    env: dict[str, str],
    port: int,
    workers: int,
    log_path: Path,
    threads: int = 1,
    hash_cpu_dir: Path | None = None,
    app: str = "partnerdesk.wsgi:application",
    pythonpath: str | None = None,
) -> subprocess.Popen[bytes]:
    log = log_path.open("wb")
    if hash_cpu_dir is not None:
        config = hash_cpu_dir / "gunicorn_hash_meter.conf.py"
        config.write_text(HASH_METER_CONFIG)
        meter_dir = hash_cpu_dir / "workers"
        meter_dir.mkdir(exist_ok=True)
        env = {**env, "BENCH_HASH_CPU_DIR": str(meter_dir)}
    cmd = [
        GUNICORN,
        *(["--config", str(config)] if hash_cpu_dir is not None else []),
        *(["--pythonpath", pythonpath] if pythonpath else []),
        app,
        "--bind",
        f"{HOST}:{port}",
        "--workers",
        str(workers),
        *(["--worker-class", "sync"] if threads == 1 else ["--worker-class", "gthread", "--threads", str(threads)]),
        "--backlog",
        "2048",
        "--timeout",
        "60",
    ]
    # Own process group, so the master and its workers are stopped together and only them.
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def stop_gunicorn(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


def wait_healthy(proc: subprocess.Popen[bytes], port: int, workers: int, log_path: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"gunicorn exited with status {proc.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=5)
            conn.request("GET", "/healthz", headers={"Host": HOST})
            resp = conn.getresponse()
            resp.read()
            conn.close()
            if resp.status == 200 and len(worker_pids(proc.pid)) >= workers:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise BenchError(f"gunicorn did not answer /healthz within {timeout:.0f}s:\n{log_path.read_text()[-3000:]}")


def worker_pids(master: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{master}/task/{master}/children").read_text().split()]
    except (OSError, ValueError):
        return []


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of the given processes (Linux /proc; 0 elsewhere)."""
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, IndexError, ValueError):
            continue
    return total / ticks


def postgres_cpu(db_url: str | None = None) -> dict[int, float]:
    """CPU seconds of local PostgreSQL processes, by pid: with ``db_url``, the postmaster, the background processes
    (WAL writer, checkpointer, autovacuum, ...) and the backends connected to that database, so other databases'
    work on the same server (other test runs) is left out; without it, every local process named postgres."""
    found: dict[int, float] = {}
    wanted = postgres_pids(db_url) if db_url else None
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            pid = int(entry.name)
            if (wanted is None or pid in wanted) and entry.joinpath("comm").read_text().strip() == "postgres":
                found[pid] = cpu_seconds([pid])
        except (OSError, ValueError):
            continue
    return found


def postgres_pids(db_url: str) -> set[int] | None:
    """The pids ``postgres_cpu`` counts for the database of ``db_url``; None when the server cannot be asked."""
    import psycopg

    conninfo, dbname = server_conninfo(db_url)
    try:
        with psycopg.connect(**conninfo, autocommit=True) as conn:  # type: ignore[arg-type]
            rows = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE (datname = %s OR backend_type <> 'client backend') "
                "AND pid <> pg_backend_pid()",
                [dbname],
            ).fetchall()
    except psycopg.Error:
        return None
    pids = {int(pid) for (pid,) in rows}
    for pid in list(pids):  # and their parent, the postmaster
        try:
            pids.add(int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1]))
            break
        except (OSError, IndexError, ValueError):
            continue
    return pids


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    try:
        values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except (OSError, ValueError):
        return 0.0, 0.0
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    ticks = os.sysconf("SC_CLK_TCK")
    return (sum(values) - idle) / ticks, sum(values) / ticks


# --------------------------------------------------------------------------------------------
# The load: one sign-in per loop, each with fresh cookies

CSRF_INPUT = re.compile(r"<input[^>]*name=\"csrfmiddlewaretoken\"[^>]*>", re.I)
VALUE_ATTR = re.compile(r"value=\"([^\"]*)\"", re.I)


def parse_set_cookies(resp: http.client.HTTPResponse) -> dict[str, str]:
    cookies: dict[str, str] = {}
    for header in resp.headers.get_all("Set-Cookie") or []:
        name, _, rest = header.partition("=")
        cookies[name.strip()] = rest.split(";", 1)[0]
    return cookies


def request(
    port: int, method: str, path: str, headers: dict[str, str], body: str | None = None
) -> tuple[http.client.HTTPResponse, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        conn.request(method, path, body=body, headers={"Host": HOST, **headers})
        resp = conn.getresponse()
        data = resp.read()
        return resp, data
    finally:
        conn.close()


def sign_in(port: int, email: str, redirect: str) -> str | None:
    """One full sign-in with fresh cookies. None on success, else a short reason."""
    resp, body = request(port, "GET", LOGIN_PATH, {})
    if resp.status != 200:
        return f"GET login page: HTTP {resp.status}"
    cookies = parse_set_cookies(resp)
    csrf_cookie = cookies.get("csrftoken")
    if not csrf_cookie:
        return "GET login page: no csrftoken cookie"
    tag = CSRF_INPUT.search(body.decode("utf-8", "replace"))
    value = VALUE_ATTR.search(tag.group(0)) if tag else None
    if value is None:
        return "GET login page: no csrfmiddlewaretoken field"
    form = {"csrfmiddlewaretoken": html.unescape(value.group(1)), "login": email, "password": PASSWORD}
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
        "Referer": f"http://{HOST}:{port}{LOGIN_PATH}",
        "Origin": f"http://{HOST}:{port}",
    }
    resp, _ = request(port, "POST", LOGIN_PATH, headers, urlencode(form))
    if resp.status != 302:
        return f"POST login: HTTP {resp.status}"
    location = resp.headers.get("Location", "")
    if urlsplit(location).path != urlsplit(redirect).path:
        return f"POST login: redirected to {location!r}, not {redirect!r}"
    if not parse_set_cookies(resp).get("sessionid"):
        return "POST login: no sessionid cookie"
    return None


@dataclass
class LoadResult:
    ok: int
    failures: Counter[str]
    elapsed: float
    latencies: list[float]
    server_cpu: float
    client_cpu: float
    postgres_cpu: float
    machine_busy: float
    other_cpu: float
    hash_cpu: float | None = None  # the Argon2 part of server_cpu, metered in the workers


class Load:
    def __init__(self, port: int, redirect: str, users: int) -> None:
        self.port, self.redirect, self.users = port, redirect, users
        self.lock = threading.Lock()
        self.ok = 0
        self.failures: Counter[str] = Counter()
        self.latencies: list[float] = []
        self.counting = False
        self.stop = threading.Event()

    def client(self, index: int, clients: int) -> None:
        n = index
        while not self.stop.is_set():
            email = EMAIL_PATTERN.format(n % self.users)
            n += clients
            start = time.perf_counter()
            try:
                reason = sign_in(self.port, email, self.redirect)
            except (OSError, http.client.HTTPException) as exc:
                reason = f"{type(exc).__name__}: {exc}"
            elapsed = time.perf_counter() - start
            with self.lock:
                if not self.counting:
                    continue
                if reason is None:
                    self.ok += 1
                    self.latencies.append(elapsed)
                else:
                    self.failures[reason] += 1


def run_load(
    port: int,
    redirect: str,
    users: int,
    clients: int,
    warmup: float,
    seconds: float,
    server_pids: list[int],
    db_url: str | None = None,
    hash_cpu_dir: Path | None = None,
) -> LoadResult:
    load = Load(port, redirect, users)
    threads = [threading.Thread(target=load.client, args=(i, clients), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    try:
        time.sleep(warmup)
        with load.lock:
            load.counting = True
            pg0 = postgres_cpu(db_url)
            started = time.perf_counter()
            server_cpu0 = cpu_seconds(server_pids)
            hash_cpu0 = hash_cpu_seconds(hash_cpu_dir) if hash_cpu_dir else 0.0
            client_cpu0 = time.process_time()
            busy0, total0 = machine_busy()
        time.sleep(seconds)
        with load.lock:
            load.counting = False
            elapsed = time.perf_counter() - started
            server_cpu = cpu_seconds(server_pids) - server_cpu0
            hash_cpu = hash_cpu_seconds(hash_cpu_dir) - hash_cpu0 if hash_cpu_dir else None
            client_cpu = time.process_time() - client_cpu0
            busy1, total1 = machine_busy()
            pg = sum(cpu - pg0.get(pid, 0.0) for pid, cpu in postgres_cpu(db_url).items())
            ok, failures, latencies = load.ok, Counter(load.failures), sorted(load.latencies)
    finally:
        load.stop.set()
        for t in threads:
            t.join(timeout=35)
    return LoadResult(
        ok=ok,
        failures=failures,
        elapsed=elapsed,
        latencies=latencies,
        server_cpu=server_cpu,
        client_cpu=client_cpu,
        postgres_cpu=pg,
        machine_busy=(busy1 - busy0) / (total1 - total0) if total1 > total0 else 0.0,
        other_cpu=max(0.0, (busy1 - busy0) - server_cpu - client_cpu - pg),
        hash_cpu=hash_cpu,
    )


# --------------------------------------------------------------------------------------------
# The ceiling: the same load against a WSGI app that does nothing but what a sign-in cannot skip

# No Django, no database, no session store: GET hands out a form token in a cookie and the page, POST checks the
# token against the cookie, verifies the password against the bench users' hash with argon2-cffi (what Django's
# Argon2 hasher calls, with the same parameters, read from the hash), and answers 302 with a random sessionid
# cookie. Under the same gunicorn command line, the same hash meter and the same load generator, its rate is the
# most any sign-in can reach on this machine; the app's own sign-in also writes its session, device and audit rows.
CEILING_WSGI = """
import os
import secrets
import unicodedata
from urllib.parse import parse_qs

import argon2

HASH = "$" + os.environ["BENCH_CEILING_HASH"].split("$", 1)[1]
REDIRECT = os.environ["BENCH_CEILING_REDIRECT"]
HASHER = argon2.PasswordHasher()
PAGE = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in</title></head><body>'
    '<form method="post"><input type="hidden" name="csrfmiddlewaretoken" value="{}">'
    '<input name="login" type="email"><input name="password" type="password"><button>Sign in</button>'
    "</form></body></html>"
)


def application(environ, start_response):
    if environ["PATH_INFO"] == "/healthz" or environ["REQUEST_METHOD"] != "POST":
        token = secrets.token_urlsafe(32)
        body = PAGE.format(token).encode()
        start_response("200 OK", [
            ("Content-Type", "text/html; charset=utf-8"),
            ("Content-Length", str(len(body))),
            ("Set-Cookie", f"csrftoken={token}; Path=/; SameSite=Lax"),
        ])
        return [body]
    length = int(environ.get("CONTENT_LENGTH") or 0)
    form = parse_qs(environ["wsgi.input"].read(length).decode())
    cookies = dict(part.strip().split("=", 1) for part in environ.get("HTTP_COOKIE", "").split(";") if "=" in part)
    token = form.get("csrfmiddlewaretoken", [""])[0]
    ok = bool(token) and secrets.compare_digest(token, cookies.get("csrftoken", ""))
    try:
        ok = HASHER.verify(HASH, unicodedata.normalize("NFKC", form.get("password", [""])[0])) and ok
    except argon2.exceptions.VerificationError:
        ok = False
    if not ok:
        start_response("403 Forbidden", [("Content-Length", "0")])
        return [b""]
    start_response("302 Found", [
        ("Location", REDIRECT),
        ("Content-Length", "0"),
        ("Set-Cookie", f"sessionid={secrets.token_urlsafe(24)}; Path=/; HttpOnly; SameSite=Lax"),
    ])
    return [b""]
"""


def run_ceiling(
    env: dict[str, str],
    setup: dict[str, str],
    workers: int,
    threads: int,
    users: int,
    clients: int,
    warmup: float,
    seconds: float,
    db_url: str,
    log_path: Path,
) -> LoadResult:
    """The load of the benchmark against CEILING_WSGI."""
    with tempfile.TemporaryDirectory(prefix="bench-login-ceiling-") as tmp:
        Path(tmp, "bench_ceiling_wsgi.py").write_text(CEILING_WSGI)
        port = free_port()
        ceiling_env = {
            **env,
            "PORT": str(port),
            "BENCH_CEILING_HASH": setup["sample_hash"],
            "BENCH_CEILING_REDIRECT": setup["redirect"],
        }
        proc = None
        try:
            proc = start_gunicorn(
                ceiling_env,
                port,
                workers,
                log_path,
                threads,
                hash_cpu_dir=Path(tmp),
                app="bench_ceiling_wsgi:application",
                pythonpath=tmp,
            )
            wait_healthy(proc, port, workers, log_path)
            server_pids = [proc.pid, *worker_pids(proc.pid)]
            return run_load(
                port, setup["redirect"], users, clients, warmup, seconds, server_pids, db_url, Path(tmp) / "workers"
            )
        finally:
            stop_gunicorn(proc)


# --------------------------------------------------------------------------------------------
# Raw hash rate: one process per core verifying with the project's hasher


def hash_worker(encoded: str, seconds: float, barrier: object, results: object) -> None:
    import django

    django.setup()
    from django.contrib.auth.hashers import check_password

    if not check_password(PASSWORD, encoded):
        results.put((0, 1.0, 0.0, "the precomputed hash does not verify"))  # type: ignore[attr-defined]
        return
    barrier.wait()  # type: ignore[attr-defined]
    count = 0
    cpu0 = time.process_time()
    start = time.perf_counter()
    deadline = start + seconds
    while time.perf_counter() < deadline:
        check_password(PASSWORD, encoded)
        count += 1
    results.put((count, time.perf_counter() - start, time.process_time() - cpu0, ""))  # type: ignore[attr-defined]


def run_hash_rate(env: dict[str, str], encoded: str, processes: int, seconds: float) -> tuple[float, float, float]:
    """(verifications/s in total, CPU seconds per verification, share of a core each process got)."""
    keys = ("DEBUG", "DATABASE_URL", "RATE_LIMITS", "DJANGO_SETTINGS_MODULE", "ALLOWED_HOSTS", "EMAIL_URL")
    os.environ.update({k: env[k] for k in (*keys, *DEPLOYED_SECRETS) if k in env})
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(processes), ctx.Queue()
    procs = [ctx.Process(target=hash_worker, args=(encoded, seconds, barrier, results)) for _ in range(processes)]
    for p in procs:
        p.start()
    try:
        outcomes = [results.get(timeout=seconds + 120) for _ in procs]
    finally:
        for p in procs:
            p.join(timeout=10)
            if p.is_alive():
                p.terminate()
    errors = [o[3] for o in outcomes if o[3]]
    if errors:
        raise BenchError(f"raw hash benchmark: {errors[0]}")
    rate = sum(count / elapsed for count, elapsed, _, _ in outcomes)
    cpu_per_verify = sum(cpu for _, _, cpu, _ in outcomes) / max(1, sum(count for count, _, _, _ in outcomes))
    share = sum(cpu for _, _, cpu, _ in outcomes) / sum(elapsed for _, elapsed, _, _ in outcomes)
    return rate, cpu_per_verify, share


# --------------------------------------------------------------------------------------------
# --profile: one sign-in in-process, with its SQL and a cProfile


def profile(db_url: str, users: int) -> int:
    """One process, django.test.Client: SQL of one sign-in, then CPU time and a cProfile of many."""
    env = child_env(db_url, free_port())
    prepare(env, users)
    os.environ.update(env)
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    referer = f"http://{HOST}{LOGIN_PATH}"
    serial = iter(range(10**9))

    def page() -> tuple[Client, dict[str, str]]:
        """A fresh browser that has loaded the sign-in page: the client and the form to post."""
        client = Client(enforce_csrf_checks=True, HTTP_HOST=HOST)
        response = client.get(LOGIN_PATH)
        tag = CSRF_INPUT.search(response.content.decode())
        value = VALUE_ATTR.search(tag.group(0)) if tag else None
        if value is None:
            raise BenchError("the sign-in page has no csrfmiddlewaretoken field")
        email = EMAIL_PATTERN.format(next(serial) % users)
        return client, {"csrfmiddlewaretoken": html.unescape(value.group(1)), "login": email, "password": PASSWORD}

    for _ in range(5):  # warm templates, caches and the database connection
        client, data = page()
        client.post(LOGIN_PATH, data, HTTP_REFERER=referer)

    client, data = page()
    with CaptureQueriesContext(connection) as get_queries:
        client.get(LOGIN_PATH)
    with CaptureQueriesContext(connection) as post_queries:
        response = client.post(LOGIN_PATH, data, HTTP_REFERER=referer)
    print(f"POST status {response.status_code} -> {response.get('Location')}")
    for label, captured in (("GET /accounts/login/", get_queries), ("POST /accounts/login/", post_queries)):
        print(f"\n{label}: {len(captured.captured_queries)} SQL queries")
        for query in captured.captured_queries:
            print(f"  {query['time']:>6}s  {query['sql'][:150]}")

    # allauth.usersessions checks every earlier session of the user at each sign-in (purge_and_list).
    email = EMAIL_PATTERN.format(users - 1)
    for earlier in range(6):
        client, data = page()
        data["login"] = email
        if earlier == 5:
            with CaptureQueriesContext(connection) as captured:
                client.post(LOGIN_PATH, data, HTTP_REFERER=referer)
            print(f"\nPOST /accounts/login/ for a user with 5 live sessions: {len(captured)} SQL queries")
        else:
            client.post(LOGIN_PATH, data, HTTP_REFERER=referer)

    # Argon2id computations per attempt: the sign-in's whole cost should be one.
    from partnerdesk.identity.hashers import Argon2idOwaspHasher

    calls = Counter[str]()
    real_verify, real_encode = Argon2idOwaspHasher.verify, Argon2idOwaspHasher.encode

    def counting_verify(self: Argon2idOwaspHasher, password: str, encoded: str) -> bool:
        calls["verify"] += 1
        return real_verify(self, password, encoded)

    def counting_encode(self: Argon2idOwaspHasher, password: str, salt: str) -> str:
        calls["encode"] += 1
        return real_encode(self, password, salt)

    Argon2idOwaspHasher.verify, Argon2idOwaspHasher.encode = counting_verify, counting_encode  # type: ignore[method-assign]
    try:
        print()
        for label, login, password in (
            ("right password", EMAIL_PATTERN.format(0), PASSWORD),
            ("wrong password", EMAIL_PATTERN.format(1), PASSWORD + "x"),
            ("unknown email", "nobody@bench.partnerdesk.invalid", PASSWORD),
        ):
            client, data = page()
            data.update(login=login, password=password)
            calls.clear()
            status = client.post(LOGIN_PATH, data, HTTP_REFERER=referer).status_code
            print(f"{label:15s} HTTP {status}: Argon2id {calls['verify']} verify + {calls['encode']} hash")
    finally:
        Argon2idOwaspHasher.verify, Argon2idOwaspHasher.encode = real_verify, real_encode  # type: ignore[method-assign]

    wsgi_steps(users)

    rounds = 30
    out = io.StringIO()

    def timed(label: str, calls: list[Callable[[], object]], profiled: bool) -> pstats.Stats | None:
        profiler = cProfile.Profile(time.process_time)  # CPU time: database waits excluded
        wall, cpu = time.perf_counter(), time.process_time()
        if profiled:
            profiler.enable()
        for call in calls:
            call()
        profiler.disable()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        how = "under cProfile" if profiled else "no profiler"
        print(f"{label:22s} {wall / len(calls) * 1000:6.1f} ms wall, {cpu / len(calls) * 1000:6.1f} ms CPU ({how})")
        return pstats.Stats(profiler, stream=out) if profiled else None

    def gets() -> list[Callable[[], object]]:
        return [lambda: Client(HTTP_HOST=HOST).get(LOGIN_PATH)] * rounds

    def posts() -> list[Callable[[], object]]:
        prepared = [page() for _ in range(rounds)]
        return [lambda c=c, d=d: c.post(LOGIN_PATH, d, HTTP_REFERER=referer) for c, d in prepared]

    print(f"\nper request, mean of {rounds}:")
    timed("GET /accounts/login/", gets(), profiled=False)
    timed("POST /accounts/login/", posts(), profiled=False)
    get_stats = timed("GET /accounts/login/", gets(), profiled=True)
    post_stats = timed("POST /accounts/login/", posts(), profiled=True)
    if get_stats is None or post_stats is None:
        return 1
    print(f"\n==== POST, by cumulative CPU time (of {rounds} sign-ins)")
    post_stats.sort_stats("cumulative").print_stats(70)
    post_stats.sort_stats("tottime").print_stats(15)
    print(out.getvalue())
    out.seek(0)
    out.truncate()
    print(f"==== GET, by cumulative CPU time (of {rounds} pages)")
    get_stats.sort_stats("cumulative").print_stats(40)
    print(out.getvalue())
    return 0


# Steps of the sign-in POST timed by wrapping them (module, attribute path, label). A step missing after an upgrade
# is left out of the table, never an error.
POST_STEPS = [
    ("partnerdesk.identity.hashers", "Argon2idOwaspHasher.verify", "Argon2id verify"),
    ("allauth.account.auth_backends", "filter_users_by_email", "find the account by email"),
    ("partnerdesk.identity.adapters", "AccountAdapter.authenticate", "authenticate (incl. the above)"),
    ("allauth.account.internal.flows.login", "is_login_rate_limited", "code rate limit check"),
    ("allauth.account.stages", "EmailVerificationStage.handle", "stage: verified email"),
    ("allauth.mfa.stages", "AuthenticateStage.handle", "stage: two-factor"),
    ("allauth.account.adapter", "DefaultAccountAdapter.login", "django login (key, last_login)"),
    ("allauth.account.adapter", "DefaultAccountAdapter.post_login", "post_login (signals, message)"),
    ("partnerdesk.identity.usersessions", "on_user_logged_in", "  device list"),
    ("partnerdesk.identity.audit_hooks", "_record", "  audit event"),
    ("django.contrib.sessions.middleware", "SessionMiddleware.process_response", "session save"),
    ("django.contrib.messages.middleware", "MessageMiddleware.process_response", "messages cookie"),
    ("django.middleware.csrf", "CsrfViewMiddleware.process_view", "CSRF check"),
]


def wsgi_steps(users: int, rounds: int = 100, reps: int = 5) -> None:
    """The sign-in as gunicorn runs it (Django's WSGI handler, no test client): CPU of the GET and of the POST and
    of the POST's steps, the median of ``reps`` rounds, also scaled to an Argon2id verify of 19.8 ms so that runs on
    a busy machine compare (everything slows down about alike)."""
    import importlib

    from django.core.handlers.wsgi import WSGIHandler

    app = WSGIHandler()
    spent: Counter[str] = Counter()
    undo = []
    for module_name, path, label in POST_STEPS:
        try:
            owner: object = importlib.import_module(module_name)
            *parents, name = path.split(".")
            for part in parents:
                owner = getattr(owner, part)
            original = getattr(owner, name)
        except (ImportError, AttributeError):
            continue

        def timed(*args: object, _original: Callable[..., object] = original, _label: str = label, **kwargs: object):
            start = time.process_time()
            try:
                return _original(*args, **kwargs)
            finally:
                spent[_label] += time.process_time() - start

        setattr(owner, name, timed)
        undo.append((owner, name, original))
    # Receivers were connected as function objects: reconnect the device-list one to its timed wrapper.
    from allauth.account import signals as account_signals

    try:
        from partnerdesk.identity import usersessions
    except ImportError:  # an older checkout, with allauth's own receiver
        usersessions = None  # type: ignore[assignment]
    if usersessions is not None:
        account_signals.user_logged_in.disconnect(dispatch_uid="partnerdesk_usersessions_logged_in")
        account_signals.user_logged_in.connect(usersessions.on_user_logged_in, dispatch_uid="bench_usersessions")

    def call(method: str, body: bytes = b"", headers: dict[str, str] | None = None) -> tuple[int, list, bytes]:
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": LOGIN_PATH,
            "QUERY_STRING": "",
            "SERVER_NAME": HOST,
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": HOST,
            "HTTP_HOST": HOST,
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "CONTENT_LENGTH": str(len(body)),
        }
        for key, value in (headers or {}).items():
            key = key.upper().replace("-", "_")
            environ[key if key == "CONTENT_TYPE" else f"HTTP_{key}"] = value
        status: list[str] = []
        chunks = app(environ, lambda line, response_headers, exc_info=None: status.extend([line, response_headers]))
        data = b"".join(chunks)
        chunks.close()  # type: ignore[attr-defined]
        return int(status[0].split()[0]), status[1], data

    serial = iter(range(10**9))

    def page() -> tuple[dict[str, str], bytes]:
        code, response_headers, body = call("GET")
        cookies = "; ".join(value.split(";", 1)[0] for key, value in response_headers if key.lower() == "set-cookie")
        tag = CSRF_INPUT.search(body.decode())
        value = VALUE_ATTR.search(tag.group(0)) if tag else None
        if code != 200 or value is None:
            raise BenchError(f"GET {LOGIN_PATH}: HTTP {code} without a csrfmiddlewaretoken field")
        form = {
            "csrfmiddlewaretoken": html.unescape(value.group(1)),
            "login": EMAIL_PATTERN.format(next(serial) % users),
            "password": PASSWORD,
        }
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": cookies,
            "Referer": f"http://{HOST}{LOGIN_PATH}",
        }
        return headers, urlencode(form).encode()

    from allauth.usersessions.models import UserSession

    UserSession.objects.all().delete()  # as in the benchmark: no earlier sessions
    try:
        for _ in range(10):
            call("POST", *reversed(page()))
        rows = []
        for _ in range(reps):
            start = time.process_time()
            for _ in range(rounds):
                call("GET")
            get = (time.process_time() - start) / rounds
            prepared = [page() for _ in range(rounds)]
            spent.clear()
            start = time.process_time()
            for headers, body in prepared:
                code, _, _ = call("POST", body, headers)
                if code != 302:
                    raise BenchError(f"POST {LOGIN_PATH}: HTTP {code}")
            post = (time.process_time() - start) / rounds
            rows.append((get, post, {label: cpu / rounds for label, cpu in spent.items()}))
    finally:
        for owner, name, original in undo:
            setattr(owner, name, original)
        if usersessions is not None:
            account_signals.user_logged_in.disconnect(dispatch_uid="bench_usersessions")
            usersessions.connect()

    rows.sort(key=lambda row: row[1] - row[2].get("Argon2id verify", 0.0) + row[0])
    get, post, steps = rows[len(rows) // 2]
    argon = steps.get("Argon2id verify", 0.0)
    scale = 0.0198 / argon if argon else 1.0
    print(f"\nthrough the WSGI handler, median of {reps} x {rounds} sign-ins (ms CPU; scaled: Argon2id = 19.8 ms)")
    print(f"  {'GET /accounts/login/':34s} {get * 1000:6.2f}  {get * scale * 1000:6.2f}")
    print(f"  {'POST /accounts/login/':34s} {post * 1000:6.2f}  {post * scale * 1000:6.2f}")
    for label, cpu in sorted(steps.items(), key=lambda item: -item[1]):
        print(f"    {label:32s} {cpu * 1000:6.2f}  {cpu * scale * 1000:6.2f}")
    rest = get + post - argon
    print(f"  {'GET + POST without Argon2id':34s} {rest * 1000:6.2f}  {rest * scale * 1000:6.2f}")


# --------------------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def print_ceiling(ceiling: LoadResult, raw_per_core: float, cores: int, app_ok: int, app_rest_cpu: float) -> None:
    """What the load reaches against CEILING_WSGI: the most any sign-in reaches on this machine, as a ratio."""
    if not ceiling.ok:
        print(f"\nceiling run: no sign-in succeeded ({dict(ceiling.failures)})")
        return
    per_core = ceiling.ok / ceiling.elapsed / cores
    ratio = per_core / raw_per_core if raw_per_core else 0.0
    hash_ms = (ceiling.hash_cpu or 0.0) / ceiling.ok * 1000
    rest_ms = (ceiling.server_cpu - (ceiling.hash_cpu or 0.0)) / ceiling.ok * 1000
    fixed_ms = (ceiling.client_cpu + ceiling.other_cpu + ceiling.postgres_cpu) / ceiling.ok * 1000
    print()
    print("ceiling: the same load against a WSGI app doing only the form token and the hash (no Django, no database)")
    print(
        f"  {ceiling.ok} sign-ins in {ceiling.elapsed:.1f}s, {sum(ceiling.failures.values())} failed; "
        f"{per_core:.1f} per core, ratio {ratio:.2f}"
    )
    print(
        f"  CPU per sign-in     gunicorn {ceiling.server_cpu / ceiling.ok * 1000:.1f} ms (Argon2id {hash_ms:.1f} ms, "
        f"the rest {rest_ms:.1f} ms), load generator and other processes {fixed_ms:.1f} ms"
    )
    if app_ok:
        print(
            f"  the app's sign-in spends {app_rest_cpu / app_ok * 1000:.1f} ms of server + PostgreSQL CPU besides "
            f"the hash; the ceiling {rest_ms:.1f} ms"
        )
    print(
        f"  target ratio {TARGET_RATIO:.2f} {'within' if ratio >= TARGET_RATIO else 'beyond'} this machine's ceiling; "
        f"target {TARGET_PER_CORE:.0f}/core {'within' if per_core >= TARGET_PER_CORE else 'beyond'} it"
    )


def main() -> int:
    if "--profile" in sys.argv[1:]:
        db_url = os.environ.get("BENCH_DATABASE_URL", "").strip() or DEFAULT_DB_URL
        ensure_database(db_url)
        return profile(db_url, 600)

    seconds = env_int("BENCH_SECONDS", 20)
    warmup = env_int("BENCH_WARMUP_SECONDS", 3)
    workers = env_int("BENCH_WORKERS", os.cpu_count() or 1)
    threads = env_int("BENCH_THREADS", 1)
    clients = env_int("BENCH_CLIENTS", 2 * workers * threads)
    users = env_int("BENCH_USERS", 2000)
    db_url = os.environ.get("BENCH_DATABASE_URL", "").strip() or DEFAULT_DB_URL
    cores = os.cpu_count() or 1

    kind = "sync workers" if threads == 1 else f"gthread workers x {threads} threads"
    print(f"bench_login: {cores} CPUs, {workers} gunicorn {kind}, {clients} client threads, {seconds}s")
    ensure_database(db_url)
    port = free_port()
    env = child_env(db_url, port)
    setup = prepare(env, users)
    print(f"database {urlsplit(db_url).path.lstrip('/')}: migrated, {users} users, hasher {setup['hasher']}")

    log_path = ROOT / "var" / "bench-gunicorn.log"
    log_path.parent.mkdir(exist_ok=True)
    proc = None
    with tempfile.TemporaryDirectory(prefix="bench-login-") as meter:
        try:
            proc = start_gunicorn(env, port, workers, log_path, threads, hash_cpu_dir=Path(meter))
            wait_healthy(proc, port, workers, log_path)
            server_pids = [proc.pid, *worker_pids(proc.pid)]
            load = run_load(
                port, setup["redirect"], users, clients, warmup, seconds, server_pids, db_url, Path(meter) / "workers"
            )
        finally:
            stop_gunicorn(proc)

    ceiling = None
    if os.environ.get("BENCH_CEILING", "1") != "0":
        ceiling = run_ceiling(env, setup, workers, threads, users, clients, warmup, seconds, db_url, log_path)

    raw_rate, raw_cpu, raw_share = run_hash_rate(env, setup["sample_hash"], workers, seconds)

    ok, failures, elapsed, latencies = load.ok, load.failures, load.elapsed, load.latencies
    failed = sum(failures.values())
    attempts = ok + failed
    signins = ok / elapsed
    signins_per_core = signins / cores
    raw_per_core = raw_rate / cores
    ratio = signins_per_core / raw_per_core if raw_per_core else 0.0

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else 0.0

    server_cpu, client_cpu, pg_cpu = load.server_cpu, load.client_cpu, load.postgres_cpu
    print()
    print(f"sign-ins              {ok} in {elapsed:.1f}s, {failed} failed ({attempts} attempts)")
    print(f"  latency             p50 {pct(0.50):.0f} ms, p95 {pct(0.95):.0f} ms, p99 {pct(0.99):.0f} ms")
    if ok:
        print(
            f"  CPU per sign-in     gunicorn {server_cpu / ok * 1000:.1f} ms, PostgreSQL {pg_cpu / ok * 1000:.1f} ms, "
            f"load generator {client_cpu / ok * 1000:.1f} ms, other processes {load.other_cpu / ok * 1000:.1f} ms"
        )
        if load.hash_cpu is not None:
            rest = server_cpu - load.hash_cpu
            print(
                f"  gunicorn's CPU      Argon2id {load.hash_cpu / ok * 1000:.1f} ms (metered in the workers), "
                f"the rest {rest / ok * 1000:.1f} ms; rest + PostgreSQL {(rest + pg_cpu) / ok * 1000:.1f} ms"
            )
        print(f"  Argon2id verify     {raw_cpu * 1000:.1f} ms CPU each (the same hasher, alone)")
    print()
    print(f"sign-ins/s            {signins:8.1f} total  {signins_per_core:7.1f} per core")
    print(f"Argon2id verify/s     {raw_rate:8.1f} total  {raw_per_core:7.1f} per core  (t=2, m=19 MiB, p=1)")
    print(f"ratio                 {ratio:8.2f}   target >= {TARGET_RATIO:.2f}: {verdict(ratio >= TARGET_RATIO)}")
    print(
        f"sign-ins/s per core   {signins_per_core:8.1f}   target >= {TARGET_PER_CORE:.0f} "
        f"(2 x Keycloak's {KEYCLOAK_PER_VCPU:.0f}/s/vCPU): {verdict(signins_per_core >= TARGET_PER_CORE)}"
    )
    if ok:
        # The same comparison in CPU time, which other processes on the machine do not skew.
        cpu_ratio = raw_cpu / ((server_cpu + pg_cpu) / ok)
        print(f"CPU ratio             {cpu_ratio:8.2f}   (Argon2id CPU / server + PostgreSQL CPU per sign-in)")
        if load.hash_cpu is not None:
            # The same, both sides measured in the same processes at the same time: the hash's share of a sign-in.
            share = load.hash_cpu / (server_cpu + pg_cpu)
            print(f"hash share            {share:8.2f}   (Argon2id metered in the workers / server + PostgreSQL CPU)")
    print("(per core = total / os.cpu_count(); the load generator runs on the same machine)")
    if ceiling is not None:
        print_ceiling(ceiling, raw_per_core, cores, ok, server_cpu + pg_cpu - (load.hash_cpu or 0.0))
    other_share = load.other_cpu / (elapsed * cores)
    if other_share > 0.05 or raw_share < 0.9:
        print(
            f"WARNING: the machine was not idle (other processes used {other_share:.0%} of it during the "
            f"sign-ins; hash processes got {raw_share:.0%} of a core each): rates are low, rerun when idle."
        )

    if failures:
        print("\nfailures:")
        for reason, count in failures.most_common():
            print(f"  {count:6d}  {reason}")
    if ok == 0:
        raise BenchError("no sign-in succeeded")
    if failed / attempts > MAX_FAILURE_RATE:
        raise BenchError(f"{failed / attempts:.1%} of sign-ins failed (more than {MAX_FAILURE_RATE:.0%})")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as exc:
        print(f"bench_login: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("bench_login: interrupted", file=sys.stderr)
        sys.exit(130)
