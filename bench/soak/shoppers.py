"""The shoppers: simulated travellers who browse, buy eSIMs and gift cards, spend gift codes, sign up
and top up over HTTP, as a browser would, until the run's time is up. What they saw (page times,
statuses, 5xx, the orders they placed, what the shop turned down) is kept in Stats for the books."""

from __future__ import annotations

import asyncio
import os
import random
import re
import time
from collections import Counter
from dataclasses import dataclass, field

from bench._common import CSRF_INPUT, tls

from .world import Profile

CARD = {"cardnumber": "4242 4242 4242 4242", "exp": "12 / 34", "cvc": "123", "name": "Soak Shopper"}
GIFT_CODE = re.compile(r"[2-9A-HJ-NP-Z]{4}(?:-[2-9A-HJ-NP-Z]{4}){4}")
ORDER_PATH = re.compile(r"/orders/([A-Z0-9-]+)/")
FINAL = ("completed", "requires_action", "refunded", "cancelled")
PASSWORD = "soak shopper pass 123"  # noqa: S105 -- the simulated shoppers sign up with it, on loopback


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
    # Where the shoppers' time went, in seconds: what bounds the rate of a closed loop of shoppers.
    seconds: Counter = field(default_factory=Counter)
    page_ms_by_kind: dict[str, list[float]] = field(default_factory=dict)  # "GET /esim/<slug>/": [ms]

    async def pause(self, seconds: float, why: str) -> None:
        self.seconds[why] += seconds
        await asyncio.sleep(seconds)


class Shopper:
    def __init__(self, n: int, run: Run) -> None:
        import httpx

        self.n, self.run = n, run
        self.email = f"shopper{n}.{os.getpid()}@soak.example.com"
        self.rng = random.Random(f"{run.seed}-{n}")
        self.client = httpx.AsyncClient(
            base_url=run.site, timeout=60, follow_redirects=False, headers={"Origin": run.site}, verify=tls()
        )
        self.signed_up = False
        self.esims_bought = 0
        self.topped_up = False

    # -- HTTP ------------------------------------------------------------------------
    async def think(self) -> None:
        """A shopper reads a page, or fills in a form, before the next request."""
        low, high = self.run.profile.think
        if high > 0:
            await self.run.stats.pause(self.rng.uniform(low, high), "shoppers' pauses (reading, typing)")

    async def req(self, method: str, url: str, *, think: bool = True, **kw):
        """A request to the shop, after the shopper's pause: timed and counted; connection errors
        (the web restarting) retried. `think=False` for what a page does by itself (polling)."""
        import httpx

        stats = self.run.stats
        if think:
            await self.think()
        for attempt in range(40):
            started = time.monotonic()
            try:
                r = await self.client.request(method, url, **kw)
            except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError):
                stats.connection_errors += 1
                await stats.pause(min(0.25 * (attempt + 1), 2), "retry pauses")
                continue
            stats.page_ms.append((time.monotonic() - started) * 1000)
            stats.page_ms_by_kind.setdefault(f"{method} {page_kind(url)}", []).append(stats.page_ms[-1])
            stats.seconds["shop requests"] += time.monotonic() - started
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
            await self.run.stats.pause(2, "retry pauses")
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
            page = await self.at_stripe(stripe.get(url))
            if page.status_code != 200:
                raise Flow(f"hosted page answered {page.status_code}")
            paid = await self.at_stripe(stripe.post(url, data={**CARD, "email": self.email}))  # typed in
            if paid.status_code != 303:
                raise Flow(f"card refused: {paid.status_code}")
            return paid.headers["location"]

    async def at_stripe(self, request):
        """A request to the Stripe sandbox's page after the shopper's pause, timed apart from it."""
        await self.think()
        started = time.monotonic()
        try:
            return await request
        finally:
            self.run.stats.seconds["Stripe's hosted page (sandbox)"] += time.monotonic() - started

    async def wait_for_order(self, number: str, kind: str) -> str:
        """Poll the order's status as its page does (static/js/order.js): after 1.5 s, then every 2 s."""
        deadline = time.monotonic() + self.run.profile.order_timeout
        status = "?"
        wait = 1.5
        while time.monotonic() < deadline:
            await self.run.stats.pause(wait, "pauses polling for the eSIM")
            wait = 2
            r = await self.req("GET", f"/orders/{number}/status/", think=False)
            if r.status_code == 200:
                status = r.json()["status"]
                if status in FINAL:
                    break
        else:
            return "timeout"
        if status == "completed" and kind.startswith("esim"):  # a top-up's page shows no new eSIM
            page = await self.req("GET", f"/orders/{number}/", think=False)  # the page reloads itself
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


def page_kind(url: str) -> str:
    """A URL with its ids taken out: /orders/AB-12/status/ -> /orders/<n>/status/."""
    path = url.split("?", 1)[0]
    path = re.sub(r"^/orders/[^/]+/", "/orders/<n>/", path)
    path = re.sub(r"^/account/esims/\d+/", "/account/esims/<id>/", path)
    path = re.sub(r"^/accounts/confirm-email/.+", "/accounts/confirm-email/<key>/", path)
    path = re.sub(r"^/esim/[^/]+/[^/]+/", "/esim/<slug>/<package>/", path)
    return re.sub(r"^/esim/[^/]+/$", "/esim/<slug>/", path)


class Flow(Exception):
    """A flow the shop turned down with a clear answer (not a 500): counted, the shopper moves on."""


def balance_of(code: str) -> int:
    from giftcards import codes
    from giftcards.models import GiftCard

    card = GiftCard.objects.filter(code_hash=codes.code_hash(codes.normalize(code))).first()
    return card.balance_cents if card and card.status == "active" else 0


# -- what the shoppers share -----------------------------------------------------------


class Run:
    """What every shopper shares: the shop's address, the packages on sale, the clock, the tally
    and the outbox, where the emails they wait for arrive."""

    def __init__(self, profile: Profile, seed: int, site: str, stripe_url: str) -> None:
        self.profile, self.seed, self.site, self.stripe_url = profile, seed, site, stripe_url
        self.stats = Stats()
        self.packages: list[tuple[str, str]] = []
        self.ends_at = 0.0

    def http_stripe(self):
        import httpx

        return httpx.AsyncClient(timeout=60, follow_redirects=False, verify=tls())  # one per payment

    async def mailbox_link(self, to: str, subject: str, pattern: str, timeout: float = 45) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            body = await asyncio.to_thread(outbox_body, to, subject)
            found = re.search(pattern, body or "")
            if found:
                return found.group(0)
            await self.stats.pause(1, "pauses waiting for an email")
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


async def shop(run: Run) -> None:
    """Every shopper shops until the run's time is up (and finishes the flow it is in)."""
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
