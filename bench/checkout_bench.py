#!/usr/bin/env python
"""Checkout benchmark: from a paid order to the eSIM in the customer's mailbox.

    python bench/checkout_bench.py [--orders 40] [--latency zero|realistic] [--steps 30]
    python bench/checkout_bench.py --latency realistic --pool-sweep prefork:4,prefork:8,threads:16,threads:32
    (or: make bench-checkout; make bench-compare compares its figures with bench/baseline.json)

1. Drops and creates the PostgreSQL database `bench_checkout` (127.0.0.1:5432, user postgres)
   and migrates it. Redis 127.0.0.1:6379 DB 13 is the Celery broker and the cache, on a queue
   and key prefix of this run's own (nothing there is flushed).
2. Starts the Roamify sandbox (`--latency zero` or `realistic`) and the Stripe sandbox, serves the
   shop with gunicorn (DEBUG=0), registers the shop's webhook with Stripe and starts ONE Celery
   worker (`--concurrency 4`, prefork), the way the shop runs in production.
3. Unless `--steps 0`: times each step of placing an order alone, one customer at a time, beside a
   bare view (bench/checkout_steps.py), and POST /checkout/ part by part in this process.
4. Places N orders through the shop's own HTTP endpoints, 8 customers at a time (add to cart,
   POST /checkout/ with an email, follow to the hosted payment page), then pays all N at once
   through the Stripe sandbox's control API `pay` (the same code path as its card form).
5. Per order: from the `checkout.session.completed` webhook being delivered (its 2xx answer in the
   sandbox's delivery log) to the "Your eSIM is ready" email being stored (OutboxEmail.created_at);
   p50 and p95. Throughput: N orders / (first payment → last eSIM email), in orders per minute.

Realistic upstream latency makes each instant order take 5-25 s (2% take 60-75 s), so that run
uses 12 orders unless told otherwise. `--pool-sweep` runs steps 4-5 once per Celery pool listed,
each with a fresh worker (48 orders each unless told otherwise), and prints one table with the
worker's peak memory. `--write-baseline` makes the figures of this run bench/baseline.json's.
Prints a table; writes bench/results/checkout-<timestamp>.json.
Every process started here is stopped at the end, also on Ctrl-C.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import baseline, checkout_steps  # noqa: E402
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
    print_table_start,
    shop_env,
    start_django,
    start_gunicorn,
    start_worker,
    stop_services,
    tls,
    write_result,
)

DB_NAME = "bench_checkout"
REDIS_URL = "redis://127.0.0.1:6379/13"
QUEUE = f"bench-checkout-{os.getpid()}"
COUNTRIES = ("JP", "US", "FR", "TH", "GB")
DEFAULT_ORDERS = {"zero": 40, "realistic": 12}
SWEEP_ORDERS = 48  # more than the largest pool of a sweep takes at once


# -- setup ------------------------------------------------------------------------------


def create_packages() -> list[str]:
    """A catalog row for a real sandbox package in each of a few countries."""
    from checkout.tests.conftest import make_package

    return [make_package(code).package_id for code in COUNTRIES]


# -- processes --------------------------------------------------------------------------


def log_path(name: str) -> Path:
    return RESULTS / f"checkout-{name}.log"


# -- the orders -------------------------------------------------------------------------


def place_order(site: str, package_id: str, email: str) -> dict:
    """One customer: add to cart, check out, land on the hosted payment page."""
    import httpx

    started = time.monotonic()
    with httpx.Client(base_url=site, timeout=30, verify=tls()) as client:
        r = client.post("/cart/add/", data={"package": package_id, "quantity": "1"})
        assert r.status_code == 302 and r.headers["location"].endswith("/cart/"), r.text[:300]
        cart = client.get("/cart/")
        token = CSRF_INPUT.search(cart.text)
        assert cart.status_code == 200 and token, f"no checkout form on the cart page: {cart.status_code}"
        r = client.post("/checkout/", data={"email": email, "csrfmiddlewaretoken": token.group(1)})
        assert r.status_code == 302, f"POST /checkout/ answered {r.status_code}: {r.text[:300]}"
        hosted = r.headers["location"]
        page = client.get(hosted)
        assert page.status_code == 200 and "Pay with card" in page.text, hosted
    return {
        "email": email,
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
    if "machine_cpu_ms_per_order" in result:
        print(
            "  machine CPU per delivered eSIM, from the first payment to the last email: "
            f"{result['machine_cpu_ms_per_order']:.0f} ms"
        )


def burst(
    site: str,
    stripe,
    roamify,
    package_ids: list[str],
    orders: int,
    worker: Child,
    latency: str,
    tag: str = "",
) -> dict:
    """N orders placed over HTTP (8 customers at a time), then paid at once; what became of them.
    `tag` keeps the customers' emails of one burst apart from another's."""
    log(f"placing {orders} orders over HTTP")

    def one(n: int) -> dict:
        return place_order(site, package_ids[n % len(package_ids)], f"bench{tag}{n}@example.com")

    with ThreadPoolExecutor(8) as pool:
        placed = list(pool.map(one, range(orders)))
    from checkout.models import Order

    numbers = [Order.objects.get(email=p["email"]).number for p in placed]

    log(f"paying all {orders} at once")
    first_pay = time.time()
    cpu_before = machine_cpu_seconds()
    with MemorySampler(worker) as memory, ThreadPoolExecutor(min(orders, 32)) as pool:
        outcomes = list(pool.map(lambda p: stripe.control.pay(p["session_id"])["outcome"], placed))
        if any(o != "paid" for o in outcomes):
            raise RuntimeError(f"payments not all paid: {outcomes}")
        wait_for_emails(numbers, worker, timeout=60 + orders * (90 if latency == "realistic" else 5))
    burst_cpu = machine_cpu_seconds() - cpu_before
    stripe.control.wait_for_event("checkout.session.completed", count=orders, delivered=True)
    upstream = len([o for o in roamify.control.ledger() if o["referenceId"] in numbers])
    if upstream != orders:
        log(f"warning: {upstream} upstream orders for {orders} shop orders")
    checkout_ms = [p["checkout_ms"] for p in placed]
    return {
        "checkout_ms": {
            "p50": percentile(checkout_ms, 50),
            "p95": percentile(checkout_ms, 95),
            "max": max(checkout_ms),
        },
        "metrics": measure(stripe, numbers, first_pay),
        # Every process of the machine (the shop, PostgreSQL, Redis, both sandboxes and this
        # script's payers): only meaningful on a quiet machine, as the wall-clock figures.
        "machine_cpu_ms_per_order": round(burst_cpu * 1000 / orders, 1),
        "worker_peak_mb": memory.peak_mb,
        "upstream_orders": upstream,
    }


def machine_cpu_seconds() -> float:
    """CPU time the whole machine has spent busy since boot (all CPUs, /proc/stat: every state
    but idle and iowait)."""
    with open("/proc/stat") as stat:
        fields = [int(v) for v in stat.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


class MemorySampler:
    """The peak memory of a worker and its pool processes while inside: the sum of their PSS (each
    process's share of the pages it shares with its siblings), read from /proc twice a second."""

    def __init__(self, worker: Child) -> None:
        self.pgid = worker.proc.pid  # started in a session of its own: its pool shares the group
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            self.peak_mb = max(self.peak_mb, round(self.sample_kb() / 1024, 1))

    def sample_kb(self) -> int:
        total = 0
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                if os.getpgid(int(entry.name)) != self.pgid:
                    continue
                text = (entry / "smaps_rollup").read_text()
            except (OSError, ProcessLookupError):
                continue
            total += sum(int(line.split()[1]) for line in text.splitlines() if line.startswith("Pss:"))
        return total


def parse_sweep(text: str) -> list[tuple[str, int]]:
    """'prefork:4,threads:16' -> [('prefork', 4), ('threads', 16)]."""
    out = []
    for item in text.split(","):
        pool, _, concurrency = item.strip().partition(":")
        if pool not in ("prefork", "threads") or not concurrency.isdigit() or int(concurrency) < 1:
            raise argparse.ArgumentTypeError(f"{item!r}: expected prefork:N or threads:N")
        out.append((pool, int(concurrency)))
    return out


def report_sweep(result: dict) -> None:
    cfg = result["config"]
    print_table_start(
        f"Celery pools compared: {cfg['orders']} orders paid in one burst per pool, Roamify latency "
        f"{cfg['latency']}, gunicorn {cfg['gunicorn_workers']} workers, {cfg['cpus']} CPUs",
        f"  {'pool':<14} {'webhook -> eSIM email p50':>26} {'p95':>7} {'max':>7} {'orders/min':>11} "
        f"{'peak MB':>8} {'CPU ms/eSIM':>12} {'need action':>12}",
    )
    for row in result["sweep"]:
        m = row["metrics"]
        s = m["webhook_to_email_s"] or {"p50": 0, "p95": 0, "max": 0}
        pool = f"{row['pool']} x {row['concurrency']}"
        print(
            f"  {pool:<14} {s['p50']:>24.1f} s {s['p95']:>6.1f}s {s['max']:>6.1f}s "
            f"{m['orders_per_minute']:>11.1f} {row['worker_peak_mb']:>8.0f} "
            f"{row['machine_cpu_ms_per_order']:>12.0f} {m['needs_action']:>12}"
        )
    print(
        "  (peak MB: the worker's processes, proportional share of shared pages; webhook -> email in s;"
        " CPU: the whole machine's, per order, first payment to last email)"
    )


def time_steps(env: dict[str, str], site: str, package_ids: list[str], args, children: list[Child]) -> dict:
    """Each step of placing an order, one customer at a time, beside a bare view of its own gunicorn."""
    port = free_port()
    bare_env = {**env, "DJANGO_SETTINGS_MODULE": "bench.bare_settings"}
    children.append(start_gunicorn(bare_env, port, args.gunicorn_workers, log_path("bare"), ready_path="/"))
    log(f"timing each step of placing an order, {args.steps} times over HTTP and in process")
    return {
        "http": checkout_steps.http_steps(site, f"http://127.0.0.1:{port}/", package_ids, args.steps),
        "in_process": checkout_steps.in_process_parts(package_ids, args.steps),
    }


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
    parser.add_argument(
        "--pool-sweep",
        type=parse_sweep,
        default=None,
        metavar="POOL:N,...",
        help="compare Celery pools in one run, e.g. prefork:4,prefork:8,threads:16,threads:32: the burst "
        "is run once per pool, with a fresh worker (default orders: 48; --pool/--concurrency unused)",
    )
    parser.add_argument(
        "--steps",
        type=int,
        default=None,
        help="time each step of placing an order this many times, one customer at a time "
        "(0: skip; default 30, or 0 with --pool-sweep)",
    )
    baseline.add_arguments(parser)
    args = parser.parse_args()
    sweep = args.pool_sweep
    if sweep and args.write_baseline:
        parser.error("--write-baseline takes the figures of one pool: run it without --pool-sweep")
    if args.steps is None:
        args.steps = 0 if sweep else 30
    orders = args.orders or (SWEEP_ORDERS if sweep else DEFAULT_ORDERS[args.latency])

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

        log(f"starting gunicorn on {site}")
        children.append(start_gunicorn(env, port, args.gunicorn_workers, log_path("gunicorn")))
        connect_stripe_webhook(stripe, site)
        steps = time_steps(env, site, package_ids, args, children) if args.steps else None
        config = {
            "orders": orders,
            "latency": args.latency,
            "worker_concurrency": args.concurrency,
            "worker_pool": args.pool,
            "gunicorn_workers": args.gunicorn_workers,
            "cpus": cpus,
            "packages": package_ids,
            "python": platform.python_version(),
            "machine": platform.machine(),
        }
        if sweep:
            rows = []
            for pool, concurrency in sweep:
                log(f"-- {pool} x {concurrency}: {orders} orders")
                worker = start_worker(
                    env,
                    QUEUE,
                    log_path(f"celery-{pool}-{concurrency}"),
                    pool,
                    concurrency,
                    name=f"celery {pool}",
                )
                try:
                    tag = f"-{pool}{concurrency}-"
                    run = burst(site, stripe, roamify, package_ids, orders, worker, args.latency, tag)
                finally:
                    worker.stop()
                rows.append({"pool": pool, "concurrency": concurrency, **run})
            result = {
                "when": datetime.now(UTC).isoformat(timespec="seconds"),
                "config": {**config, "worker_pool": "sweep", "worker_concurrency": None},
                "sweep": rows,
                "steps": steps,
            }
            report_sweep(result)
        else:
            log(f"starting one Celery worker ({args.pool} x {args.concurrency})")
            children.append(start_worker(env, QUEUE, log_path("celery"), args.pool, args.concurrency))
            run = burst(site, stripe, roamify, package_ids, orders, children[-1], args.latency)
            result = {
                "when": datetime.now(UTC).isoformat(timespec="seconds"),
                "config": config,
                **run,
                "steps": steps,
            }
            report(result)
        if steps:
            checkout_steps.report(steps)
        write_result("checkout", result)
        baseline.after_run("checkout", result, args)
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
