"""Fixtures shared by every app's tests: the sandboxes, services and Chromium.

A test that needs a missing service skips, unless REQUIRE_SERVICES=1 (as on
CI), where it fails instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
ARTIFACTS = ROOT / "test-artifacts"
REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def need(condition: bool, what: str) -> None:
    """Skip (or, under REQUIRE_SERVICES=1, fail) when a service is missing."""
    if condition:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"{what} is required (REQUIRE_SERVICES=1) but missing")
    pytest.skip(f"{what} is not available")


@pytest.fixture
def postgres(db) -> None:
    from django.db import connection

    need(connection.vendor == "postgresql", "PostgreSQL")


@pytest.fixture
def redis_url() -> str:
    from django.conf import settings

    need(bool(settings.REDIS_URL), "Redis")
    return settings.REDIS_URL


@pytest.fixture(scope="session")
def roamify_sandbox(tmp_path_factory) -> Iterator:
    try:
        from sandboxes.roamify.testing import RoamifySandbox

        sandbox = RoamifySandbox(seed=1, log_path=tmp_path_factory.mktemp("roamify") / "sandbox.log")
        sandbox.start()
    except Exception as exc:  # the sandbox is a service like any other here
        need(False, f"Roamify sandbox ({exc})")
    yield sandbox
    sandbox.stop()


@pytest.fixture
def roamify(roamify_sandbox, settings):
    """A fresh Roamify sandbox, and the shop's settings pointing at it."""
    roamify_sandbox.control.reset()
    settings.ROAMIFY_BASE_URL = roamify_sandbox.base_url
    settings.ROAMIFY_API_TOKEN = roamify_sandbox.token
    return roamify_sandbox


@pytest.fixture
def clear_cache() -> None:
    """Empty this test process's cache only (Redis' clear() would empty every process's)."""
    from django.core.cache import cache

    client = getattr(cache, "_cache", None)
    if client is None or not hasattr(client, "get_client"):
        cache.clear()
        return
    redis = client.get_client(write=True)
    keys = list(redis.scan_iter(match=f"{cache.key_prefix}:*", count=1000))
    if keys:
        redis.delete(*keys)


@pytest.fixture(scope="module")
def chromium_browser() -> Iterator:
    need(os.path.exists("/usr/bin/chromium"), "Chromium (/usr/bin/chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread while it is open,
    # which Django takes for async code and refuses database calls from
    # (SynchronousOnlyOperation); module scope closes it before other modules run.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        yield browser
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


# An iPhone 13-like browser context (Playwright's new_context arguments).
IPHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "user_agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
}


@pytest.fixture
def phone(chromium_browser) -> Iterator:
    """A page in a phone-sized viewport (iPhone 13-like)."""
    context = chromium_browser.new_context(**IPHONE)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture(scope="session")
def stripe_sandbox(tmp_path_factory) -> Iterator:
    try:
        from sandboxes.stripe.testing import StripeSandbox

        sandbox = StripeSandbox(
            log_path=tmp_path_factory.mktemp("stripe") / "sandbox.log", webhook_backoff=0.2
        )
        sandbox.start()
    except Exception as exc:
        need(False, f"Stripe sandbox ({exc})")
    yield sandbox
    sandbox.stop()


@pytest.fixture
def stripe(stripe_sandbox, settings):
    """A fresh Stripe sandbox, and the shop's settings pointing at it."""
    stripe_sandbox.control.reset()
    stripe_sandbox.control.remove_webhooks()
    settings.STRIPE_API_BASE = stripe_sandbox.base_url
    settings.STRIPE_SECRET_KEY = stripe_sandbox.secret_key
    settings.STRIPE_WEBHOOK_SECRET = stripe_sandbox.webhook_secret
    return stripe_sandbox


@pytest.fixture(scope="session", autouse=True)
def _catalog_defaults_outlive_a_flush() -> None:
    """The shop's default pages (terms, privacy, ...) and destination aliases come from a data
    migration, and a transactional test ends by emptying every table (Django's flush). Flush
    sends post_migrate, so they are put back then, as the migration made them: a test that
    reads /terms/ passes whichever tests ran before it in its process."""
    from importlib import import_module

    from django.apps import apps
    from django.db.models.signals import post_migrate

    seed = import_module("catalog.migrations.0003_default_aliases_and_pages").load

    def put_back(sender, **_kwargs) -> None:
        if sender.name == "catalog":
            seed(apps, None)

    post_migrate.connect(put_back, weak=False, dispatch_uid="catalog-defaults-after-flush")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items) -> None:
    """Under xdist: slow tests first, and `xdist_group` marks honoured by `--dist loadgroup`.

    xdist hands out its work in collection order (its groups, largest first); a slow test
    collected late (the soak) would end the run alone on one worker while the other idles.

    xdist 3.8 names a grouped test `<nodeid>@<group>` through `item._nodeid`, which pytest 9.2
    no longer reads (its node ids are structured), so every group silently falls apart and the
    tests of one group (sharing a module's server, a Celery worker, a browser) run on both
    workers, each starting what they share (pytest-dev/pytest-xdist#1386). Until xdist does it
    itself, the suffix goes on the structured id.
    """
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
    if not getattr(config.option, "loadgroup", False):
        return
    from _pytest.nodeid import NodeId

    for item in items:
        groups = {
            str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
            for mark in item.iter_markers("xdist_group")
        }
        suffix = "@" + "_".join(sorted(groups))
        if groups and not item.nodeid.endswith(suffix):
            item._id = NodeId.parse(item.nodeid + suffix)


class CeleryWorker:
    """A real `celery worker` process on Redis, using the test database.

    It runs what production runs (docs/architecture.md): a thread pool of 16. Only one worker
    per test process consumes its queue at a time: starting another one stops the shared
    worker, which the next test that asks for it starts again.
    """

    shared: CeleryWorker | None = None  # this test process's shared worker, once made

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env = env
        self.log_path = log_path
        self.proc = None
        # A name of its own: remote control (inspect, revoke) goes to this worker alone, not to
        # the other test processes' workers on the same Redis.
        self.node = f"{env['CELERY_QUEUE']}-{id(self)}@localhost"
        self.log_offset = 0  # where this test's part of the log starts
        self.paused = False  # not consuming its queue (between the tests that use it)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        import subprocess
        import sys
        import time

        if CeleryWorker.shared is not None and CeleryWorker.shared is not self:
            CeleryWorker.shared.stop()  # one consumer per queue: this worker's tasks go to it
        self.paused = False
        self.proc = subprocess.Popen(
            # --quiet: no banner, so that every line of the log is a JSON log line (as in production).
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "storefront",
                "--quiet",
                "worker",
                "--loglevel",
                "INFO",
                "--pool",
                "threads",
                "--concurrency",
                "16",
                "-Q",
                self.env["CELERY_QUEUE"],
                "-n",
                self.node,
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            env=self.env,
            cwd=ROOT,
            stdout=open(self.log_path, "ab"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        readies = self._read().count("ready.") if self.log_path.exists() else 0
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"celery worker exited; see {self.log_path}")
            if self._read().count("ready.") > readies:
                return
            time.sleep(0.1)
        raise RuntimeError(f"celery worker not ready in 30 s; see {self.log_path}")

    def kill(self) -> None:
        """SIGKILL the whole worker (main process and its pool), as a crash would."""
        import os
        import signal

        if self.running:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        import os
        import signal
        import subprocess

        if self.running:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def _read(self) -> str:
        return self.log_path.read_text(errors="replace")

    def log(self) -> str:
        """What the worker logged during this test."""
        with open(self.log_path, "rb") as f:
            f.seek(self.log_offset)
            return f.read().decode(errors="replace")

    def begin_test(self) -> None:
        """Ready for a new test: running, an empty queue and cache, and a new part of the log."""
        from storefront.celery import app

        app.control.purge()  # nothing left over from an earlier test
        self._clear_cache()
        if self.running and self.paused and not self._control("add_consumer"):
            self.stop()  # it did not answer: a new one
        if not self.running:
            self.start()
        self.log_offset = self.log_path.stat().st_size

    def settle(self, timeout: float = 30.0) -> None:
        """Leave the worker idle before the test's tables are emptied: queued and held tasks are
        dropped, running ones finish (or the worker is stopped, and the next test starts it)."""
        import time

        from storefront.celery import app

        if not self.running:
            return
        # Between its tests the worker takes nothing from the queue: other tests of this process
        # queue tasks that no worker is meant to run (a paid order stays paid).
        self.paused = self._control("cancel_consumer")
        if not self.paused:
            self.stop()
            return
        revoked: set[str] = set()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            purged = app.control.purge()
            inspect = app.control.inspect(destination=[self.node], timeout=2.0)
            busy = _task_ids(inspect.active())
            held = _task_ids(inspect.reserved()) | _task_ids(inspect.scheduled())
            if held - revoked:
                app.control.revoke(list(held - revoked), destination=[self.node])
                revoked |= held
            if not purged and not busy and not held - revoked:
                return
            time.sleep(0.1)
        self.stop()

    def _control(self, command: str) -> bool:
        """add_consumer or cancel_consumer on the worker's queue; whether it answered."""
        from storefront.celery import app

        queue = self.env["CELERY_QUEUE"]
        replies = getattr(app.control, command)(queue, destination=[self.node], reply=True, timeout=10)
        return bool(replies)

    def _clear_cache(self) -> None:
        """The worker's own cache keys: each test's worker starts with none (as a new one did)."""
        import redis

        client = redis.Redis.from_url(self.env["CACHE_REDIS_URL"])
        keys = list(client.scan_iter(match=f"{self.env['TEST_CACHE_KEY_PREFIX']}:*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()


def _task_ids(replies: dict | None) -> set[str]:
    """The task ids in an inspect reply (scheduled tasks nest theirs under "request")."""
    ids = set()
    for tasks in (replies or {}).values():
        for task in tasks:
            ids.add(task["request"]["id"] if "request" in task else task["id"])
    return ids


def worker_env(roamify_sandbox, stripe_sandbox, site_url: str = "http://testserver") -> dict[str, str]:
    from django.conf import settings
    from django.db import connection

    db = connection.settings_dict
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "storefront.settings_test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_QUEUE": settings.CELERY_TASK_DEFAULT_QUEUE,
        "SHOP_TEST_WORKER": "1",
        "ROAMIFY_BASE_URL": roamify_sandbox.base_url,
        "ROAMIFY_API_TOKEN": roamify_sandbox.token,
        "ROAMIFY_INSTANT_ORDER_TIMEOUT": "3",
        "ROAMIFY_RETRY_BACKOFF": "0.05",
        "STRIPE_API_BASE": stripe_sandbox.base_url,
        "STRIPE_SECRET_KEY": stripe_sandbox.secret_key,
        "STRIPE_WEBHOOK_SECRET": stripe_sandbox.webhook_secret,
        "FULFILMENT_RETRY_BASE_SECONDS": "1",
        "FULFILMENT_MAX_RETRIES": "4",
        "FULFILMENT_LEASE_SECONDS": "6",
        "EMAIL_BACKEND": "core.mail.OutboxBackend",
        "SITE_URL": site_url,
        "PYTHONUNBUFFERED": "1",
    }


@pytest.fixture(scope="session")
def shared_celery_worker(django_db_setup, roamify_sandbox, stripe_sandbox, tmp_path_factory) -> Iterator:
    """This test process's Celery worker (one per xdist worker), not yet started: `celery_worker`
    starts it for the first test that needs it, and it stops before the test database goes."""
    from django.conf import settings

    env = {
        **worker_env(roamify_sandbox, stripe_sandbox),
        "CACHE_REDIS_URL": settings.CACHES["default"].get("LOCATION") or "",
        "TEST_CACHE_KEY_PREFIX": f"worker-{settings.CELERY_TASK_DEFAULT_QUEUE}",
    }
    worker = CeleryWorker(env, tmp_path_factory.mktemp("celery") / "worker.log")
    CeleryWorker.shared = worker
    yield worker
    CeleryWorker.shared = None
    worker.stop()


@pytest.fixture
def celery_worker(
    transactional_db, postgres, redis_url, roamify, stripe, settings, shared_celery_worker
) -> Iterator[CeleryWorker]:
    """The shared Celery worker, idle and with an empty queue, the shop pointed at both sandboxes.

    Settings changed in a test do not reach it (another process): a test that needs a worker
    with other settings, or that kills it, takes `own_celery_worker`.
    """
    settings.ROAMIFY_INSTANT_ORDER_TIMEOUT = 3.0
    settings.ROAMIFY_RETRY_BACKOFF = 0.05
    shared_celery_worker.begin_test()
    yield shared_celery_worker
    shared_celery_worker.settle()


@pytest.fixture
def own_celery_worker(transactional_db, postgres, redis_url, roamify, stripe, settings, tmp_path) -> Iterator:
    """A Celery worker of this test's own (the shared one stops meanwhile), to kill or restart."""
    from storefront.celery import app

    settings.ROAMIFY_INSTANT_ORDER_TIMEOUT = 3.0
    settings.ROAMIFY_RETRY_BACKOFF = 0.05
    app.control.purge()  # nothing left over from an earlier test
    worker = CeleryWorker(worker_env(roamify, stripe), tmp_path / "worker.log")
    worker.start()
    yield worker
    worker.stop()


def wait_until(predicate, timeout: float = 30.0, interval: float = 0.2, what: str = "condition"):
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@pytest.fixture
def admin_client(db, admin_user):
    """pytest-django's admin client, signed in with two factors as the admin requires."""
    from django.test import Client

    from core.tests.staff import sign_in_staff

    return sign_in_staff(Client(), admin_user)


@pytest.fixture
def staff_client(db, client):
    """The test client signed in (with two factors) as a superuser, boss@example.com: staff
    actions are recorded under that email."""
    from django.contrib.auth import get_user_model

    from core.tests.staff import sign_in_staff

    user = get_user_model().objects.create_superuser("boss@example.com", "boss@example.com", "pw")
    return sign_in_staff(client, user)


def wait_for_http(url: str, timeout: float = 15.0) -> None:
    """Wait until a server just started answers at `url` (any status)."""
    import httpx

    def answers() -> bool:
        try:
            httpx.get(url, timeout=1)
            return True
        except httpx.TransportError:
            return False

    wait_until(answers, timeout, interval=0.05, what=f"an answer at {url}")
