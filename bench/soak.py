#!/usr/bin/env python
"""Soak with faults: shoppers buy for minutes while upstream, webhooks, workers and the web fail.

    python bench/soak.py [--shoppers 50] [--minutes 10] [--seed 1]   (or: make bench-soak)
    python bench/soak.py --short                                      (in `make test`: tests/test_soak.py)

Everything runs on 127.0.0.1 and stops by itself:

1. A fresh PostgreSQL database `soak_<pid>` (dropped at the end), Redis DB 12 with a queue and key
   prefix of the run's own, the Roamify sandbox and the Stripe sandbox. The catalog is synced from
   the sandbox once, before any fault.
2. The shop as in production (DEBUG off): gunicorn, two Celery workers (thread pools, like
   docker-compose's) and Celery beat (the order reconciler every few seconds, gift cards due).
   Timeouts and intervals are scaled down so that a minute holds what an hour would.
3. N shoppers (asyncio + httpx, each with its own cookies) loop until the time is up: home →
   destination → package → cart → checkout → the Stripe sandbox's hosted card page (4242) → back
   to the order page, polled until the eSIM shows. Some buy gift cards instead; some pay with a
   code bought earlier in the run (its email is read from the outbox), fully or in part; some sign
   up with the email they bought with (verifying it through the emailed link) and top up an eSIM
   bought earlier.
4. Faults all the while: the Roamify sandbox answers 5 % of calls with a 500 (half of them after
   doing the work) and 2 % with a hang longer than the shop's timeout (the work done), and 5 % of
   instant orders come back pending; the Stripe sandbox delivers every webhook twice, each copy
   after a random delay (so out of order); a Celery worker is SIGKILLed and restarted every minute
   (every ~15 s in short mode); the web server is SIGKILLed and restarted once, mid-run. Shoppers
   retry connection errors (counted, not 500s).
5. The books, once the queue has drained (bounded): every paid order is completed or
   requires_action with a reason, and every session Stripe took money for has its order paid; no
   upstream order or top-up was placed twice for one reference; every gift card's balance is the
   sum of its ledger; every captured payment belongs to exactly one order; no page answered 5xx.

Prints orders per minute, p50/p99 page times, the faults injected by kind and the checks; writes
bench/results/soak-<timestamp>.json; exits 1 when a check fails.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import re
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import (  # noqa: E402
    RESULTS,
    Child,
    drop_queue,
    free_port,
    fresh_database,
    log,
    percentile,
    prepare_run,
    shop_env,
    start_gunicorn,
    start_worker,
    write_result,
)

REDIS_URL = "redis://127.0.0.1:6379/12"
COUNTRIES = ("JP", "US", "FR", "TH", "GB", "DE", "IT", "ES", "AU", "MX")
CARD = {"cardnumber": "4242 4242 4242 4242", "exp": "12 / 34", "cvc": "123", "name": "Soak Shopper"}
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
GIFT_CODE = re.compile(r"[2-9A-HJ-NP-Z]{4}(?:-[2-9A-HJ-NP-Z]{4}){4}")
ORDER_PATH = re.compile(r"/orders/([A-Z0-9-]+)/")
FINAL = ("completed", "requires_action", "refunded", "cancelled")
PASSWORD = "soak shopper pass 123"  # noqa: S105 -- the simulated shoppers sign up with it, on loopback


@dataclass
class Profile:
    shoppers: int
    seconds: float
    worker_kill_every: float
    web_restart_at: float  # share of the run
    order_timeout: float  # a shopper waits this long for the eSIM
    drain_timeout: float
    gunicorn_workers: int
    reconcile_every: int

    @classmethod
    def long(cls, shoppers: int, minutes: float) -> Profile:
        return cls(shoppers, minutes * 60, 60, 0.5, 150, 300, 5, 10)

    @classmethod
    def short(cls) -> Profile:
        return cls(8, 50, 15, 0.5, 60, 75, 3, 5)


# -- the shoppers' view of the run ------------------------------------------------------


@dataclass
class Stats:
    statuses: Counter = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    page_ms: list[float] = field(default_factory=list)
    connection_errors: int = 0
    flows: Counter = field(default_factory=Counter)  # "esim ok", "giftcard timeout", ...
    problems: list[str] = field(default_factory=list)
    orders: dict[str, str] = field(default_factory=dict)  # number -> kind
    codes: list[str] = field(default_factory=list)  # gift codes waiting to be spent
    awaiting_codes: set[str] = field(default_factory=set)  # recipients whose code hasn't come yet
    unpayable: list[str] = field(default_factory=list)  # orders no payment page could be opened for


class Shopper:
    def __init__(self, n: int, run: Run) -> None:
        import httpx

        self.n, self.run = n, run
        self.email = f"shopper{n}.{os.getpid()}@soak.example.com"
        self.rng = random.Random(f"{run.seed}-{n}")
        self.client = httpx.AsyncClient(
            base_url=run.site, timeout=60, follow_redirects=False, headers={"Origin": run.site}
        )
        self.signed_up = False
        self.esims_bought = 0
        self.topped_up = False

    # -- HTTP ------------------------------------------------------------------------
    async def req(self, method: str, url: str, **kw):
        """A request to the shop: timed and counted; connection errors (the web restarting) retried."""
        import httpx

        stats = self.run.stats
        for attempt in range(40):
            started = time.monotonic()
            try:
                r = await self.client.request(method, url, **kw)
            except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError):
                stats.connection_errors += 1
                await asyncio.sleep(min(0.25 * (attempt + 1), 2))
                continue
            stats.page_ms.append((time.monotonic() - started) * 1000)
            stats.statuses[r.status_code] += 1
            if r.status_code >= 500:
                stats.server_errors.append(f"{method} {url} -> {r.status_code}")
            return r
        raise RuntimeError(f"{method} {url}: no connection after 40 tries")

    async def csrf(self, url: str) -> str:
        page = await self.req("GET", url)
        token = CSRF_INPUT.search(page.text)
        if not token:
            raise Flow(f"no form on {url} ({page.status_code})")
        return token.group(1)

    # -- flows -----------------------------------------------------------------------
    async def browse_and_add(self) -> None:
        slug, package_id = self.rng.choice(self.run.packages)
        await self.req("GET", "/")
        await self.req("GET", f"/esim/{slug}/")
        await self.req("GET", f"/esim/{slug}/{package_id}/")
        r = await self.req("POST", "/cart/add/", data={"package": package_id, "quantity": "1"})
        if r.status_code != 302:
            raise Flow(f"cart add answered {r.status_code}")

    async def checkout_and_pay(self, kind: str) -> str:
        for first in (True, False):
            token = await self.csrf("/cart/")
            r = await self.req("POST", "/checkout/", data={"email": self.email, "csrfmiddlewaretoken": token})
            cards = set(re.findall(r'name="card" value="(\d+)"', r.text)) if r.status_code == 400 else set()
            if not (first and cards):
                break
            # Refused with a clear message (a card spent meanwhile, or empty): take the cards off, go on.
            self.run.stats.flows["checkout refused, gift cards removed"] += 1
            for card in cards:
                await self.req(
                    "POST",
                    "/cart/gift-code/",
                    data={"action": "remove", "card": card, "csrfmiddlewaretoken": token},
                )
        if r.status_code != 302:
            raise Flow(f"checkout answered {r.status_code}")
        location = r.headers["location"]
        for _ in range(4):
            paid = location.startswith(self.run.stripe_url)
            if paid:  # the hosted card page
                location = await self.pay_by_card(location)
            back = await self.req("GET", location)  # the shop's order page (confirms the session)
            if back.status_code == 302 and ORDER_PATH.search(back.headers.get("location", "")):
                # The link's ?t= token goes into the session and the browser is sent to the clean URL.
                back = await self.req("GET", back.headers["location"])
            found = ORDER_PATH.search(location)
            if back.status_code != 200 or not found:
                raise Flow(f"order page answered {back.status_code} at {location}")
            number = found.group(1)
            self.run.stats.orders[number] = kind
            if (
                paid
                or (await self.req("GET", f"/orders/{number}/status/")).json()["status"] != "pending_payment"
            ):
                return number
            # No payment page ("please try again in a moment"): press Pay again, as a customer would.
            await asyncio.sleep(2)
            token = CSRF_INPUT.search(back.text)
            if not token:
                raise Flow(f"{number} waits for payment with no Pay button")
            r = await self.req("POST", f"/orders/{number}/pay/", data={"csrfmiddlewaretoken": token.group(1)})
            location = r.headers.get("location", "")
        self.run.stats.unpayable.append(number)
        raise Flow(f"{number} could not be paid: no payment page in 4 tries")

    async def pay_by_card(self, url: str) -> str:
        """The hosted page, filled in with 4242; returns where it sends the customer back to."""
        async with self.run.http_stripe() as stripe:
            page = await stripe.get(url)
            if page.status_code != 200:
                raise Flow(f"hosted page answered {page.status_code}")
            paid = await stripe.post(url, data={**CARD, "email": self.email})
            if paid.status_code != 303:
                raise Flow(f"card refused: {paid.status_code}")
            return paid.headers["location"]

    async def wait_for_order(self, number: str, kind: str) -> str:
        deadline = time.monotonic() + self.run.profile.order_timeout
        status = "?"
        while time.monotonic() < deadline:
            r = await self.req("GET", f"/orders/{number}/status/")
            if r.status_code == 200:
                status = r.json()["status"]
                if status in FINAL:
                    break
            await asyncio.sleep(1)
        else:
            return "timeout"
        if status == "completed" and kind.startswith("esim"):  # a top-up's page shows no new eSIM
            page = await self.req("GET", f"/orders/{number}/")
            if "Activation code" not in page.text:
                self.run.stats.problems.append(f"{number} completed but its page shows no eSIM")
                return "no-esim-shown"
        return status

    async def buy_esim(self, code: str | None = None) -> str:
        await self.browse_and_add()
        if code:
            token = await self.csrf("/cart/")
            await self.req("POST", "/cart/gift-code/", data={"code": code, "csrfmiddlewaretoken": token})
        kind = "esim+giftcode" if code else "esim"
        number = await self.checkout_and_pay(kind)
        outcome = await self.wait_for_order(number, kind)
        if outcome == "completed":
            self.esims_bought += 1
        return outcome

    async def buy_gift_card(self) -> str:
        recipient = f"gift{self.n}-{self.rng.randrange(10**9)}.{os.getpid()}@soak.example.com"
        token = await self.csrf("/gift-cards/")
        r = await self.req(
            "POST",
            "/cart/gift-card/",
            data={
                "amount": self.rng.choice(["1500", "2500"]),
                "recipient_name": f"Friend {self.n}",
                "recipient_email": recipient,
                "template_suffix": "globe",
                "csrfmiddlewaretoken": token,
            },
        )
        if r.status_code != 302:
            raise Flow(f"gift card to cart answered {r.status_code}")
        number = await self.checkout_and_pay("giftcard")
        outcome = await self.wait_for_order(number, "giftcard")
        if outcome == "completed":
            self.run.stats.awaiting_codes.add(recipient)
        return outcome

    async def redeem(self) -> str:
        codes = self.run.stats.codes
        at = self.rng.randrange(len(codes))
        # Now and then two shoppers spend one card at once: the card's row lock must decide.
        shared = self.rng.random() < 0.3
        code = codes[at] if shared else codes.pop(at)
        try:
            return await self.buy_esim(code)
        finally:
            if not shared and await asyncio.to_thread(balance_of, code) > 0:
                codes.append(code)  # money left on it for another shopper

    async def sign_up(self) -> None:
        token = await self.csrf("/accounts/signup/")
        r = await self.req(
            "POST",
            "/accounts/signup/",
            data={
                "email": self.email,
                "password1": PASSWORD,
                "password2": PASSWORD,
                "csrfmiddlewaretoken": token,
            },
        )
        if r.status_code == 429:
            raise Flow("sign-up rate limited")
        if r.status_code != 302:
            raise Flow(f"sign-up answered {r.status_code}")
        link = await self.run.mailbox_link(self.email, "Confirm", r"https?://\S+/accounts/confirm-email/\S+/")
        token = await self.csrf(link)
        r = await self.req("POST", link, data={"csrfmiddlewaretoken": token})
        if r.status_code != 302:
            raise Flow(f"email confirmation answered {r.status_code}")
        self.signed_up = True

    async def top_up(self) -> str:
        if not self.signed_up:
            await self.sign_up()
        esims = re.findall(r'href="/account/esims/(\d+)/"', (await self.req("GET", "/account/")).text)
        if not esims:
            raise Flow("no eSIM in the account")
        pk = self.rng.choice(sorted(set(esims)))
        page = (await self.req("GET", f"/account/esims/{pk}/")).text
        offers = re.findall(r'name="package" value="([^"]+)"', page)
        if not offers:
            return "no-topup-offered"
        token = CSRF_INPUT.search(page)
        r = await self.req(
            "POST",
            f"/account/esims/{pk}/top-up/",
            data={"package": self.rng.choice(offers), "csrfmiddlewaretoken": token.group(1)},
        )
        if r.status_code != 302 or not r.headers["location"].endswith("/cart/"):
            raise Flow("top-up not added (upstream busy?)")
        number = await self.checkout_and_pay("topup")
        outcome = await self.wait_for_order(number, "topup")
        if outcome == "completed":
            self.topped_up = True
        return outcome

    async def loop(self) -> None:
        stats = self.run.stats
        await asyncio.sleep(self.rng.uniform(0, 3))  # don't all start in the same instant
        while time.monotonic() < self.run.ends_at:
            roll = self.rng.random()
            if roll < 0.15:
                name, flow = "giftcard", self.buy_gift_card
            elif roll < 0.35 and stats.codes:
                name, flow = "redeem", self.redeem
            elif roll < 0.50 and self.esims_bought and not self.topped_up:
                name, flow = "topup", self.top_up
            else:
                name, flow = "esim", self.buy_esim
            try:
                outcome = await flow()
            except Flow as exc:
                outcome = "refused"
                stats.problems.append(f"shopper {self.n} {name}: {exc}")
            stats.flows[f"{name} {outcome}"] += 1

    async def close(self) -> None:
        await self.client.aclose()


class Flow(Exception):
    """A flow the shop turned down with a clear answer (not a 500): counted, the shopper moves on."""


def balance_of(code: str) -> int:
    from giftcards import codes
    from giftcards.models import GiftCard

    card = GiftCard.objects.filter(code_hash=codes.code_hash(codes.normalize(code))).first()
    return card.balance_cents if card and card.status == "active" else 0


# -- the run ----------------------------------------------------------------------------


class Run:
    def __init__(self, profile: Profile, seed: int, site: str, stripe_url: str) -> None:
        self.profile, self.seed, self.site, self.stripe_url = profile, seed, site, stripe_url
        self.stats = Stats()
        self.packages: list[tuple[str, str]] = []
        self.ends_at = 0.0

    def http_stripe(self):
        import httpx

        return httpx.AsyncClient(timeout=60, follow_redirects=False)

    async def mailbox_link(self, to: str, subject: str, pattern: str, timeout: float = 45) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            body = await asyncio.to_thread(outbox_body, to, subject)
            found = re.search(pattern, body or "")
            if found:
                return found.group(0)
            await asyncio.sleep(1)
        raise Flow(f"no {subject!r} email to {to} in {timeout:.0f} s")

    async def mailbox(self) -> None:
        """Gift card codes reach their recipients by email; they become spendable in the run."""
        while True:
            if self.stats.awaiting_codes:
                found = await asyncio.to_thread(gift_codes, sorted(self.stats.awaiting_codes))
                for recipient, code in found.items():
                    self.stats.awaiting_codes.discard(recipient)
                    self.stats.codes.append(code)
            await asyncio.sleep(2)


def outbox_body(to: str, subject: str) -> str | None:
    from core.models import OutboxEmail

    mail = OutboxEmail.objects.filter(to=to, subject__contains=subject).order_by("-id").first()
    return mail.body_text if mail else None


def gift_codes(recipients: list[str]) -> dict[str, str]:
    from core.models import OutboxEmail

    found = {}
    for mail in OutboxEmail.objects.filter(to__in=recipients, subject__contains="gift card"):
        code = GIFT_CODE.search(mail.body_text)
        if code:
            found[mail.to] = code.group(0)
    return found


# -- the world --------------------------------------------------------------------------


class World:
    """The processes of the run, and the faults done to them from threads of their own."""

    def __init__(self, env: dict[str, str], port: int, profile: Profile, queue: str, out: Path) -> None:
        self.env, self.port, self.profile, self.queue, self.out = env, port, profile, queue, out
        self.web: Child | None = None
        self.workers: dict[str, Child] = {}
        self.beat: Child | None = None
        self.kills = 0
        self.web_restarts = 0
        self.stop = threading.Event()
        self.errors: list[str] = []

    def path(self, name: str) -> Path:
        return self.out / f"soak-{name}.log"

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

    def kill_workers(self) -> None:
        """Every interval: SIGKILL worker A (whatever it was doing is lost) and start it again."""
        while not self.stop.wait(self.profile.worker_kill_every):
            try:
                self.workers["worker-a"].kill()
                self.kills += 1
                log(f"SIGKILLed worker-a ({self.kills}); restarting it")
                self.start_worker("worker-a")
            except Exception as exc:  # reported with the results, not lost in a thread
                self.errors.append(f"worker restart: {exc}")

    def restart_web_once(self, at: float) -> None:
        if self.stop.wait(at):
            return
        try:
            assert self.web is not None
            self.web.kill()
            log("SIGKILLed gunicorn; restarting it")
            self.start_web()
            self.web_restarts += 1
        except Exception as exc:  # as above
            self.errors.append(f"web restart: {exc}")

    def stop_all(self) -> None:
        self.stop.set()
        for child in [self.beat, *self.workers.values(), self.web]:
            if child is not None:
                with contextlib.suppress(Exception):
                    child.stop()


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


def start_faults(roamify, stripe, seed: int) -> None:
    c = roamify.control
    # Hung calls do the work first, like a slow upstream that answers after the shop gave up.
    c.inject_fault("*", "*", count=None, status=500, probability=0.025, name="500")
    c.inject_fault(
        "*", "*", count=None, status=500, hang_seconds=0.01, probability=0.025, name="500 after work"
    )
    c.inject_fault("*", "*", count=None, hang_seconds=6, probability=0.02, name="timeout")
    c.set_knobs(instant_pending_seconds=5, instant_pending_rate=0.05)
    stripe.control.webhook_chaos(copies=2, max_delay=3, seed=seed)


def stop_faults(roamify) -> None:
    roamify.control.clear_faults()
    roamify.control.set_knobs(instant_pending_rate=1.0, instant_pending_seconds=0)


def sync_catalog_and_pick() -> list[tuple[str, str]]:
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


async def shop(run: Run) -> None:
    shoppers = [Shopper(n, run) for n in range(run.profile.shoppers)]
    mailbox = asyncio.create_task(run.mailbox())
    try:
        tasks = [asyncio.create_task(s.loop()) for s in shoppers]
        # A flow started just before the end runs to its own timeout, not further.
        grace = run.profile.order_timeout + 60
        done, pending = await asyncio.wait(tasks, timeout=run.ends_at - time.monotonic() + grace)
        for task in pending:
            task.cancel()
            run.stats.problems.append("a shopper was still busy after the grace period")
        for task in done:
            if task.exception():
                run.stats.problems.append(f"shopper crashed: {task.exception()!r}")
    finally:
        mailbox.cancel()
        for s in shoppers:
            await s.close()


# -- the books ---------------------------------------------------------------------------


def drain(timeout: float) -> dict:
    """Wait until nothing is left in flight: orders paid or fulfilling, gift cards not yet sent."""
    from checkout.models import Order
    from giftcards.models import GiftCard

    deadline = time.monotonic() + timeout
    left = {}
    while time.monotonic() < deadline:
        left = {
            "orders_in_flight": Order.objects.filter(status__in=["paid", "fulfilling"]).count(),
            "gift_cards_unsent": GiftCard.objects.filter(
                sent_at__isnull=True, order_line__isnull=False, enabled=True, revoked_at__isnull=True
            ).count(),
        }
        if not any(left.values()):
            break
        time.sleep(2)
    return left


def check_books(roamify, stripe, stats: Stats) -> dict[str, dict]:
    from django.db.models import Count, Sum

    from checkout.models import Order, OrderLine
    from giftcards.ledger import ledger_sum
    from giftcards.models import GiftCard
    from payments.models import Payment

    checks: dict[str, dict] = {}
    # 1. Every paid order ends completed, or requires_action with a reason staff can see.
    paid = Order.objects.filter(paid_at__isnull=False)
    unfinished = list(
        paid.exclude(status__in=["completed", "requires_action", "refunded"]).values_list("number", "status")
    )
    hidden = list(paid.filter(status="requires_action", action_reason="").values_list("number", flat=True))
    # ... and every session Stripe took money for paid its order (no money without an order).
    sessions = [s for s in stripe.control.sessions() if s.get("payment_status") == "paid"]
    by_number = {
        o.number: o for o in Order.objects.filter(number__in=[s.get("client_reference_id") for s in sessions])
    }
    unpaid = [
        s["id"]
        for s in sessions
        if not (o := by_number.get(s.get("client_reference_id"))) or o.paid_at is None
    ]
    checks["paid orders completed or visibly requires_action"] = {
        "ok": not unfinished and not hidden and not unpaid,
        "paid_orders": paid.count(),
        "completed": paid.filter(status="completed").count(),
        "requires_action": paid.filter(status="requires_action").count(),
        "not_finished": unfinished[:20],
        "requires_action_without_reason": hidden[:20],
        "stripe_paid_sessions": len(sessions),
        "stripe_paid_without_paid_order": unpaid[:20],
    }

    # 2. Upstream: one order per shop order, one top-up per top-up line.
    ledger = roamify.control.ledger()
    refs = Counter(o["referenceId"] for o in ledger if o["referenceId"])
    duplicates = {ref: n for ref, n in refs.items() if n > 1}
    completed = Order.objects.filter(status="completed")
    shop_refs = set(completed.filter(lines__kind="esim").values_list("number", flat=True))
    shop_refs |= {
        f"{number}-T{pk}"
        for number, pk in OrderLine.objects.filter(order__status="completed", kind="topup").values_list(
            "order__number", "pk"
        )
    }
    missing = sorted(shop_refs - set(refs))
    checks["no duplicate upstream order or top-up"] = {
        "ok": not duplicates and not missing,
        "upstream_orders": sum(1 for o in ledger if o["kind"] != "topup"),
        "upstream_topups": sum(1 for o in ledger if o["kind"] == "topup"),
        "duplicates": duplicates,
        "completed_without_upstream_order": missing[:20],
    }
    # ... and the customer heard of it: the eSIM email and the receipt of every completed order, the
    # code of every gift card bought (a killed worker must not take an email with it).
    unsent = list(
        completed.filter(lines__kind="esim", esim_email_sent_at__isnull=True)
        .values_list("number", flat=True)
        .distinct()
    )
    unsent += list(completed.filter(receipt_sent_at__isnull=True).values_list("number", flat=True))
    cards_unsent = list(
        GiftCard.objects.filter(order_line__isnull=False, sent_at__isnull=True).values_list("pk", flat=True)
    )
    checks["every completed order's emails were sent"] = {
        "ok": not unsent and not cards_unsent,
        "emails_unsent": unsent[:20],
        "gift_codes_unsent": cards_unsent[:20],
    }

    # ... and no shopper was left with an order nobody can pay (the Pay button tried four times).
    checks["every order placed could be paid"] = {
        "ok": not stats.unpayable,
        "unpayable": stats.unpayable[:20],
    }

    # 3. Gift cards: balance = ledger.
    cards = list(GiftCard.objects.all())
    off = [(c.pk, c.balance_cents, ledger_sum(c)) for c in cards if c.balance_cents != ledger_sum(c)]
    checks["gift card balance equals its ledger"] = {
        "ok": not off,
        "cards": len(cards),
        "mismatches": off[:20],
    }

    # 4. Every captured payment: one order, one provider reference, an order that took it as paid.
    captured = Payment.objects.filter(status__in=Payment.CAPTURED_STATES)
    reused = list(
        captured.exclude(external_reference="")
        .values("provider", "external_reference")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .values_list("external_reference", flat=True)
    )
    orphans = list(captured.filter(order__paid_at__isnull=True).values_list("id", "order__number"))
    per_session = Counter(captured.filter(provider="stripe").values_list("external_reference", flat=True))
    stripe_not_one = [s["id"] for s in sessions if per_session.get(s["id"], 0) != 1]
    checks["every captured payment belongs to exactly one order"] = {
        "ok": not reused and not orphans and not stripe_not_one,
        "captured": captured.count(),
        "captured_cents": captured.aggregate(s=Sum("amount_cents"))["s"] or 0,
        "reference_used_twice": reused[:20],
        "captured_on_unpaid_order": orphans[:20],
        "paid_session_without_exactly_one_payment": stripe_not_one[:20],
    }

    # 5. No page answered 5xx, and no webhook delivery either (a duplicate must not crash it).
    webhook_5xx = [
        f"{e['type']} {e['id']} -> {a['status']}"
        for e in stripe.control.events()
        for d in e["deliveries"]
        for a in d["attempts"]
        if a["status"] and a["status"] >= 500
    ]
    checks["no page answered 500"] = {
        "ok": not stats.server_errors and not webhook_5xx,
        "count": len(stats.server_errors),
        "examples": stats.server_errors[:20],
        "webhook_deliveries_5xx": webhook_5xx[:20],
    }
    return checks


def gift_card_split(numbers: list[str]) -> dict[str, int]:
    """Orders a gift card paid: in full, or in part with the card paying the rest."""
    from payments.models import Payment

    providers: dict[int, set[str]] = {}
    for order_id, provider in Payment.objects.filter(
        order__number__in=numbers, status__in=Payment.CAPTURED_STATES
    ).values_list("order_id", "provider"):
        providers.setdefault(order_id, set()).add(provider)
    with_card = [p for p in providers.values() if "giftcard" in p]
    return {
        "in_full": sum(1 for p in with_card if p == {"giftcard"}),
        "in_part": sum(1 for p in with_card if p != {"giftcard"}),
    }


# -- report -----------------------------------------------------------------------------


def report(result: dict) -> None:
    cfg, m = result["config"], result["metrics"]
    print()
    print(
        f"Soak: {cfg['shoppers']} shoppers for {cfg['minutes']:.1f} min, "
        f"{cfg['cpus']} CPUs, seed {cfg['seed']}"
    )
    print(
        f"  orders placed {m['orders_placed']} "
        f"({', '.join(f'{k} {v}' for k, v in m['orders_by_kind'].items())}),"
        f" completed {m['orders_completed']}, requires_action {m['orders_requires_action']}"
    )
    print(
        f"  paid with a gift card: {m['paid_by_gift_card']['in_full']} in full, "
        f"{m['paid_by_gift_card']['in_part']} in part"
    )
    print(f"  orders per minute: {m['orders_per_minute']:.1f}")
    print(
        f"  page times: p50 {m['page_ms_p50']:.0f} ms, p99 {m['page_ms_p99']:.0f} ms "
        f"over {m['requests']} requests; statuses {m['statuses']}"
    )
    print(f"  shopper flows: {m['flows']}")
    print(f"  faults injected: {result['faults']}")
    if m["problems"]:
        print(f"  turned down or slow ({len(m['problems'])}): {m['problems'][:5]}")
    print("  checks:")
    for name, check in result["checks"].items():
        print(
            f"    [{'ok' if check['ok'] else 'FAIL'}] {name}: "
            + ", ".join(f"{k}={v}" for k, v in check.items() if k != "ok" and v not in ([], {}, 0))
        )
    print(f"\n  lost {result['lost']}, duplicate {result['duplicates']}, 500s {result['server_errors']}")


def main() -> int:
    cpus = os.cpu_count() or 1
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shoppers", type=int, default=50)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--short",
        action="store_true",
        help="8 shoppers for 50 s, a worker killed every 15 s (the test in `make test`)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="where the JSON and the process logs go")
    parser.add_argument("--keep-db", action="store_true", help="keep the run's database to look into")
    args = parser.parse_args()
    profile = Profile.short() if args.short else Profile.long(args.shoppers, args.minutes)

    from sandboxes.roamify.testing import RoamifySandbox
    from sandboxes.stripe.testing import StripeSandbox

    prepare_run()
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("soak-*.log"):
        old.unlink()
    db_name, queue = f"soak_{os.getpid()}", f"soak-{os.getpid()}"
    roamify = RoamifySandbox(seed=args.seed, log_path=out / "soak-roamify-sandbox.log")
    stripe = StripeSandbox(log_path=out / "soak-stripe-sandbox.log")
    world: World | None = None
    var_dir = tempfile.TemporaryDirectory(prefix="soak-")
    started = time.monotonic()
    try:
        log(f"fresh database {db_name}; Redis DB 12, queue {queue}")
        fresh_database(db_name)
        roamify.start()
        stripe.start()
        port = free_port()
        site = f"http://127.0.0.1:{port}"
        env = {
            **shop_env(roamify, stripe, site, db_name, REDIS_URL, queue),
            **scaled_env(profile, var_dir.name),
        }
        os.environ.update(env)
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        run = Run(profile, args.seed, site, stripe.base_url)
        run.packages = sync_catalog_and_pick()

        world = World(env, port, profile, queue, out)
        log(f"starting gunicorn on {site}, two Celery workers and beat")
        world.start_web()
        world.start_worker("worker-a")
        world.start_worker("worker-b")
        world.start_beat()
        stripe.control.register_webhook(f"{site}/checkout/stripe/webhook/", stripe.webhook_secret)
        start_faults(roamify, stripe, args.seed)
        setup_seconds = time.monotonic() - started

        log(f"{profile.shoppers} shoppers for {profile.seconds:.0f} s, faults on")
        load_started = time.monotonic()
        run.ends_at = load_started + profile.seconds
        threads = [
            threading.Thread(target=world.kill_workers, daemon=True),
            threading.Thread(
                target=world.restart_web_once, args=(profile.seconds * profile.web_restart_at,), daemon=True
            ),
        ]
        for t in threads:
            t.start()
        asyncio.run(shop(run))
        load_seconds = time.monotonic() - load_started
        world.stop.set()
        for t in threads:
            t.join(90)
        injected = roamify.control.injected()
        chaos = stripe.control.webhook_chaos()["counts"]
        stop_faults(roamify)
        log("shoppers done; faults off; waiting for the queue and the reconciler")
        left = drain(profile.drain_timeout)
        if world.web is not None and world.web.proc.poll() is not None:
            world.errors.append("gunicorn was not running at the end")

        from checkout.models import Order

        checks = check_books(roamify, stripe, run.stats)
        if world.errors:
            checks["the faults were done as planned"] = {"ok": False, "errors": world.errors}
        stats = run.stats
        numbers = list(stats.orders)
        orders = Order.objects.filter(number__in=numbers)
        completed = orders.filter(status="completed").count()
        c1 = checks["paid orders completed or visibly requires_action"]
        c2 = checks["no duplicate upstream order or top-up"]
        c4 = checks["every captured payment belongs to exactly one order"]
        result = {
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "config": {
                "shoppers": profile.shoppers,
                "minutes": round(load_seconds / 60, 2),
                "seed": args.seed,
                "short": args.short,
                "cpus": cpus,
                "gunicorn_workers": profile.gunicorn_workers,
                "workers": "2 x threads 8",
                "worker_kill_every_s": profile.worker_kill_every,
                "setup_seconds": round(setup_seconds, 1),
            },
            "metrics": {
                "orders_placed": len(numbers),
                "orders_by_kind": dict(Counter(stats.orders.values())),
                "orders_completed": completed,
                "orders_requires_action": orders.filter(status="requires_action").count(),
                "paid_by_gift_card": gift_card_split(numbers),
                "orders_per_minute": round(completed / (load_seconds / 60), 1),
                "requests": len(stats.page_ms),
                "page_ms_p50": round(percentile(stats.page_ms, 50), 1) if stats.page_ms else 0,
                "page_ms_p99": round(percentile(stats.page_ms, 99), 1) if stats.page_ms else 0,
                "statuses": dict(sorted(stats.statuses.items())),
                "flows": dict(sorted(stats.flows.items())),
                "problems": stats.problems[:50],
                "left_after_drain": left,
            },
            "faults": {
                "roamify": injected,
                "stripe_webhooks": chaos,
                "worker_sigkills": world.kills,
                "web_restarts": world.web_restarts,
                "connection_errors_retried": stats.connection_errors,
            },
            "checks": checks,
            "lost": len(c1["not_finished"])
            + len(c1["stripe_paid_without_paid_order"])
            + len(c2["completed_without_upstream_order"]),
            "duplicates": len(c2["duplicates"]) + len(c4["reference_used_twice"]),
            "server_errors": len(stats.server_errors),
        }
        report(result)
        write_result("soak", result, out)
        ok = all(c["ok"] for c in checks.values()) and world.kills >= 1 and world.web_restarts == 1
        return 0 if ok else 1
    except KeyboardInterrupt:
        log("interrupted; cleaning up")
        return 130
    finally:
        if world is not None:
            world.stop_all()
        stripe.stop()
        roamify.stop()
        drop_queue(REDIS_URL, queue)
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        with contextlib.suppress(Exception):
            import redis

            r = redis.Redis.from_url(REDIS_URL)
            for key in r.scan_iter(f"{queue}*", count=1000):
                r.delete(key)
            # Kombu keeps the tasks of killed workers here (DB 12 is the soak's own); left behind,
            # they would be put back on a queue nobody reads in an hour.
            r.delete("unacked", "unacked_index", "unacked_mutex")
        with contextlib.suppress(Exception):
            if args.keep_db:
                raise RuntimeError(f"kept {db_name}")
            import psycopg

            from bench._common import PG_ADMIN_URL

            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        var_dir.cleanup()


if __name__ == "__main__":
    sys.exit(main())
