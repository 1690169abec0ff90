"""Everything the front keeps in memory, and the session life cycle."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from .checkout import CheckoutSession
from .errors import StripeError
from .events import EventBus
from .upstream import LocalStripeClient

log = logging.getLogger("sandboxes.stripe")


@dataclass
class Config:
    port: int = 8420
    localstripe_port: int = 0
    public_url: str | None = None
    webhook_url: str | None = None
    webhook_secret: str | None = None
    webhook_attempts: int = 5
    webhook_backoff: float = 0.5
    secret_key: str = "sk_test_sandbox"


@dataclass
class StoredResponse:
    fingerprint: str
    status: int
    body: bytes
    content_type: str
    request_id: str


class IdempotencyStore:
    """Idempotency-Key -> the first response, like Stripe keeps them (ours never expire)."""

    def __init__(self, max_keys: int = 20_000) -> None:
        self.max_keys = max_keys
        self._items: OrderedDict[str, StoredResponse] = OrderedDict()
        self._locks: dict[str, asyncio.Lock] = {}

    def lock(self, key: str) -> asyncio.Lock:
        return self._locks.setdefault(key, asyncio.Lock())

    def release(self, key: str) -> None:
        lock = self._locks.get(key)
        if lock is not None and not lock.locked():
            del self._locks[key]

    def get(self, key: str) -> StoredResponse | None:
        return self._items.get(key)

    def put(self, key: str, value: StoredResponse) -> None:
        self._items[key] = value
        while len(self._items) > self.max_keys:
            self._items.popitem(last=False)

    def clear(self) -> None:
        self._items.clear()


class Sandbox:
    def __init__(self, config: Config, ls: LocalStripeClient, bus: EventBus) -> None:
        self.config = config
        self.ls = ls
        self.bus = bus
        self.public_url = config.public_url or f"http://127.0.0.1:{config.port}"
        self.sessions: dict[str, CheckoutSession] = {}
        self.idempotency = IdempotencyStore()
        # Faults asked through `/_control/faults`: path -> [mode, requests left] (see app.fault_middleware).
        self.faults: dict[str, list] = {}
        # Fields localstripe drops (refund `reason`, PaymentIntent `description`...)
        # by object id, patched back into its JSON on the way out.
        self.extras: dict[str, dict[str, Any]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        # Card numbers of the PaymentMethods made on our page (localstripe keeps them private), and
        # those saved for later with `setup_future_usage` (Stripe then charges them off session
        # without asking the bank again, except for cards that always ask).
        self.card_numbers: dict[str, str] = {}
        self.set_up: set[str] = set()

    # --- bookkeeping -----------------------------------------------------

    def lock(self, key: str) -> asyncio.Lock:
        """One lock per session (or charge): no double payment, no double refund."""
        return self._locks.setdefault(key, asyncio.Lock())

    def remember(self, obj_id: str, fields: dict[str, Any]) -> None:
        if fields:
            self.extras.setdefault(obj_id, {}).update(fields)

    def get_session(self, session_id: str) -> CheckoutSession:
        session = self.sessions.get(session_id)
        if session is None:
            raise StripeError(
                f"No such checkout.session: '{session_id}'",
                status=404,
                param="session",
                code="resource_missing",
            )
        return session

    async def reset(self) -> None:
        reply = await self.ls.request("DELETE", "/_config/data")
        if reply.status != 200:
            raise RuntimeError(f"localstripe refused the wipe: {reply.status}")
        self.sessions.clear()
        self.idempotency.clear()
        self.faults.clear()
        self.extras.clear()
        self._locks.clear()
        self.card_numbers.clear()
        self.set_up.clear()
        self.bus.reset()

    # --- life cycle -------------------------------------------------------

    def complete(self, session: CheckoutSession, pi_id: str, *, email: str, name: str) -> None:
        session.status = "complete"
        session.payment_status = "paid"
        session.payment_intent = pi_id
        session.customer_details = {
            "address": None,
            "email": email,
            "name": name,
            "phone": None,
            "tax_exempt": "none",
            "tax_ids": [],
        }
        log.info("session %s paid with %s", session.id, pi_id)
        self.bus.emit("checkout.session.completed", session.to_dict(self.public_url))

    async def drop_pending_action(self, session: CheckoutSession) -> None:
        pending, session.pending_action = session.pending_action, None
        if pending:
            with contextlib.suppress(Exception):
                await self.ls.post(f"/v1/payment_intents/{pending['id']}/cancel")

    async def expire(
        self,
        session: CheckoutSession,
        *,
        idempotency_key: str | None = None,
        request_id: str | None = None,
    ) -> None:
        """Caller holds the session lock."""
        await self.drop_pending_action(session)
        session.status = "expired"
        log.info("session %s expired", session.id)
        self.bus.emit(
            "checkout.session.expired",
            session.to_dict(self.public_url),
            idempotency_key=idempotency_key,
            request_id=request_id,
        )

    async def expire_if_due(self, session: CheckoutSession) -> None:
        """Lazy expiry; caller holds the session lock."""
        if session.status == "open" and session.expires_at <= time.time():
            await self.expire(session)

    async def check_expiry(self, session: CheckoutSession) -> None:
        if session.status == "open" and session.expires_at <= time.time():
            async with self.lock(session.id):
                await self.expire_if_due(session)

    async def sweep_forever(self, interval: float = 1.0) -> None:
        """Expire sessions once `expires_at` passes, even if nobody looks at them."""
        while True:
            await asyncio.sleep(interval)
            now = time.time()
            for session in list(self.sessions.values()):
                if session.status != "open" or session.expires_at > now:
                    continue
                lock = self.lock(session.id)
                if lock.locked():
                    continue  # a payment is in flight; next tick
                try:
                    async with lock:
                        await self.expire_if_due(session)
                except Exception:  # keep the sweeper alive whatever happens
                    log.exception("expiring %s failed", session.id)

    # --- JSON out -------------------------------------------------------

    async def session_json(self, session: CheckoutSession, expand: list[str]) -> dict[str, Any]:
        data = session.to_dict(self.public_url)
        for path in expand:
            head, _, rest = path.partition(".")
            if head == "line_items":
                data["line_items"] = {
                    "object": "list",
                    "data": session.line_items_list(),
                    "has_more": False,
                    "url": f"/v1/checkout/sessions/{session.id}/line_items",
                }
            elif head == "payment_intent":
                if session.payment_intent:
                    reply = await self.ls.get(f"/v1/payment_intents/{session.payment_intent}")
                    if reply.status == 200:
                        data["payment_intent"] = self.patch(
                            reply.data, ["latest_charge"] if rest == "latest_charge" else []
                        )
            else:
                raise StripeError(f"This property cannot be expanded ({path}).", param="expand")
        return data

    def patch(self, obj: Any, expand: list[str]) -> Any:
        """Make localstripe's JSON look more like Stripe's.

        - put back fields it does not store (see `extras`);
        - `latest_charge` is an id unless expanded (localstripe always expands it).
        """
        if isinstance(obj, list):
            return [self.patch(x, expand) for x in obj]
        if not isinstance(obj, dict):
            return obj
        kind = obj.get("object")
        if kind == "list":
            inner = [p[5:] for p in expand if p.startswith("data.")]
            obj["data"] = [self.patch(x, inner) for x in obj.get("data") or []]
            return obj
        if kind == "refund":
            obj.setdefault("reason", None)
        if kind == "payment_intent":
            for key in ("description", "receipt_email", "statement_descriptor",
                        "statement_descriptor_suffix", "setup_future_usage"):  # fmt: skip
                obj.setdefault(key, None)
            charge = obj.get("latest_charge")
            if isinstance(charge, dict):
                if "latest_charge" in expand:
                    obj["latest_charge"] = self.patch(charge, [])
                else:
                    obj["latest_charge"] = charge.get("id")
        if kind == "charge":
            obj.setdefault("amount_captured", obj.get("amount", 0) if obj.get("captured") else 0)
            if isinstance(obj.get("refunds"), dict):
                obj["refunds"] = self.patch(obj["refunds"], [])
        extra = self.extras.get(str(obj.get("id")))
        if extra:
            obj.update(extra)
        return obj
