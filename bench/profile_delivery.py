#!/usr/bin/env python
"""Where the CPU of one delivered eSIM goes: the Stripe webhook, the payment signals, the
fulfilment task and the emails, run in this one process and profiled.

    python bench/profile_delivery.py [--repeat 30] [--warmup 5] [--top 25] [--sql] [--no-profile] [--cold]

1. Drops and creates the PostgreSQL database `bench_profile` and migrates it; Redis DB 13 is the
   cache and the broker, under a key prefix and queue of this run's own (both deleted at the end).
   Starts the Roamify sandbox (`--latency zero`) and the Stripe sandbox.
2. Per delivery, not measured: an order for one eSIM (`place_order`), its Checkout Session
   (`start_payment`, in the Stripe sandbox), paid there, and the `checkout.session.completed` event
   signed as Stripe signs it.
3. Measured: the event posted to `/checkout/stripe/webhook/` through Django's whole handler and
   middleware (django.test.Client), the tasks it queues published to Redis as the web does; then
   each of those tasks, and each task they queue, run here in turn as a worker process runs them
   (`Task.apply`, between what Celery's Django fixup does to the database connections before and
   after every task). No worker consumes the queue.
4. Reports, per delivered eSIM: CPU time of this process (`time.process_time()`, which counts
   only this process, so a busy machine moves it far less than wall time), SQL queries, Celery
   tasks and database connections opened, by phase (the webhook, each task); the queries run more
   than once in a phase (`--sql` lists every query of one delivery); what the first delivery of
   the process cost (imports, template compiling, first connections: each new worker process pays
   it once); then the same deliveries again under cProfile (timed by CPU, not wall clock): the
   shop's own functions by cumulative time, and self time grouped by library. cProfile's own
   overhead weighs on code that makes many small calls (the ORM, qrcode) more than on the rest:
   read its figures as shares, and the unprofiled CPU as the measure. `--cold` profiles the first
   delivery instead.

The sandboxes, PostgreSQL and Redis run in processes of their own: their CPU is not counted, nor
is what a worker process adds around a task (taking the message from Redis, the prefork pool).
Writes bench/results/profile-delivery-<timestamp>.json. Exits 1 if a delivery did not end with
the order completed, one eSIM, and its eSIM email and receipt in the outbox.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import re
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import (  # noqa: E402
    RESULTS,
    fresh_database,
    log,
    percentile,
    prepare_run,
    shop_env,
    start_django,
    stop_services,
    write_result,
)

DB_NAME = "bench_profile"
REDIS_URL = "redis://127.0.0.1:6379/13"
PREFIX = f"bench-profile-{os.getpid()}"
WEBHOOK = "/checkout/stripe/webhook/"
SITE = "http://127.0.0.1:8000"  # links in the emails only: nothing listens there


# -- what one delivery cost -----------------------------------------------------------------


@dataclass
class Phase:
    name: str
    cpu_ms: float = 0.0
    wall_ms: float = 0.0
    connections: int = 0
    queries: list[str] = field(default_factory=list)


@dataclass
class Delivery:
    order_number: str
    phases: list[Phase] = field(default_factory=list)

    @property
    def cpu_ms(self) -> float:
        return sum(p.cpu_ms for p in self.phases)

    @property
    def queries(self) -> int:
        return sum(len(p.queries) for p in self.phases)

    @property
    def connections(self) -> int:
        return sum(p.connections for p in self.phases)

    @property
    def tasks(self) -> int:
        return sum(1 for p in self.phases if p.name != "webhook")


class Recorder:
    """Counts the SQL and the database connections of the running phase, and the tasks published."""

    def __init__(self) -> None:
        self.queued: list[tuple[str, tuple]] = []
        self.sql: list[str] | None = None
        self.connections = 0

    def execute(self, execute: Callable, sql: str, params: Any, many: bool, context: Any) -> Any:
        if self.sql is not None:
            self.sql.append(sql)
        return execute(sql, params, many, context)

    def published(self, headers: dict | None = None, body: Any = None, **_kwargs: Any) -> None:
        self.queued.append((headers["task"], tuple(body[0])))  # protocol 2: (args, kwargs, embed)

    def connected(self, connection: Any, **_kwargs: Any) -> None:
        self.connections += 1

    @contextmanager
    def installed(self) -> Iterator[None]:
        from celery.signals import after_task_publish
        from django.db import connection
        from django.db.backends.signals import connection_created

        after_task_publish.connect(self.published)
        connection_created.connect(self.connected)
        try:
            with connection.execute_wrapper(self.execute):
                yield
        finally:
            after_task_publish.disconnect(self.published)
            connection_created.disconnect(self.connected)


def measured(delivery: Delivery, recorder: Recorder, name: str, profile: cProfile.Profile | None, work):
    phase = Phase(name)
    recorder.sql = phase.queries
    connections, wall, cpu = recorder.connections, time.perf_counter(), time.process_time()
    if profile:
        profile.enable()
    try:
        return work()
    finally:
        if profile:
            profile.disable()
        phase.cpu_ms = (time.process_time() - cpu) * 1000
        phase.wall_ms = (time.perf_counter() - wall) * 1000
        phase.connections = recorder.connections - connections
        recorder.sql = None
        delivery.phases.append(phase)


def paid_event(stripe, package, n: int) -> tuple[str, bytes, str]:
    """Not measured: an order for one eSIM, paid in the Stripe sandbox; the signed webhook body."""
    import stripe as stripe_lib

    from checkout import cart, services
    from payments.providers.stripe_api import gateway

    order = services.place_order(cart.PricedCart([cart.CartLine(package, 1)], []), f"profile{n}@example.com")
    services.start_payment(order)
    session_id = order.payments.get().external_reference
    outcome = stripe.control.pay(session_id)["outcome"]
    assert outcome == "paid", outcome
    session = gateway().client.v1.checkout.sessions.retrieve(session_id).to_dict()
    event = {
        "id": f"evt_profile_{n}_{os.getpid()}",
        "object": "event",
        "type": "checkout.session.completed",
        "data": {"object": session},
    }
    body = json.dumps(event).encode()
    return (
        order.number,
        body,
        stripe_lib.WebhookSignature.generate_signature_header(body.decode(), stripe.webhook_secret),
    )


def deliver(stripe, package, n: int, recorder: Recorder, profile: cProfile.Profile | None) -> Delivery:
    from celery import current_app
    from django.test import Client

    number, body, signature = paid_event(stripe, package, n)
    delivery = Delivery(number)
    client = Client()

    def webhook():
        response = client.post(
            WEBHOOK, body, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
        )
        assert response.status_code == 200 and response.json()["outcome"] == "captured", response.content

    recorder.queued.clear()
    measured(delivery, recorder, "webhook", profile, webhook)
    while recorder.queued:
        name, args = recorder.queued.pop(0)
        measured(
            delivery,
            recorder,
            f"task {name}",
            profile,
            lambda t=current_app.tasks[name], a=args: as_worker(t, a),
        )
    check_delivered(number)
    return delivery


def as_worker(task, args: tuple) -> None:
    """Run a task as a worker process does: what Celery's Django fixup does to the database
    connections before and after each task (`DjangoWorkerFixup.on_task_prerun/postrun`) included."""
    from celery import current_app
    from celery.fixups.django import DjangoWorkerFixup

    fixup = DjangoWorkerFixup(current_app)
    fixup.close_database()
    try:
        task.apply(args=args).get()
    finally:
        fixup.close_database()
        fixup.close_cache()


def check_delivered(number: str) -> None:
    from checkout.models import Order, OrderStatus
    from core.models import OutboxEmail

    order = Order.objects.get(number=number)
    assert order.status == OrderStatus.COMPLETED, f"{number} is {order.status}: {order.action_reason}"
    assert order.esims.count() == 1, f"{number} has {order.esims.count()} eSIMs"
    assert OutboxEmail.objects.filter(subject=f"Your eSIM is ready: order {number}").count() == 1
    assert OutboxEmail.objects.filter(subject=f"Receipt for order {number}").count() == 1


# -- report ---------------------------------------------------------------------------------


def _ms(values: list[float]) -> dict:
    return {
        "mean": round(sum(values) / len(values), 2),
        "p50": round(percentile(values, 50), 2),
        "min": round(min(values), 2),
        "max": round(max(values), 2),
    }


def summarise(deliveries: list[Delivery]) -> dict:
    by_phase: dict[str, list[Phase]] = defaultdict(list)
    for d in deliveries:
        for p in d.phases:
            by_phase[p.name].append(p)
    n = len(deliveries)
    return {
        "deliveries": n,
        "cpu_ms": _ms([d.cpu_ms for d in deliveries]),
        "queries": _ms([d.queries for d in deliveries]),
        "tasks": _ms([d.tasks for d in deliveries]),
        "db_connections": _ms([d.connections for d in deliveries]),
        "phases": {
            name: {
                "runs_per_esim": round(len(ps) / n, 2),
                "cpu_ms_per_esim": round(sum(p.cpu_ms for p in ps) / n, 2),
                "wall_ms_per_esim": round(sum(p.wall_ms for p in ps) / n, 2),
                "queries_per_esim": round(sum(len(p.queries) for p in ps) / n, 2),
                "db_connections_per_esim": round(sum(p.connections for p in ps) / n, 2),
            }
            for name, ps in by_phase.items()
        },
    }


_LITERALS = re.compile(r"'(?:[^']|'')*'|\b\d+\b")


def query_shapes(delivery: Delivery) -> list[tuple[str, int, str]]:
    """One delivery's queries with literals blanked, in the order they ran: each with how often
    it ran in its phase."""
    seen: Counter = Counter()
    for phase in delivery.phases:
        for sql in phase.queries:
            seen[(_LITERALS.sub("?", " ".join(sql.split())), phase.name)] += 1
    return [(shape, count, phase) for (shape, phase), count in seen.items()]


def library_of(filename: str) -> str:
    """A function's file as the part of the code it belongs to: a shop app, a library, Python."""
    path = filename.replace("\\", "/")
    if path.startswith("~") or path.startswith("<"):
        return "builtins (C)"
    for marker in ("/site-packages/", "/dist-packages/"):
        if marker in path:
            top = path.split(marker, 1)[1].split("/", 2)
            if top[0] == "django" and len(top) > 1:
                return f"django.{top[1].removesuffix('.py')}"
            return top[0].removesuffix(".py")
    if path.startswith(str(ROOT)):
        return "shop: " + path[len(str(ROOT)) + 1 :].split("/", 1)[0]
    match = re.search(r"/python3\.\d+/([^/]+)", path)
    return f"stdlib {match.group(1).removesuffix('.py')}" if match else path


def profile_report(profile: cProfile.Profile, n: int, top: int) -> dict:
    stats = pstats.Stats(profile, stream=io.StringIO())
    total = sum(tt for (_cc, _nc, tt, _ct, _callers) in stats.stats.values())
    total_calls = sum(nc for (_cc, nc, _tt, _ct, _callers) in stats.stats.values())
    shop, self_by_library, by_self = [], Counter(), []
    for (filename, line, name), (_cc, calls, tt, ct, _callers) in stats.stats.items():
        self_by_library[library_of(filename)] += tt
        by_self.append(
            (f"{library_of(filename)}: {Path(filename).name}:{line} {name}", tt * 1000 / n, calls / n)
        )
        if filename.startswith(str(ROOT)) and "/.venv/" not in filename and "/bench/" not in filename:
            where = f"{filename[len(str(ROOT)) + 1 :]}:{line} {name}"
            shop.append((where, ct * 1000 / n, calls / n))
    shop.sort(key=lambda row: -row[1])
    return {
        "profiled_cpu_ms_per_esim": round(total * 1000 / n, 2),
        # Unlike CPU time, the same on a busy machine and a quiet one: a steady measure of Python work.
        "function_calls_per_esim": round(total_calls / n),
        "shop_cumulative": [
            {"function": f, "ms_per_esim": round(ms, 2), "calls_per_esim": round(c, 2)}
            for f, ms, c in shop[:top]
        ],
        "self_time_by_function": [
            {"function": f, "ms_per_esim": round(ms, 2), "calls_per_esim": round(c, 2)}
            for f, ms, c in sorted(by_self, key=lambda row: -row[1])[:top]
        ],
        "self_time_by_library": [
            {"library": lib, "ms_per_esim": round(tt * 1000 / n, 2), "share": round(tt / total, 3)}
            for lib, tt in self_by_library.most_common(top)
        ],
    }


def report(result: dict, sql: bool) -> None:
    s = result["summary"]
    print()
    print(
        f"One delivered eSIM (webhook → fulfilment → emails), {s['deliveries']} deliveries after "
        f"{result['config']['warmup']} warm-up, in one process:"
    )
    print(
        f"  CPU per eSIM: {s['cpu_ms']['mean']:.1f} ms (p50 {s['cpu_ms']['p50']:.1f}, "
        f"min {s['cpu_ms']['min']:.1f}, max {s['cpu_ms']['max']:.1f})"
    )
    print(
        f"  SQL queries per eSIM: {s['queries']['mean']:g}   Celery tasks: {s['tasks']['mean']:g}   "
        f"database connections opened: {s['db_connections']['mean']:g}"
    )
    first = result["first_delivery_of_the_process"]
    print(
        "  the first delivery of this process (imports, templates, connections): "
        f"{first['cpu_ms']['mean']:.1f} ms: "
        + ", ".join(f"{name} {p['cpu_ms_per_esim']:.1f}" for name, p in first["phases"].items())
    )
    print(f"\n  {'phase':<36} {'runs':>5} {'CPU ms':>8} {'wall ms':>8} {'queries':>8} {'conns':>6}")
    for name, p in s["phases"].items():
        print(
            f"  {name:<36} {p['runs_per_esim']:>5g} {p['cpu_ms_per_esim']:>8.1f} "
            f"{p['wall_ms_per_esim']:>8.1f} {p['queries_per_esim']:>8g} {p['db_connections_per_esim']:>6g}"
        )
    shapes = result["queries_of_one_delivery"]
    repeated = [q for q in shapes if q["count"] > 1]
    if repeated:
        print("\n  queries run more than once in a phase of one delivery:")
        for q in repeated:
            print(f"    {q['count']}× [{q['phase']}] {q['sql'][:150]}")
    if sql:
        print("\n  every query of one delivery (literals blanked):")
        for q in shapes:
            print(f"    {q['count']}× [{q['phase']}] {q['sql']}")
    prof = result.get("profile")
    if not prof:
        return
    print(
        f"\n  under cProfile (its overhead included): {prof['profiled_cpu_ms_per_esim']:.1f} ms and "
        f"{prof['function_calls_per_esim']:,} Python function calls per eSIM"
    )
    print(f"\n  {'the shop’s functions, cumulative':<88} {'ms/eSIM':>8} {'calls':>6}")
    for row in prof["shop_cumulative"]:
        print(f"  {row['function'][:88]:<88} {row['ms_per_esim']:>8.1f} {row['calls_per_esim']:>6g}")
    print(f"\n  {'self time by function':<88} {'ms/eSIM':>8} {'calls':>6}")
    for row in prof["self_time_by_function"]:
        print(f"  {row['function'][:88]:<88} {row['ms_per_esim']:>8.1f} {row['calls_per_esim']:>6g}")
    print(f"\n  {'self time by library':<40} {'ms/eSIM':>8} {'share':>6}")
    for row in prof["self_time_by_library"]:
        print(f"  {row['library'][:40]:<40} {row['ms_per_esim']:>8.1f} {row['share']:>6.1%}")


# -- run ------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=30, help="deliveries measured (default 30)")
    parser.add_argument("--warmup", type=int, default=5, help="deliveries first, not measured (default 5)")
    parser.add_argument("--top", type=int, default=25, help="rows of each profile table")
    parser.add_argument("--sql", action="store_true", help="list every query of one delivery")
    parser.add_argument("--no-profile", action="store_true", help="skip the cProfile pass")
    parser.add_argument(
        "--cold",
        action="store_true",
        help="profile the first delivery of the process instead (what each new worker process pays once)",
    )
    args = parser.parse_args()

    from sandboxes.roamify.testing import RoamifySandbox
    from sandboxes.stripe.testing import StripeSandbox

    prepare_run()
    RESULTS.mkdir(parents=True, exist_ok=True)
    roamify = RoamifySandbox(
        seed=1, extra_args=["--latency", "zero"], log_path=RESULTS / "profile-roamify-sandbox.log"
    )
    stripe = StripeSandbox(log_path=RESULTS / "profile-stripe-sandbox.log")
    try:
        log(f"fresh database {DB_NAME}; Redis DB 13, key prefix {PREFIX}")
        fresh_database(DB_NAME)
        roamify.start()
        stripe.start()
        env = shop_env(roamify, stripe, SITE, DB_NAME, REDIS_URL, PREFIX)
        env["ALLOWED_HOSTS"] = "testserver"  # django.test.Client's host
        start_django(env)
        from celery import current_app

        current_app.loader.import_default_modules()  # every app's tasks.py, as a worker has them
        from checkout.tests.conftest import make_package

        package = make_package("JP")
        recorder = Recorder()
        n = 0

        def run(count: int, profile: cProfile.Profile | None = None) -> list[Delivery]:
            nonlocal n
            done = []
            for _ in range(count):
                n += 1
                done.append(deliver(stripe, package, n, recorder, profile))
            return done

        with recorder.installed():
            log(f"{args.warmup} warm-up deliveries, then {args.repeat} measured")
            profile = cProfile.Profile(time.process_time) if args.cold else None
            cold = run(1, profile)[0]
            run(args.warmup - 1)
            plain = run(args.repeat)
            if not args.no_profile and not args.cold:
                log(f"{args.repeat} more under cProfile")
                profile = cProfile.Profile(time.process_time)
                run(args.repeat, profile)

        result = {
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "config": {"repeat": args.repeat, "warmup": args.warmup, "package": package.package_id},
            "summary": summarise(plain),
            "first_delivery_of_the_process": summarise([cold]),
            "queries_of_one_delivery": [
                {"sql": s, "count": c, "phase": p} for s, c, p in query_shapes(plain[-1])
            ],
        }
        if profile is not None:
            result["profile"] = profile_report(profile, 1 if args.cold else args.repeat, args.top)
            result["profile"]["of"] = "the first delivery" if args.cold else f"{args.repeat} deliveries"
        report(result, args.sql)
        write_result("profile-delivery", result)
        return 0
    except AssertionError as exc:
        log(f"a delivery went wrong: {exc}")
        return 1
    except KeyboardInterrupt:
        log("interrupted; cleaning up")
        return 130
    finally:
        _forget_cache_keys()
        stop_services(roamify, stripe, REDIS_URL, PREFIX)


def _forget_cache_keys() -> None:
    import contextlib

    with contextlib.suppress(Exception):
        import redis

        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(match=f"{PREFIX}:*", count=1000))
        if keys:
            client.delete(*keys)


if __name__ == "__main__":
    sys.exit(main())
