"""What the benchmarks share: a log line, a fresh database, a service check, the shop's processes."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

from sandboxes._process import free_port

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"  # git-ignored
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')  # a form's token, read off its page

__all__ = [
    "CSRF_INPUT",
    "PG_ADMIN_URL",
    "RESULTS",
    "Child",
    "answers",
    "connect_stripe_webhook",
    "database_url",
    "drop_queue",
    "free_port",
    "fresh_database",
    "log",
    "percentile",
    "prepare_run",
    "print_table_start",
    "shop_env",
    "start_django",
    "start_gunicorn",
    "start_worker",
    "stop_process_group",
    "stop_services",
    "tls",
    "write_result",
]


@functools.cache
def tls() -> ssl.SSLContext:
    """One TLS context for every httpx client of a run (`verify=tls()`). Loopback is plain HTTP, but
    httpx builds a context, loading the CA bundle, for each client it makes: 22 ms of CPU, as much as
    the shop spends placing an order. A bench that opens a client per customer measured itself."""
    return ssl.create_default_context()


def print_table_start(title: str, header: str) -> None:
    """A table's title, its column header and a rule under it."""
    print(f"\n{title}\n{header}\n  {'-' * (len(header) - 2)}")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def write_result(name: str, result: dict, directory: Path = RESULTS) -> Path:
    """A run's figures as `<directory>/<name>-<timestamp>.json`; says where."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}-{datetime.now():%Y%m%d-%H%M%S}.json"
    path.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(f"Written {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return path


def answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def database_url(name: str) -> str:
    return f"postgres://postgres@127.0.0.1:5432/{name}"


def fresh_database(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def stop_process_group(proc: subprocess.Popen, timeout: float = 10) -> None:
    """SIGTERM a child started with start_new_session=True and its own children; SIGKILL if stuck."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


def prepare_run() -> None:
    """Refuse to start without PostgreSQL and Redis; make SIGTERM and SIGINT end the run through
    its cleanup (KeyboardInterrupt), even when started with SIGINT ignored."""
    for what, port in (("PostgreSQL", 5432), ("Redis", 6379)):
        if not answers("127.0.0.1", port):
            sys.exit(f"{what} must answer on 127.0.0.1:{port}")

    def on_term(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, signal.default_int_handler)


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    import math

    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def shop_env(roamify, stripe, site_url: str, database: str, redis_url: str, queue: str) -> dict[str, str]:
    """The environment of a shop wired to the two sandboxes, as in production (DEBUG off)."""
    return {
        "DJANGO_SETTINGS_MODULE": "storefront.settings",
        "DEBUG": "0",
        "SECRET_KEY": "bench",
        "ALLOW_SANDBOX_SECRETS": "1",  # the sandboxes' public keys
        "DATABASE_URL": database_url(database),
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": redis_url,
        "CELERY_QUEUE": queue,
        "CACHE_KEY_PREFIX": queue,
        "STATIC_MANIFEST": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": site_url,
        "SECURE_COOKIES": "0",  # plain http on loopback
        "EMAIL_BACKEND": "core.mail.OutboxBackend",
        "ROAMIFY_BASE_URL": roamify.base_url,
        "ROAMIFY_API_TOKEN": roamify.token,
        "STRIPE_API_BASE": stripe.base_url,
        "STRIPE_SECRET_KEY": stripe.secret_key,
        "STRIPE_WEBHOOK_SECRET": stripe.webhook_secret,
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }


def start_django(env: dict[str, str]) -> None:
    """This process as the shop of `env` (from shop_env), its database migrated: the bench reads
    and writes the shop's models directly."""
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def connect_stripe_webhook(stripe, site_url: str) -> None:
    """The Stripe sandbox sends its events to the shop at `site_url`, as the dashboard would."""
    stripe.control.register_webhook(f"{site_url}/checkout/stripe/webhook/", stripe.webhook_secret)


def stop_services(roamify, stripe, redis_url: str, queue: str) -> None:
    """The end of a run against the sandboxes: both stopped, the run's queue dropped, this process's
    database connections closed (so the database can be dropped). Safe after a failed start."""
    stripe.stop()
    roamify.stop()
    drop_queue(redis_url, queue)
    with contextlib.suppress(Exception):
        from django.db import connections

        connections.close_all()


class Child:
    """A child process in its own session (so Ctrl-C reaches us, and the cleanup, first)."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log_path) -> None:
        self.name = name
        self.log_path = Path(log_path)
        self._log = open(self.log_path, "ab")  # closed in stop() or kill(); a restart appends
        self.proc = subprocess.Popen(
            [sys.executable, *args],
            env={**os.environ, **env},
            cwd=ROOT,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def check_alive(self) -> None:
        if self.proc.poll() is not None:
            raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; see {self.log_path}")

    def kill(self) -> None:
        """SIGKILL the whole group, as a crash would: no cleanup, no acknowledgements."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)
        self._log.close()

    def stop(self) -> None:
        stop_process_group(self.proc, 15)
        self._log.close()


def start_gunicorn(
    env: dict[str, str], port: int, workers: int, log_path, timeout: float = 30, ready_path: str = "/cart/"
) -> Child:
    """gunicorn serving `env`'s settings, once `ready_path` answers 200."""
    import httpx

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    shop = Child(
        "gunicorn",
        [
            "-m",
            "gunicorn",
            "storefront.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            "--chdir",
            root,
        ],
        env,
        log_path,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        shop.check_alive()
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"http://127.0.0.1:{port}{ready_path}", timeout=5).status_code == 200:
                return shop
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn not ready in {timeout:.0f} s; see {shop.log_path}")


def start_worker(
    env: dict[str, str],
    queue: str,
    log_path,
    pool: str = "prefork",
    concurrency: int = 4,
    name: str = "celery",
    hostname: str | None = None,
    timeout: float = 30,
) -> Child:
    args = [
        "-m",
        "celery",
        "-A",
        "storefront",
        "worker",
        "--loglevel",
        "INFO",
        "--concurrency",
        str(concurrency),
        "--pool",
        pool,
        "-Q",
        queue,
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    if hostname:
        args += ["--hostname", hostname]
    worker = Child(name, args, env, log_path)
    start = worker.log_path.stat().st_size if worker.log_path.exists() else 0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        worker.check_alive()
        if "ready." in worker.log_text()[start:]:
            return worker
        time.sleep(0.2)
    raise RuntimeError(f"{name} not ready in {timeout:.0f} s; see {worker.log_path}")


def drop_queue(redis_url: str, queue: str) -> None:
    """The run's Celery queue (and its priority lists) and kombu's bindings for it."""
    with contextlib.suppress(Exception):
        import redis

        redis.Redis.from_url(redis_url).delete(
            queue,
            *(f"{queue}\x06\x16{p}" for p in (3, 6, 9)),
            f"_kombu.binding.{queue}",
            f"_kombu.binding_permanent.{queue}",
        )
