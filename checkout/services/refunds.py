"""Refunds, by line or by amount, split across the payments that paid for the order.

Staff pick what goes back (`plan_refund`): a delivered eSIM at what it was paid (its share of
the line's total after a discount, never the discount), a top-up or an
undelivered line whole, a gift card line for its unspent balance (the card is revoked), and/or an
amount for goodwill. The money goes back to the payments by a rule (`SplitRule`, card first by
default; see docs/architecture.md); a gift card line's money always goes back to the card that
bought the gift card (a gift card never pays for a gift card). The plan is what the refund page
shows; `refund_order` makes it again under the order's lock and refuses when it no longer matches
what staff saw (`expected_split`).

The order lock is held only to check, plan and mark the lines; the providers are called after it
is released, and record what they did under their own locks (the receivers in `payment.py` write
the timeline and close the order).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy

from core.money import format_money
from core.queue import after_commit
from esims import services as esims
from esims.models import Esim
from esims.usage import UsageSnapshot
from esims.usage import summary as usage_summary
from giftcards.ledger import GiftCardError
from giftcards.models import GiftCard
from giftcards.models import Status as GiftCardStatus
from giftcards.services import revoking
from payments import services as payments
from payments.models import Payment

from ..events import OrderEventKind
from ..models import LineKind, Order, OrderLine, OrderStatus, UpstreamRefund
from .order_state import REFUNDABLE, CheckoutError, locked, log_event, move
from .upstream_refunds import LIVE, is_installed

CARD = "stripe"
GIFT_CARD = "giftcard"
STORE_CREDIT = "storecredit"


class SplitRule(models.TextChoices):
    """Which payments a refund goes back to first (within each kind: newest first)."""

    CARD_FIRST = "card_first", gettext_lazy("Card first, then gift cards")
    GIFT_CARDS_FIRST = "gift_cards_first", gettext_lazy("Gift cards first, then the card")


DEFAULT_SPLIT_RULE = SplitRule.CARD_FIRST


def _rank(payment: Payment, rule: str) -> int:
    # Store credit is reached last by either rule: it is not cash, and what goes back to it goes
    # back as credit (storecredit.provider), so money paid by card or gift card goes back first.
    order = (
        (CARD, "", GIFT_CARD, STORE_CREDIT)
        if rule == SplitRule.CARD_FIRST
        else (GIFT_CARD, "", CARD, STORE_CREDIT)
    )
    kind = payment.provider if payment.provider in order else ""
    return order.index(kind)


def captured_payments(order: Order, rule: str = DEFAULT_SPLIT_RULE) -> list[Payment]:
    """The order's captured payments in the order a refund reaches them."""
    newest_first = list(order.payments.captured().order_by("-created_at", "-id"))
    return sorted(newest_first, key=lambda p: _rank(p, rule))  # stable: newest first within a kind


# --- What staff can pick ------------------------------------------------------------------------------


@dataclass
class RefundItem:
    """One thing a refund can give back: a delivered eSIM, or a line taken whole."""

    key: str  # "esim:<id>" or "line:<id>": what the form posts
    line: OrderLine
    amount_cents: int  # what goes back to the customer when it is picked
    esim: Esim | None = None
    gift_card: GiftCard | None = None
    cost_cents: int = 0  # its wholesale cost (an eSIM's: claimed back from Roamify when not installed)
    installed: bool = False
    claim: UpstreamRefund | None = None  # the refund request filed with Roamify for it, if any
    refused: str = ""  # why it can't be picked (refunded already, ...)
    usage: UsageSnapshot | None = None  # filled in by the refund page

    @property
    def pickable(self) -> bool:
        return not self.refused

    @property
    def usage_text(self) -> str:
        return usage_summary(self.usage) if self.esim is not None else ""

    @property
    def label(self) -> str:
        if self.esim is not None:
            return f"{self.line.description} · eSIM {self.tail}"
        if self.gift_card is not None:
            return f"{self.line.description} · card …{self.gift_card.last_characters}"
        return self.line.description

    @property
    def tail(self) -> str:
        return f"…{(self.esim.iccid or self.esim.upstream_esim_id)[-4:]}" if self.esim else ""

    @property
    def is_gift_card(self) -> bool:
        return self.line.kind == LineKind.GIFTCARD


def refund_items(order: Order) -> list[RefundItem]:
    """Everything of the order a refund can pick, in line order, with why not where it can't."""
    lines = list(OrderLine.objects.filter(order=order).select_related("gift_card").prefetch_related("esims"))
    claims = {c.esim_id: c for c in UpstreamRefund.objects.filter(order=order, status__in=LIVE)}
    items: list[RefundItem] = []
    for line in lines:
        esims_of_line = sorted(line.esims.all(), key=lambda e: e.pk) if line.kind == LineKind.ESIM else []
        if esims_of_line:
            for index, esim in enumerate(esims_of_line):
                items.append(
                    RefundItem(
                        f"esim:{esim.pk}",
                        line,
                        # What it was paid: its share of the line after its discount, never the list price.
                        line.paid_unit_cents(index),
                        esim=esim,
                        cost_cents=line.wholesale_cents,
                        installed=is_installed(esim.status),
                        claim=claims.get(esim.pk),
                        refused="refunded" if esim.refund_state else "",
                    )
                )
            continue
        if line.kind == LineKind.GIFTCARD:
            card = getattr(line, "gift_card", None)
            if card is not None:
                refused = ""
                if card.status == GiftCardStatus.REVOKED:
                    refused = "revoked"
                elif card.balance_cents <= 0:
                    refused = "spent: nothing left on it"
                else:
                    refused = (revoking.revoke_blocker(card, by_buyer=False) or "").rstrip(".")
                items.append(
                    RefundItem(
                        f"line:{line.pk}", line, max(card.balance_cents, 0), gift_card=card, refused=refused
                    )
                )
                continue
        left = line.total_cents - line.refunded_cents
        refused = "refunded" if line.refunded_at else ("nothing to refund" if left <= 0 else "")
        cost = line.wholesale_cents * line.quantity if line.kind != LineKind.GIFTCARD else 0
        items.append(RefundItem(f"line:{line.pk}", line, max(left, 0), cost_cents=cost, refused=refused))
    return items


# --- The plan: what goes back, and to which payment ----------------------------------------------------


@dataclass
class Share:
    payment: Payment
    cents: int  # all that goes back on this payment
    for_gift_cards: int = 0  # of which: the unspent balance of gift cards bought with it (revoked)
    label: str = ""  # "Card (Stripe)", "Gift card …ABCD"

    @property
    def by_rule(self) -> int:
        return self.cents - self.for_gift_cards

    @property
    def left_after(self) -> int:
        return self.payment.refundable_cents - self.cents


@dataclass
class RefundPlan:
    order: Order
    rule: str
    items: list[RefundItem]
    picked: list[RefundItem]
    goodwill_cents: int
    refundable_cents: int  # all that is left to refund on the order's payments
    amount_cents: int  # what this refund gives back
    shares: list[Share]
    full: bool  # everything left goes back
    refusal: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def claims(self) -> list[RefundItem]:
        """Picked eSIMs nobody installed: their cost is claimed back from Roamify."""
        return [i for i in self.picked if i.esim is not None and i.claim is None and not i.installed]

    @property
    def installed(self) -> list[RefundItem]:
        """Picked eSIMs a phone installed: refunded at the shop's cost, after a second confirmation."""
        return [i for i in self.picked if i.esim is not None and i.claim is None and i.installed]

    @property
    def esims(self) -> list[RefundItem]:
        return [i for i in self.items if i.esim is not None]

    @property
    def installed_cost_cents(self) -> int:
        return sum(i.cost_cents for i in self.installed)

    @property
    def needs_second_confirmation(self) -> bool:
        return bool(self.installed)

    @property
    def picked_keys(self) -> list[str]:
        return [i.key for i in self.picked]

    @property
    def split(self) -> str:
        """The split as the page shows it, in one string the form carries back: "payment:cents,..."."""
        return ",".join(f"{s.payment.pk}:{s.cents}" for s in self.shares if s.cents)

    def money(self, cents: int) -> str:
        return format_money(cents, self.order.currency)


def plan_refund(
    order: Order,
    keys: list[str] | None = None,
    goodwill_cents: int | None = None,
    *,
    rule: str = DEFAULT_SPLIT_RULE,
    full: bool = False,
) -> RefundPlan:
    """What a refund of the picked `keys` plus `goodwill_cents` gives back, and on which payment.

    `full`: everything left (every item that can go back but gift cards, which are revoked first).
    """
    rule = rule if rule in SplitRule.values else DEFAULT_SPLIT_RULE
    items = refund_items(order)
    payments_in_order = captured_payments(order, rule)
    left = sum(p.refundable_cents for p in payments_in_order)
    goodwill = goodwill_cents or 0
    wanted = set(keys or [])
    refusal, notes = "", []
    unknown = wanted - {i.key for i in items}
    if full:
        picked = [i for i in items if i.pickable and not i.is_gift_card]
    else:
        picked = [i for i in items if i.key in wanted]
    if order.status not in REFUNDABLE:
        refusal = f"An order that is {order.get_status_display().lower()} can't be refunded."
    elif unknown:
        refusal = "Something picked is not on this order: reload the page."
    elif [i for i in picked if not i.pickable]:
        refusal = (
            "; ".join(f"{i.label} can't be refunded ({i.refused})" for i in picked if not i.pickable) + "."
        )
    elif left == 0:
        refusal = "Nothing is left to refund on this order."
    elif not full and not picked and not goodwill:
        refusal = "Pick what to refund, or type an amount for goodwill."
    cards = [i for i in picked if i.is_gift_card]
    # A gift card nobody picked keeps the money that bought its unspent balance: refunding that
    # while the card can still be spent would pay twice.
    live = [i for i in items if i.is_gift_card and i.gift_card is not None and i.pickable and i not in picked]
    kept = sum(i.amount_cents for i in live)
    for_cards = sum(i.amount_cents for i in cards)
    rest_wanted = sum(i.amount_cents for i in picked if not i.is_gift_card) + goodwill
    available = max(left - for_cards - kept, 0)
    if full:
        if live and not refusal:
            refusal = (
                f"This order bought gift card …{', …'.join(i.gift_card.last_characters for i in live)}: "
                "revoke it first (its unused balance goes back to the buyer), then refund the rest."
            )
        rest = available
    elif rest_wanted > available and not refusal:
        if goodwill:
            # With lines picked, the goodwill comes on top of them: say so, or "left to refund ($0.00)"
            # contradicts the page's own "Left to refund" (the order's line is ticked as it opens).
            after = " after the lines picked" if rest_wanted > goodwill else ""
            refusal = (
                f"Choose an amount between {format_money(1, order.currency)} "
                f"and what is left to refund{after} "
                f"({format_money(max(available - rest_wanted + goodwill, 0), order.currency)})"
                + (
                    ": the unspent balance of gift cards not picked stays with their payment."
                    if kept
                    else "."
                )
            )
        notes.append(
            f"Capped at what is left to refund: {format_money(available, order.currency)} "
            f"instead of {format_money(rest_wanted, order.currency)}."
        )
        rest = available
    else:
        rest = rest_wanted
    shares = {
        p.pk: Share(p, 0, label=label)
        for p, label in zip(payments_in_order, payment_labels(payments_in_order), strict=True)
    }
    # A gift card's unspent balance goes back to the card payment(s) of the order that bought it,
    # newest first, as the revoke refunds it (giftcards.services.revoking.settle_revoke_refund).
    room = {p.pk: p.refundable_cents for p in payments_in_order}
    card_payments = [
        p for p in order.payments.captured().order_by("-created_at", "-id") if p.provider == CARD
    ]
    for item in cards:
        owed = item.amount_cents
        for payment in card_payments:
            take = min(owed, room[payment.pk])
            if take > 0:
                shares[payment.pk].cents += take
                shares[payment.pk].for_gift_cards += take
                room[payment.pk] -= take
                owed -= take
        if owed > 0 and not refusal:
            refusal = (
                f"The card payment can't take back gift card …{item.gift_card.last_characters}'s balance."
            )
    for payment in payments_in_order:
        take = min(rest, room[payment.pk])
        if take > 0:
            shares[payment.pk].cents += take
            room[payment.pk] -= take
            rest -= take
    ordered = [shares[p.pk] for p in payments_in_order]
    amount = sum(s.cents for s in ordered)
    return RefundPlan(
        order,
        rule,
        items,
        picked,
        goodwill,
        left,
        amount,
        ordered,
        full=full or (amount == left and left > 0),
        refusal=refusal,
        notes=notes,
    )


def payment_labels(payments_in_order: list[Payment]) -> list[str]:
    """How staff know each payment: the card, or the gift card by its last characters."""
    ids = [(p.data or {}).get("gift_card_id") for p in payments_in_order if p.provider == GIFT_CARD]
    cards = GiftCard.objects.in_bulk([i for i in ids if isinstance(i, int)])
    out = []
    for p in payments_in_order:
        if p.provider == CARD:
            out.append("Card (Stripe)")
        elif p.provider == GIFT_CARD:
            card = cards.get((p.data or {}).get("gift_card_id"))
            out.append(f"Gift card …{card.last_characters}" if card else "Gift card")
        elif p.provider == STORE_CREDIT:
            out.append("Store credit (back as credit)")
        else:
            out.append(p.provider)
    return out


# --- Doing it -----------------------------------------------------------------------------------------


def _mark_picked(plan: RefundPlan) -> None:
    """Record what was refunded on the lines and eSIMs (under the order's lock, before any money moves,
    so that a second refund of the same line is refused)."""
    now = timezone.now()
    by_line: dict[int, int] = {}
    for item in plan.picked:
        by_line[item.line.pk] = by_line.get(item.line.pk, 0) + item.amount_cents
    esims.mark_refunded([i.esim.pk for i in plan.picked if i.esim is not None])
    for line in OrderLine.objects.select_for_update().filter(pk__in=by_line).prefetch_related("esims"):
        line.refunded_cents = min(line.refunded_cents + by_line[line.pk], line.total_cents)
        delivered = list(line.esims.all())
        whole = (
            all(e.refund_state for e in Esim.objects.filter(pk__in=[e.pk for e in delivered]))
            if delivered
            else True
        )
        if whole and line.refunded_at is None:
            line.refunded_at = now
        line.save(update_fields=["refunded_cents", "refunded_at"])


def refund_order(
    order_id: int,
    amount_cents: int | None = None,
    *,
    actor: str = "system",
    reason: str = "",
    notify: bool = True,
    lines: list[str] | None = None,
    rule: str = DEFAULT_SPLIT_RULE,
    expected_split: str | None = None,
) -> int:
    """Refund the picked `lines` (item keys) and/or `amount_cents` of goodwill; everything left when
    both are None. Returns the cents refunded.

    `expected_split`: the split the page showed (`RefundPlan.split`); refused when it no longer holds.
    `notify`: email the customer the refund notice (a partial refund too); staff may choose not to.
    """
    full = lines is None and amount_cents is None
    with transaction.atomic():
        order = locked(order_id)
        if order.status == OrderStatus.REFUNDED:
            return 0
        if order.status not in REFUNDABLE:
            raise CheckoutError(f"An order that is {order.get_status_display().lower()} can't be refunded.")
        if (
            order.status == OrderStatus.FULFILLING
            and order.fulfilment_lease_until
            and order.fulfilment_lease_until > timezone.now()
        ):
            raise CheckoutError("The eSIM is being ordered right now; try again in a few minutes.")
        plan = plan_refund(order, lines, amount_cents, rule=rule, full=full)
        if full and plan.refundable_cents == 0 and not plan.refusal.startswith("This order bought"):
            # nothing left to give back (a free order, or refunded at the provider)
            move(order, OrderStatus.REFUNDED, reason or "Closed with nothing left to refund", actor=actor)
            return 0
        if plan.refusal:
            raise CheckoutError(plan.refusal)
        if expected_split is not None and expected_split != plan.split:
            raise CheckoutError(
                "The order's payments changed since this page was shown (another refund, or a payment "
                "recorded): nothing was refunded. Check the new split below and confirm again."
            )
        _mark_picked(plan)
        what = ", ".join(i.label for i in plan.picked)
        if plan.goodwill_cents:
            what += (" and " if what else "") + f"{plan.money(plan.goodwill_cents)} of goodwill"
        log_event(
            order,
            OrderEventKind.REFUND_REQUESTED,
            f"Refund of {plan.money(plan.amount_cents)} requested"
            + (f" ({what})" if what and not full else "")
            + (f": {reason}" if reason else ""),
            actor=actor,
            plan=[(s.payment.pk, s.cents) for s in plan.shares if s.cents],
            lines=plan.picked_keys,
            rule=plan.rule,
            notify=notify,
        )
    refunded = 0
    for item in plan.picked:
        if item.gift_card is not None:  # revoked: its balance goes back to the card that bought it
            try:
                refunded += revoking.revoke(
                    item.gift_card.pk, actor=actor, reason=reason or "Refunded by staff"
                )
            except GiftCardError as exc:
                raise CheckoutError(f"Gift card …{item.gift_card.last_characters}: {exc}") from None
    for share in plan.shares:
        if share.by_rule > 0:
            refunded += payments.refund(
                share.payment.pk, share.by_rule, reason=reason or "Refunded", actor=actor
            )
    if notify and refunded:
        after_commit("checkout.send_refund_notice", order_id)  # a full refund queues it too: it goes once
    return refunded
