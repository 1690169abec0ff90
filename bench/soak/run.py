"""The soak from start to end: the world up, the shoppers under faults, the books, the report."""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from datetime import UTC, datetime
from pathlib import Path

import bench.soak
from bench._common import RESULTS, log, prepare_run, write_result

from . import books
from .faults import ProcessFaults, start_sandbox_faults, stop_sandbox_faults
from .shoppers import Run, shop
from .world import Profile, World


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.soak", description=bench.soak.__doc__.split("\n\n")[0]
    )
    parser.add_argument("--shoppers", type=int, default=50)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--think",
        type=think_range,
        default=(0.1, 0.5),
        metavar="MIN-MAX",
        help="a shopper's pause before each page or form, in seconds (default 0.1-0.5; 0 for none)",
    )
    parser.add_argument(
        "--short",
        action="store_true",
        help="8 shoppers for 30 s, a worker killed every 10 s (the test in `make test`)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="where the JSON and the process logs go")
    parser.add_argument("--keep-db", action="store_true", help="keep the run's database to look into")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    profile = Profile.short() if args.short else Profile.long(args.shoppers, args.minutes, args.think)
    prepare_run()
    started = time.monotonic()
    world = World(profile, args.seed, args.out, keep_db=args.keep_db)
    faults = ProcessFaults(world)
    try:
        run = Run(profile, args.seed, world.site, world.stripe.base_url)
        run.packages = world.start()
        setup_seconds = time.monotonic() - started

        start_sandbox_faults(world.roamify, world.stripe, args.seed)
        log(f"{profile.shoppers} shoppers for {profile.seconds:.0f} s, faults on")
        load_started = time.monotonic()
        run.ends_at = load_started + profile.seconds
        faults.start()
        asyncio.run(shop(run))
        load_seconds = time.monotonic() - load_started
        faults.stop()
        injected = {
            "roamify": world.roamify.control.injected(),
            "stripe_webhooks": world.stripe.control.webhook_chaos()["counts"],
            "worker_sigkills": faults.kills,
            "web_restarts": faults.web_restarts,
            "connection_errors_retried": run.stats.connection_errors,
        }
        stop_sandbox_faults(world.roamify)

        log("shoppers done; faults off; waiting for the queue and the reconciler")
        left = books.drain(profile.drain_timeout)
        checks = books.check_books(world.roamify, world.stripe, run.stats)
        checks["the faults were done as planned"] = faults_as_planned(faults, world)
        result = {
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "config": config(args, profile, load_seconds, setup_seconds),
            "metrics": books.metrics(run.stats, load_seconds, left),
            "faults": injected,
            "checks": checks,
            **books.totals(checks, run.stats),
        }
        books.report(result)
        write_result("soak", result, args.out)
        return 0 if all(c["ok"] for c in checks.values()) else 1
    except KeyboardInterrupt:
        log("interrupted; cleaning up")
        return 130
    finally:
        faults.stop()  # before the world stops: no worker started again after it
        world.close()


def think_range(text: str) -> tuple[float, float]:
    """'0.1-0.5' -> (0.1, 0.5); '0' -> no pauses."""
    low, _, high = text.partition("-")
    try:
        pauses = (float(low), float(high or low))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected MIN-MAX in seconds, e.g. 0.1-0.5") from None
    if not 0 <= pauses[0] <= pauses[1]:
        raise argparse.ArgumentTypeError(f"{text!r}: expected 0 <= MIN <= MAX")
    return pauses


def faults_as_planned(faults: ProcessFaults, world: World) -> dict:
    """A worker killed at least once, the web restarted once and up at the end, no restart failed."""
    errors = list(faults.errors)
    if not world.web_is_up():
        errors.append("gunicorn was not running at the end")
    return {
        "ok": not errors and faults.kills >= 1 and faults.web_restarts == 1,
        "worker_sigkills": faults.kills,
        "web_restarts": faults.web_restarts,
        "errors": errors,
    }


def config(args: argparse.Namespace, profile: Profile, load_seconds: float, setup_seconds: float) -> dict:
    return {
        "shoppers": profile.shoppers,
        "minutes": round(load_seconds / 60, 2),
        "seed": args.seed,
        "short": args.short,
        "cpus": os.cpu_count() or 1,
        "gunicorn_workers": profile.gunicorn_workers,
        "workers": "2 x threads 8",
        "think_s": list(profile.think),
        "worker_kill_every_s": profile.worker_kill_every,
        "setup_seconds": round(setup_seconds, 1),
    }
