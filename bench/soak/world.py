"""The soak's world: its database and Redis queue, the two sandboxes, the shop's processes (gunicorn,
two Celery workers, beat), all with time scaled down; started before the shoppers, stopped at the end."""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench._common import (
    PG_ADMIN_URL,
    Child,
    connect_stripe_webhook,
    free_port,
    fresh_database,
    log,
    shop_env,
    start_django,
    start_gunicorn,
    start_worker,
    stop_services,
)

REDIS_URL = "redis://127.0.0.1:6379/12"  # the soak's own DB
COUNTRIES = ("JP", "US", "FR", "TH", "GB", "DE", "IT", "ES", "AU", "MX")


@dataclass
class Profile:
    """How big and how long the run is, and how fast time goes in it."""

    shoppers: int
    seconds: float
    worker_kill_every: float
    web_restart_at: float  # share of the run
    order_timeout: float  # a shopper waits this long for the eSIM
    drain_timeout: float
    gunicorn_workers: int
    reconcile_every: int
    # A shopper's pause before each page or form (seconds, uniform): shoppers in a rush, who know what
    # they want. Fifty of them with 0.1-0.5 s pauses could place 400 orders a minute on a shop that
    # answered at once: the rate the soak reaches is the shop's, not its shoppers'.
    think: tuple[float, float] = (0.1, 0.5)

    @classmethod
    def long(cls, shoppers: int, minutes: float, think: tuple[float, float] = (0.1, 0.5)) -> Profile:
        return cls(shoppers, minutes * 60, 60, 0.5, 150, 300, 5, 10, think)

    @classmethod
    def short(cls) -> Profile:
        return cls(8, 30, 10, 0.5, 60, 75, 3, 5, (0.0, 0.0))


def scaled_env(profile: Profile, var_dir: str) -> dict[str, str]:
    """Production settings with time scaled down: a hung call, a lease, the reconciler."""
    return {
        "VAR_DIR": var_dir,  # beat's schedule file
        "ROAMIFY_TIMEOUT": "3",
        "ROAMIFY_INSTANT_ORDER_TIMEOUT": "4",
        "ROAMIFY_RETRY_BACKOFF": "0.2",
        "FULFILMENT_RETRY_BASE_SECONDS": "1",
        "FULFILMENT_LEASE_SECONDS": "30",
        "RECONCILE_AFTER_SECONDS": "15",
        "RECONCILE_INTERVAL_SECONDS": str(profile.reconcile_every),
        "GIFTCARD_SEND_INTERVAL_SECONDS": "10",
        # An email a killed worker was sending waits this long for another worker (outbox sends take ms).
        "EMAIL_CLAIM_SECONDS": "15",
        "ESIM_TOPUP_CHECK_SECONDS": "30",
        # Every shopper comes from 127.0.0.1: the per-IP guess limit would soon lock them all out.
        "GIFTCARD_GUESS_LIMIT": "1000000",
    }


class World:
    """Everything the run starts and must stop again. The processes can be killed and restarted
    (faults.py does it) while the shoppers shop."""

    def __init__(self, profile: Profile, seed: int, out: Path, keep_db: bool = False) -> None:
        from sandboxes.roamify.testing import RoamifySandbox
        from sandboxes.stripe.testing import StripeSandbox

        self.profile, self.out, self.keep_db = profile, out, keep_db
        out.mkdir(parents=True, exist_ok=True)
        for old in out.glob("soak-*.log"):
            old.unlink()
        self.db_name, self.queue = f"soak_{os.getpid()}", f"soak-{os.getpid()}"
        self.roamify = RoamifySandbox(seed=seed, log_path=self.path("roamify-sandbox"))
        # localstripe in memory only: a run of thousands of payments would otherwise be limited by
        # localstripe rewriting its whole state on every write, not by the shop.
        self.stripe = StripeSandbox(log_path=self.path("stripe-sandbox"), state_file=False)
        self.port = free_port()
        self.site = f"http://127.0.0.1:{self.port}"
        self.env: dict[str, str] = {}
        self.web: Child | None = None
        self.workers: dict[str, Child] = {}
        self.beat: Child | None = None
        self.var_dir = tempfile.TemporaryDirectory(prefix="soak-")

    def path(self, name: str) -> Path:
        return self.out / f"soak-{name}.log"

    # -- starting -------------------------------------------------------------------------
    def start(self) -> list[tuple[str, str]]:
        """The database, the sandboxes, the catalog and the shop's processes; returns the packages
        (destination slug, package id) the shoppers may buy."""
        log(f"fresh database {self.db_name}; Redis DB 12, queue {self.queue}")
        fresh_database(self.db_name)
        self.roamify.start()
        self.stripe.start()
        self.env = {
            **shop_env(self.roamify, self.stripe, self.site, self.db_name, REDIS_URL, self.queue),
            **scaled_env(self.profile, self.var_dir.name),
        }
        start_django(self.env)
        packages = sync_catalog_and_pick()
        log(f"starting gunicorn on {self.site}, two Celery workers and beat")
        self.start_web()
        self.start_worker("worker-a")
        self.start_worker("worker-b")
        self.start_beat()
        connect_stripe_webhook(self.stripe, self.site)
        return packages

    def start_web(self) -> None:
        self.web = start_gunicorn(self.env, self.port, self.profile.gunicorn_workers, self.path("gunicorn"))

    def start_worker(self, name: str) -> None:
        self.workers[name] = start_worker(
            self.env,
            self.queue,
            self.path(name),
            "threads",
            8,
            name=name,
            hostname=f"{name}-{os.getpid()}@soak",
            timeout=60,
        )

    def start_beat(self) -> None:
        self.beat = Child(
            "beat",
            ["-m", "celery", "-A", "storefront", "beat", "--loglevel", "INFO"],
            self.env,
            self.path("beat"),
        )

    def web_is_up(self) -> bool:
        return self.web is not None and self.web.proc.poll() is None

    # -- stopping -------------------------------------------------------------------------
    def close(self) -> None:
        """Stop every process and sandbox; drop the queue, the Redis keys and the database."""
        for child in [self.beat, *self.workers.values(), self.web]:
            if child is not None:
                with contextlib.suppress(Exception):
                    child.stop()
        stop_services(self.roamify, self.stripe, REDIS_URL, self.queue)
        with contextlib.suppress(Exception):
            import redis

            r = redis.Redis.from_url(REDIS_URL)
            for key in r.scan_iter(f"{self.queue}*", count=1000):
                r.delete(key)
            # Kombu keeps the tasks of killed workers here (DB 12 is the soak's own); left behind,
            # they would be put back on a queue nobody reads in an hour.
            r.delete("unacked", "unacked_index", "unacked_mutex")
        if self.keep_db:
            log(f"kept the database {self.db_name}")
        else:
            with contextlib.suppress(Exception):
                import psycopg

                with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
        self.var_dir.cleanup()


def sync_catalog_and_pick() -> list[tuple[str, str]]:
    """The catalog synced from the sandbox; the packages of a few countries that need no travel date."""
    from catalog.models import Package
    from catalog.services import sync_catalog

    started = time.monotonic()
    result = sync_catalog(trigger="command")
    log(f"catalog synced: {result.run.added} packages in {time.monotonic() - started:.1f} s")
    rows = Package.objects.filter(
        active=True,
        destination__code__in=COUNTRIES,
        travel_date_required=False,
        destination__geography="local",
    ).values_list("destination__slug", "package_id")
    picked = sorted(rows)
    if not picked:
        raise RuntimeError("no packages to sell after the sync")
    return picked
