#!/usr/bin/env python
"""Checkout benchmark: from a paid order to the eSIM in the customer's mailbox.

    python bench/checkout_bench.py [--orders 40] [--latency zero|realistic]   (or: make bench-checkout)

1. Drops and creates the PostgreSQL database `bench_checkout` (127.0.0.1:5432, user postgres)
   and migrates it. Redis 127.0.0.1:6379 DB 13 is the Celery broker and the cache, on a queue
   and key prefix of this run's own (nothing there is flushed).
2. Starts the Roamify sandbox (`--latency zero` or `realistic`) and the Stripe sandbox, serves the
   shop with gunicorn (DEBUG=0), registers the shop's webhook with Stripe and starts ONE Celery
   worker (`--concurrency 4`, prefork), the way the shop runs in production.
3. Places N orders through the shop's own HTTP endpoints (add to cart, POST /checkout/ with an
   email, follow to the hosted payment page), then pays all N at once through the Stripe
   sandbox's control API `pay` (the same code path as its card form).
4. Per order: from the `checkout.session.completed` webhook being delivered (its 2xx answer in the
   sandbox's delivery log) to the "Your eSIM is ready" email being stored (OutboxEmail.created_at);
   p50 and p95. Throughput: N orders / (first payment → last eSIM email), in orders per minute.

Realistic upstream latency makes each instant order take 5-25 s (2% take 60-75 s), so that run
uses 12 orders unless told otherwise. Prints a table; writes bench/results/checkout-<timestamp>.json.
Every process started here is stopped at the end, also on Ctrl-C.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import (  # noqa: E402
    CSRF_INPUT,
    RESULTS,
    Child,
    connect_stripe_webhook,
    free_port,
    fresh_database,
    log,
    percentile,
    prepare_run,
    shop_env,
    start_django,
    start_gunicorn,
    start_worker,
    stop_services,
    write_result,
)

DB_NAME = "bench_checkout"
REDIS_URL = "redis://127.0.0.1:6379/13"
QUEUE = f"bench-checkout-{os.getpid()}"
COUNTRIES = ("JP", "US", "FR", "TH", "GB")
DEFAULT_ORDERS = {"zero": 40, "realistic": 12}


# -- setup ------------------------------------------------------------------------------


def create_packages() -> list[str]:
    """A catalog row for a real sandbox package in each of a few countries."""
    from checkout.tests.conftest import make_package

    return [make_package(code).package_id for code in COUNTRIES]


# -- processes --------------------------------------------------------------------------


def log_path(name: str) -> Path:
    return RESULTS / f"checkout-{name}.log"


# -- the orders -------------------------------------------------------------------------


def place_order(site: str, package_id: str, n: int) -> dict:
    """One customer: add to cart, check out, land on the hosted payment page."""
    import httpx

    started = time.monotonic()
    with httpx.Client(base_url=site, timeout=30) as client:
        r = client.post("/cart/add/", data={"package": package_id, "quantity": "1"})
        assert r.status_code == 302 and r.headers["location"].endswith("/cart/"), r.text[:300]
        cart = client.get("/cart/")
        token = CSRF_INPUT.search(cart.text)
        assert cart.status_code == 200 and token, f"no checkout form on the cart page: {cart.status_code}"
        r = client.post(
            "/checkout/", data={"email": f"bench{n}@example.com", "csrfmiddlewaretoken": token.group(1)}
        )
        assert r.status_code == 302, f"POST /checkout/ answered {r.status_code}: {r.text[:300]}"
        hosted = r.headers["location"]
        page = client.get(hosted)
        assert page.status_code == 200 and "Pay with card" in page.text, hosted
    return {
        "email": f"bench{n}@example.com",
        "session_id": hosted.rstrip("/").rsplit("/", 1)[1],
        "checkout_ms": round((time.monotonic() - started) * 1000, 1),
    }


def wait_for_emails(numbers: list[str], worker: Child, timeout: float) -> None:
    from checkout.models import Order, OrderStatus
    from core.models import OutboxEmail

    deadline = time.monotonic() + timeout
    subjects = [f"Your eSIM is ready: order {n}" for n in numbers]
    last = -1
    while time.monotonic() < deadline:
        worker.check_alive()
        done = OutboxEmail.objects.filter(subject__in=subjects).count()
        stuck = Order.objects.filter(number__in=numbers, status=OrderStatus.REQUIRES_ACTION).count()
        if done != last:
            log(f"  {done}/{len(numbers)} eSIM emails stored" + (f", {stuck} need action" if stuck else ""))
            last = done
        if done + stuck >= len(numbers):
            return
        time.sleep(0.25)
    raise RuntimeError(f"only {last}/{len(numbers)} eSIM emails after {timeout:.0f} s; see {worker.log_path}")


def measure(stripe, numbers: list[str], first_pay: float) -> dict:
    from django.db.models import Min, Q

    from checkout.models import Order
    from core.models import OutboxEmail

    delivered: dict[str, float] = {}
    for event in stripe.control.events("checkout.session.completed"):
        number = event["data"]["object"].get("client_reference_id")
        for delivery in event["deliveries"]:
            ok = [a["at"] for a in delivery["attempts"] if a["status"] and 200 <= a["status"] < 300]
            if ok:
                delivered[number] = min(delivered.get(number, math.inf), ok[0])
    emails = {
        e.subject.rsplit(" ", 1)[1]: e.created_at.timestamp()
        for e in OutboxEmail.objects.filter(subject__startswith="Your eSIM is ready: order ")
    }
    per_order = []
    orders = (
        Order.objects.filter(number__in=numbers)
        .order_by("paid_at")
        .annotate(fulfilling_at=Min("events__created_at", filter=Q(events__to_status="fulfilling")))
    )
    for order in orders:
        email_at = emails.get(order.number)
        row = {
            "order": order.number,
            "status": order.status,
            "webhook_delivered_at": delivered.get(order.number),
            "paid_at": order.paid_at.timestamp() if order.paid_at else None,
            "fulfilling_at": order.fulfilling_at.timestamp() if order.fulfilling_at else None,
            "completed_at": order.completed_at.timestamp() if order.completed_at else None,
            "esim_email_at": email_at,
            "fulfilment_attempts": order.fulfilment_attempts,
        }
        if email_at and row["webhook_delivered_at"]:
            row["webhook_to_email_s"] = round(email_at - row["webhook_delivered_at"], 3)
        if email_at and row["paid_at"]:
            row["paid_to_email_s"] = round(email_at - row["paid_at"], 3)
        if row["fulfilling_at"] and row["paid_at"]:
            row["paid_to_fulfilling_s"] = round(row["fulfilling_at"] - row["paid_at"], 3)
        if row["completed_at"] and row["fulfilling_at"]:
            row["fulfilling_to_completed_s"] = round(row["completed_at"] - row["fulfilling_at"], 3)
        if email_at and row["completed_at"]:
            row["completed_to_email_s"] = round(email_at - row["completed_at"], 3)
        per_order.append(row)

    def stats(key: str) -> dict:
        values = [r[key] for r in per_order if key in r]
        if not values:
            return {}
        return {
            "n": len(values),
            "p50": round(percentile(values, 50), 3),
            "p95": round(percentile(values, 95), 3),
            "max": round(max(values), 3),
        }

    done = [r["esim_email_at"] for r in per_order if r["esim_email_at"]]
    span = max(done) - first_pay if done else 0.0
    return {
        "webhook_to_email_s": stats("webhook_to_email_s"),
        "paid_to_email_s": stats("paid_to_email_s"),
        "paid_to_fulfilling_s": stats("paid_to_fulfilling_s"),
        "fulfilling_to_completed_s": stats("fulfilling_to_completed_s"),
        "completed_to_email_s": stats("completed_to_email_s"),
        "completed": len(done),
        "needs_action": sum(1 for r in per_order if r["status"] == "requires_action"),
        "burst_seconds": round(span, 3),
        "orders_per_minute": round(len(done) / span * 60, 1) if span else 0.0,
        "orders": per_order,
    }


# -- report -----------------------------------------------------------------------------


def report(result: dict) -> None:
    cfg, m = result["config"], result["metrics"]
    print()
    print(
        f"Checkout: {cfg['orders']} orders paid in one burst, Roamify latency {cfg['latency']}, "
        f"1 Celery worker ({cfg.get('worker_pool', 'prefork')}) x {cfg['worker_concurrency']}, "
        f"gunicorn {cfg['gunicorn_workers']} workers, "
        f"{cfg['cpus']} CPUs"
    )
    header = f"  {'measure':<50} {'p50':>8} {'p95':>8} {'max':>8}"
    print(header)
    print("  " + "-" * (len(header) - 2))
    rows = (
        ("webhook delivered -> eSIM email stored (s)", "webhook_to_email_s"),
        ("  same, from paid_at (s)", "paid_to_email_s"),
        ("  paid -> fulfilment starts (queue wait, s)", "paid_to_fulfilling_s"),
        ("  fulfilment starts -> completed (upstream, s)", "fulfilling_to_completed_s"),
        ("  completed -> eSIM email stored (queue wait, s)", "completed_to_email_s"),
    )
    for label, key in rows:
        s = m[key]
        if s:
            print(f"  {label:<50} {s['p50']:>8.2f} {s['p95']:>8.2f} {s['max']:>8.2f}")
    ck = result["checkout_ms"]
    print(
        f"  {'cart add + POST /checkout/ + hosted page (ms)':<50} {ck['p50']:>8.0f} {ck['p95']:>8.0f} "
        f"{ck['max']:>8.0f}"
    )
    print(
        f"\n  throughput: {m['completed']} eSIMs emailed in {m['burst_seconds']:.1f} s from the first "
        f"payment = {m['orders_per_minute']:.1f} orders/minute"
        + (f"; {m['needs_action']} orders need action" if m["needs_action"] else "")
    )


def main() -> int:
    cpus = os.cpu_count() or 1
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--orders",
        type=int,
        default=None,
        help="orders to place and pay (default: 40 with zero latency, 12 realistic)",
    )
    parser.add_argument(
        "--latency",
        choices=("zero", "realistic"),
        default="zero",
        help="the Roamify sandbox's latency profile",
    )
    parser.add_argument("--gunicorn-workers", type=int, default=min(cpus, 4))
    parser.add_argument(
        "--pool",
        choices=("prefork", "threads"),
        default="prefork",
        help="Celery pool of the one worker (threads suit I/O-bound fulfilment)",
    )
    parser.add_argument("--concurrency", type=int, default=4, help="the worker's concurrency")
    args = parser.parse_args()
    orders = args.orders or DEFAULT_ORDERS[args.latency]

    from sandboxes.roamify.testing import RoamifySandbox
    from sandboxes.stripe.testing import StripeSandbox

    prepare_run()
    RESULTS.mkdir(parents=True, exist_ok=True)
    roamify = RoamifySandbox(
        seed=1, extra_args=["--latency", args.latency], log_path=RESULTS / "checkout-roamify-sandbox.log"
    )
    stripe = StripeSandbox(log_path=RESULTS / "checkout-stripe-sandbox.log")
    children: list[Child] = []
    try:
        log(f"fresh database {DB_NAME}; Redis DB 13, queue {QUEUE}")
        fresh_database(DB_NAME)
        roamify.start()
        stripe.start()
        port = free_port()
        site = f"http://127.0.0.1:{port}"
        env = shop_env(roamify, stripe, site, DB_NAME, REDIS_URL, QUEUE)
        log(f"migrating {DB_NAME}")
        start_django(env)
        package_ids = create_packages()

        log(f"starting gunicorn on {site} and one Celery worker")
        children.append(start_gunicorn(env, port, args.gunicorn_workers, log_path("gunicorn")))
        children.append(start_worker(env, QUEUE, log_path("celery"), args.pool, args.concurrency))
        worker = children[-1]
        connect_stripe_webhook(stripe, site)

        log(f"placing {orders} orders over HTTP")
        with ThreadPoolExecutor(8) as pool:
            placed = list(
                pool.map(lambda n: place_order(site, package_ids[n % len(package_ids)], n), range(orders))
            )
        from checkout.models import Order

        numbers = [Order.objects.get(email=p["email"]).number for p in placed]

        log(f"paying all {orders} at once")
        first_pay = time.time()
        with ThreadPoolExecutor(min(orders, 32)) as pool:
            outcomes = list(pool.map(lambda p: stripe.control.pay(p["session_id"])["outcome"], placed))
        if any(o != "paid" for o in outcomes):
            raise RuntimeError(f"payments not all paid: {outcomes}")
        wait_for_emails(numbers, worker, timeout=60 + orders * (90 if args.latency == "realistic" else 5))
        stripe.control.wait_for_event("checkout.session.completed", count=orders, delivered=True)

        checkout_ms = [p["checkout_ms"] for p in placed]
        result = {
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "config": {
                "orders": orders,
                "latency": args.latency,
                "worker_concurrency": args.concurrency,
                "worker_pool": args.pool,
                "gunicorn_workers": args.gunicorn_workers,
                "cpus": cpus,
                "packages": package_ids,
                "python": platform.python_version(),
                "machine": platform.machine(),
            },
            "checkout_ms": {
                "p50": percentile(checkout_ms, 50),
                "p95": percentile(checkout_ms, 95),
                "max": max(checkout_ms),
            },
            "metrics": measure(stripe, numbers, first_pay),
            "upstream_orders": len([o for o in roamify.control.ledger() if o["referenceId"] in numbers]),
        }
        report(result)
        if result["upstream_orders"] != orders:
            log(f"warning: {result['upstream_orders']} upstream orders for {orders} shop orders")
        write_result("checkout", result)
        return 0
    except KeyboardInterrupt:
        log("interrupted; cleaning up")
        return 130
    finally:
        for child in reversed(children):
            child.stop()
        stop_services(roamify, stripe, REDIS_URL, QUEUE)


if __name__ == "__main__":
    sys.exit(main())
