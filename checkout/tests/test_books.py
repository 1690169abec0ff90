"""The books (checkout/books.py): every figure against a sum worked out by hand, the books balance,
and both CSVs add up to the dashboard.

The fixture is six days of a small shop, built with the real services where they need no outside
service (gift cards issued, reserved, captured, refunded, revoked and expired through `giftcards`;
store credit granted, rewarded for a referral, spent, refunded back as credit and expired through
`storecredit`; refunds through `payments.services.refund` and the instant test provider, which stands
for a card),
and with the models directly for what would need Stripe or Roamify (orders paid, eSIMs delivered,
Roamify's answers to refund requests). Each step happens at its own time (`at`).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from contextlib import contextmanager
from decimal import Decimal
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from catalog.tests.factories import DestinationFactory, PackageFactory
from checkout import books, reports
from checkout.models import LineKind, Order, OrderLine, OrderStatus, UpstreamRefund
from core.tests.staff import sign_in_staff
from discounts.models import DiscountCode
from esims.models import Esim
from giftcards.ledger import locked, post
from giftcards.models import GiftCard, Kind
from giftcards.services import issuing, lifecycle, redemption, revoking
from payments import services as payments
from payments.models import Payment, PaymentRefund
from roamify import Money
from storecredit.models import CreditAccount
from storecredit.services import expiry, referrals, spending, staff

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("postgres", "clear_cache")]

NOW = timezone.make_aware(dt.datetime(2026, 11, 20, 15, 0))
TODAY = NOW.date()


def day(n: int, minutes: int = 0) -> dt.datetime:
    """`n` days before NOW (at the same hour), plus some minutes."""
    return NOW - dt.timedelta(days=n) + dt.timedelta(minutes=minutes)


@contextmanager
def at(when: dt.datetime):
    with mock.patch("django.utils.timezone.now", return_value=when):
        yield


class Shop:
    """Builds orders the way checkout leaves them."""

    def __init__(self) -> None:
        self.japan = PackageFactory(destination=DestinationFactory(name="Japan"))
        self.italy = PackageFactory(destination=DestinationFactory(name="Italy"))
        self.esims = 0

    def order(
        self,
        when: dt.datetime,
        lines: list[tuple],
        *,
        status=OrderStatus.COMPLETED,
        code: DiscountCode | None = None,
        discount: int = 0,
    ) -> Order:
        """Lines of (kind, quantity, unit price, unit cost, delivered); eSIM lines get their eSIMs.
        `discount`: what `code` took off the first line (its total is after it, as checkout writes)."""
        with at(when):
            order = Order.objects.create(
                email="owner-test@example.com",
                currency="USD",
                total_cents=sum(q * price for _, q, price, _, _ in lines) - discount,
                discount_cents=discount,
                discount_code=code,
                status=status,
                paid_at=when,
                completed_at=when + dt.timedelta(seconds=30) if status == OrderStatus.COMPLETED else None,
            )
            for i, (kind, q, price, cost, delivered) in enumerate(lines):
                cut = discount if i == 0 else 0
                line = OrderLine.objects.create(
                    order=order,
                    kind=kind,
                    package=None if kind == LineKind.GIFTCARD else self.japan,
                    esim=self.esim() if kind == LineKind.TOPUP else None,
                    description=kind,
                    quantity=q,
                    unit_price_cents=price,
                    total_cents=q * price - cut,
                    discount_cents=cut,
                    wholesale_cents=cost,
                    fulfilled_at=when + dt.timedelta(seconds=20) if delivered else None,
                )
                if kind == LineKind.ESIM and delivered:
                    line.esims.set([self.esim() for _ in range(q)])
        return order

    def esim(self) -> Esim:
        self.esims += 1
        return Esim.objects.create(upstream_esim_id=f"esim-{self.esims}", status="READY")

    def pay(self, order: Order, cents: int, when: dt.datetime) -> Payment:
        with at(when):
            return Payment.objects.create(
                order=order,
                provider="test-instant",
                status=Payment.Status.CAPTURED,
                amount_cents=cents,
                currency="USD",
                captured_at=when,
            )

    def _held(self, order: Order, provider: str, data: dict, cents: int, when: dt.datetime, hold, capture):
        """A payment from a ledger (a gift card, store credit): held on it, then captured unless
        `capture` is None (a checkout not paid yet)."""
        with at(when):
            payment = Payment.objects.create(
                order=order,
                provider=provider,
                status=Payment.Status.RESERVED,
                amount_cents=cents,
                currency="USD",
                data={**data, "order_number": order.number},
            )
            hold(payment)
            if capture is not None:
                capture(payment)
                Payment.objects.filter(pk=payment.pk).update(status=Payment.Status.CAPTURED, captured_at=when)
        payment.refresh_from_db()
        return payment

    def pay_by_gift_card(self, order: Order, card: GiftCard, cents: int, when: dt.datetime, capture=True):
        return self._held(
            order,
            "giftcard",
            {"gift_card_id": card.pk},
            cents,
            when,
            lambda payment: redemption.reserve(card.pk, payment),
            redemption.capture if capture else None,
        )

    def pay_by_credit(self, order: Order, user, cents: int, when: dt.datetime) -> Payment:
        """Store credit pays `cents` of the order: reserved on the account, captured (spent)."""
        return self._held(
            order, "storecredit", {"credit_user_id": user.pk}, cents, when, spending.reserve, spending.capture
        )

    def card_for(self, order: Order, when: dt.datetime, **kwargs) -> GiftCard:
        line = order.lines.get(kind=LineKind.GIFTCARD)
        with at(when):
            card, _ = issuing.issue(line.total_cents, actor="test", order=order, order_line=line, **kwargs)
        return card

    def refund(self, payment: Payment, cents: int, when: dt.datetime, reason: str = "Customer asked") -> None:
        with at(when):
            assert payments.refund(payment.pk, cents, reason=reason, actor="staff") == cents

    def claim(self, order: Order, esim: Esim, cost: int, status: str, when: dt.datetime, why: str = ""):
        with at(when):
            return UpstreamRefund.objects.create(
                order=order,
                esim=esim,
                refund_id=f"rf-{esim.pk}",
                status=status,
                cost_cents=cost,
                reason="not_installed",
                rejection_reason=why,
                decided_at=when,
            )


@pytest.fixture
def shop():
    s = Shop()
    esim, topup, giftcard = LineKind.ESIM, LineKind.TOPUP, LineKind.GIFTCARD
    # Day -5: a $50 gift card sold (A); two eSIMs at 9.99 (cost 6.86 each).
    o1 = s.order(day(5), [(giftcard, 1, 5000, 0, True)])
    s.pay(o1, 5000, day(5))
    card_a = s.card_for(o1, day(5, 1))
    o2 = s.order(day(5, 10), [(esim, 2, 999, 686, True)])
    s.pay(o2, 1998, day(5, 10))
    # Day -3: card A pays an eSIM at 14.99 (cost 10.00) and part of a 5.00 top-up (cost 3.50);
    # a $20 gift card (B) sold that expires the next day; a $30 gift card (C) sold.
    o3 = s.order(day(3), [(esim, 1, 1499, 1000, True)])
    o3_card = s.pay_by_gift_card(o3, card_a, 1499, day(3))
    o4 = s.order(day(3, 5), [(topup, 1, 500, 350, True)])
    s.pay_by_gift_card(o4, card_a, 300, day(3, 5))
    s.pay(o4, 200, day(3, 5))
    o5 = s.order(day(3, 10), [(giftcard, 1, 2000, 0, True)])
    s.pay(o5, 2000, day(3, 10))
    card_b = s.card_for(o5, day(3, 11), expires_on=TODAY - dt.timedelta(days=2))
    o10 = s.order(day(3, 20), [(giftcard, 1, 3000, 0, True)])
    o10_pay = s.pay(o10, 3000, day(3, 20))
    card_c = s.card_for(o10, day(3, 21))
    # Day -1: an eSIM at 9.99 (cost 6.86) refunded in full the same day; two eSIMs at 7.99 (cost 5.00
    # each); the daily expiry job closes card B (its $20 is breakage).
    o6 = s.order(day(1), [(esim, 1, 999, 686, True)])
    o6_pay = s.pay(o6, 999, day(1))
    s.refund(o6_pay, 999, day(1, 60))
    o7 = s.order(day(1, 5), [(esim, 2, 799, 500, True)])
    o7_pay = s.pay(o7, 1598, day(1, 5))
    with at(day(1, 120)):
        lifecycle.expire_cards()
    # Today: 3.00 back on o7 (partial); 5.00 of o3 back onto card A; Roamify accepts o6's claim and
    # rejects one of o7's; card C is revoked and its $30 paid back; an eSIM at 4.99 (cost 3.00) is paid
    # but not delivered (needs action); a checkout reserves 10.00 of card A and is not paid yet.
    s.refund(o7_pay, 300, day(0, -300))
    s.refund(o3_card, 500, day(0, -290))
    s.claim(o6, o6.lines.get().esims.get(), 686, UpstreamRefund.Status.REFUNDED, day(0, -280))
    s.claim(
        o7,
        o7.lines.get().esims.first(),
        500,
        UpstreamRefund.Status.REJECTED,
        day(0, -270),
        "eSIM was installed",
    )
    with at(day(0, -260)), transaction.atomic():
        card = locked(card_c.pk)
        post(card, Kind.REVOKE, -card.balance_cents, actor="staff", reason="Revoked")
    s.refund(o10_pay, 3000, day(0, -259), reason=revoking._refund_reason(card_c))
    o8 = s.order(day(0, -200), [(esim, 1, 499, 300, False)], status=OrderStatus.REQUIRES_ACTION)
    s.pay(o8, 499, day(0, -200))
    o9 = s.order(day(0, -100), [(esim, 1, 1000, 700, False)], status=OrderStatus.PENDING_PAYMENT)
    Order.objects.filter(pk=o9.pk).update(paid_at=None)
    s.pay_by_gift_card(o9, card_a, 1000, day(0, -100), capture=False)
    card_b.refresh_from_db()
    assert card_b.balance_cents == 0 and card_b.transactions.filter(kind=Kind.EXPIRE).count() == 1

    # Growth. Day -4: Bea's referral of o2 earns her $5.00 of credit (the refund window is a day
    # here); staff give her $3.00 that expires at day -2 (the expiry job: $3.00 of breakage).
    bea = get_user_model().objects.create_user("bea", "bea@example.com", "pw-bea-12345")
    with override_settings(REFERRAL_REWARD_AFTER_SECONDS=24 * 3600):
        referral = referrals.record(
            referrer_id=bea.pk, code="BEA5", order_id=o2.pk, friend_email=o2.email, paid_at=o2.paid_at
        )
    with at(day(4, 20)):
        assert referrals.settle(referral.pk, refunded=False).reward.amount_cents == 500
    with at(day(4, 30)):
        staff.adjust(bea, 300, reason="Sorry for the wait", actor="staff", expires_at=day(2))
    with at(day(2, 1)):
        assert expiry.expire_due() == 1
    # Day -2: JAPAN10 takes 10 % off two eSIMs at 10.00 (cost 6.00 each): sold for 18.00, paid by card.
    japan10 = DiscountCode.objects.create(code="JAPAN10", percent_off=10)
    o11 = s.order(day(2, 60), [(esim, 2, 1000, 600, True)], code=japan10, discount=200)
    s.pay(o11, 1800, day(2, 60))
    # An eSIM at 12.00 (cost 8.00): Bea's $5.00 of credit pays part, a card 7.00. Today 2.00 of the
    # credit goes back as credit and 3.00 back to the card.
    o12 = s.order(day(2, 120), [(esim, 1, 1200, 800, True)])
    o12_credit = s.pay_by_credit(o12, bea, 500, day(2, 120))
    o12_card = s.pay(o12, 700, day(2, 120))
    s.refund(o12_credit, 200, day(0, -250))
    s.refund(o12_card, 300, day(0, -249))
    assert CreditAccount.objects.get(user=bea).balance_cents == 200
    return {"o3": o3, "o6": o6, "o7": o7, "o8": o8, "o10": o10, "o11": o11, "o12": o12, "bea": bea}


WHOLE = (reports.day_start(TODAY - dt.timedelta(days=6)), reports.day_start(TODAY + dt.timedelta(days=1)))
TODAY_RANGE = (reports.day_start(TODAY), reports.day_start(TODAY + dt.timedelta(days=1)))
# Sums by hand (cents):
# o2, o3, o4, o6, o7, o8, o11 (at list price), o12: eSIMs and top-ups, however paid
GROSS = 1998 + 1499 + 500 + 999 + 1598 + 499 + 2000 + 1200
DISCOUNTS = 200  # o11's JAPAN10
# o6 in full, o7 in part, o3 back onto card A, o12 (2.00 back as credit, 3.00 to the card)
REFUNDS = 999 + 300 + 500 + 200 + 300
NET = GROSS - DISCOUNTS - REFUNDS
DELIVERED_COST = 2 * 686 + 1000 + 350 + 686 + 2 * 500 + 2 * 600 + 800  # o8 was not delivered
RECOVERED = 686
COST = DELIVERED_COST - RECOVERED
SOLD_CARDS = 5000 + 2000 + 3000
LIABILITY = 5000 - 1499 - 300 + 500  # card A; B expired, C revoked; o9's reserve is not spent yet
# Every captured payment but gift cards and store credit (o12's card part: 7.00).
CASH_IN = 5000 + 1998 + 200 + 2000 + 3000 + 999 + 1598 + 499 + 1800 + 700
CASH_OUT = 999 + 300 + 3000 + 300
# Bea's store credit: 5.00 reward + 3.00 by staff − 3.00 expired − 5.00 spent on o12 + 2.00 back.
CREDIT_REWARDS, CREDIT_ADJUSTED, CREDIT_EXPIRED, CREDIT_SPENT, CREDIT_BACK = 500, 300, 300, 500, 200
CREDIT_LIABILITY = CREDIT_REWARDS + CREDIT_ADJUSTED - CREDIT_EXPIRED - CREDIT_SPENT + CREDIT_BACK
CARD_PAYMENTS = ("giftcard", "storecredit")  # the payments that are no cash


def test_every_figure_matches_a_sum_by_hand(shop):
    with at(NOW):
        found = books.books({"whole": WHOLE, "today": TODAY_RANGE})
    whole, today = found["whole"], found["today"]
    assert whole.gross_sales_cents == GROSS == 10293
    assert whole.discounts_cents == DISCOUNTS
    assert whole.refunds_cents == REFUNDS == 2299
    assert whole.net_revenue_cents == NET == 7794
    assert (whole.delivered_cost_cents, whole.recovered_cost_cents, whole.cost_cents) == (
        DELIVERED_COST,
        RECOVERED,
        COST,
    )
    assert whole.lost_cost_cents == 500
    assert whole.margin_cents == NET - COST == 2072
    assert whole.margin_percent == round(2072 * 100 / 7794, 1) == 26.6
    assert whole.giftcards_sold_cents == SOLD_CARDS
    assert whole.giftcard_refunds_cents == 3000
    assert whole.giftcards_spent_cents == 1499 + 300  # never the store credit o12 spent
    assert (whole.liability_start_cents, whole.liability_end_cents) == (0, LIABILITY)
    assert whole.breakage_cents == 2000
    assert whole.orders == 11  # o1 to o8, o10 to o12: o9 is not paid
    assert whole.sale_orders == 8 and whole.average_cents == GROSS // 8  # gift card orders are no sale
    # Store credit: a liability like gift cards; what it paid for is in the sales already.
    assert (whole.credit_rewards_cents, whole.credit_adjusted_cents) == (CREDIT_REWARDS, CREDIT_ADJUSTED)
    assert whole.credit_refunded_cents == CREDIT_BACK and whole.credit_issued_cents == 1000
    assert whole.credit_granted_cents == 800  # the refund back as credit was paid for
    assert whole.credit_spent_cents == CREDIT_SPENT and whole.credit_breakage_cents == CREDIT_EXPIRED
    assert (whole.credit_liability_start_cents, whole.credit_liability_end_cents) == (0, CREDIT_LIABILITY)
    assert CREDIT_LIABILITY == 200

    # Today alone: the sale of o8; the refunds, claims and revoke made today.
    assert today.gross_sales_cents == 499 and today.refunds_cents == 300 + 500 + 200 + 300
    assert today.net_revenue_cents == 499 - 1300 and today.discounts_cents == 0
    assert (today.delivered_cost_cents, today.recovered_cost_cents, today.lost_cost_cents) == (0, 686, 500)
    assert today.margin_cents == (499 - 1300) - (0 - 686)
    assert (today.credit_liability_start_cents, today.credit_liability_end_cents) == (0, 200)
    assert (today.credit_refunded_cents, today.credit_spent_cents, today.credit_granted_cents) == (200, 0, 0)
    assert today.liability_start_cents == (5000 - 1499 - 300) + 3000  # A and C; B expired yesterday
    assert today.liability_end_cents == LIABILITY and today.breakage_cents == 0
    assert today.giftcards_sold_cents == 0 and today.giftcard_refunds_cents == 3000

    # Yesterday: o6 sold and refunded, o7 sold, card B expired.
    yesterday = books.books_between(reports.day_start(TODAY - dt.timedelta(days=1)), TODAY_RANGE[0])
    assert yesterday.gross_sales_cents == 999 + 1598 and yesterday.refunds_cents == 999
    assert yesterday.delivered_cost_cents == 686 + 1000 and yesterday.breakage_cents == 2000

    # One order's figures, as the order page and the list show them.
    o7 = books.order_money(shop["o7"])
    assert (o7.gross_sales_cents, o7.refunds_cents, o7.net_revenue_cents) == (1598, 300, 1298)
    assert (o7.delivered_cost_cents, o7.lost_cost_cents, o7.margin_cents) == (1000, 500, 298)
    o6 = books.order_money(shop["o6"])
    assert (o6.net_revenue_cents, o6.cost_cents, o6.margin_cents) == (0, 0, 0)  # refunded, cost recovered
    o10 = books.order_money(shop["o10"])
    assert (o10.gross_sales_cents, o10.refunds_cents, o10.giftcard_refunds_cents) == (0, 0, 3000)
    assert o10.margin_percent is None and not o10.has_sales
    # A discounted order: sales at list price, the discount its own figure, the margin after it.
    o11 = books.order_money(shop["o11"])
    assert (o11.gross_sales_cents, o11.discounts_cents, o11.net_revenue_cents) == (2000, 200, 1800)
    assert (o11.total_cents, o11.cost_cents, o11.margin_cents) == (1800, 1200, 600)
    # Paid partly by credit: the credit is in its sale, and what went back as credit is a refund.
    o12 = books.order_money(shop["o12"])
    assert (o12.paid_by_credit_cents, o12.paid_otherwise_cents, o12.paid_by_giftcard_cents) == (500, 700, 0)
    assert (o12.gross_sales_cents, o12.refunded_cents, o12.refunds_cents) == (1200, 500, 500)
    assert (o12.net_revenue_cents, o12.margin_cents) == (700, 700 - 800)
    # By discount code: each code's orders with their own figures, "(no code)" for the rest.
    with at(NOW):
        by_code = books.sales_by(["code"], {"whole": WHOLE})["code"]["whole"]
    assert [(c.name, c.orders, c.gross_sales_cents, c.discounts_cents, c.margin_cents) for c in by_code] == [
        ("(no code)", 10, GROSS - 2000, 0, 2072 - 600),
        ("JAPAN10", 1, 2000, 200, 600),
    ]
    lost = books.lost_claims(WHOLE)
    assert [(c.order_number, c.cost_cents, c.reason) for c in lost] == [
        (shop["o7"].number, 500, "eSIM was installed")
    ]


def test_the_revoke_refund_reason_is_recognised():
    """The books tell a revoked card's refund from an eSIM's by the reason revoking gives it."""
    import re

    assert re.match(books.GIFTCARD_REFUND_REASON, revoking._refund_reason(GiftCard(pk=42)))
    assert not re.match(books.GIFTCARD_REFUND_REASON, "Customer asked")


def test_the_books_balance(shop):
    """Money captured − money refunded = net revenue of delivered lines (after discounts) + change in
    gift card and store credit liability + breakage of both (income, not owed any more) − value given
    without a payment (cards issued by hand, credit rewarded or granted) + money held for orders not
    delivered yet."""
    with at(NOW):
        whole = books.books_between(*WHOLE)
        held = books.undelivered_cents(WHOLE[1])
    assert held == 499  # o8
    by_card = list(Payment.objects.captured().exclude(provider__in=CARD_PAYMENTS))
    cash_in = sum(p.amount_cents for p in by_card)
    cash_out = sum(p.refunded_cents for p in by_card)
    assert (cash_in, cash_out) == (CASH_IN, CASH_OUT)
    assert whole.giftcards_unpaid_cents == 0  # no card issued by hand here
    assert whole.credit_granted_cents == CREDIT_REWARDS + CREDIT_ADJUSTED
    assert cash_in - cash_out == (
        (whole.net_revenue_cents - held)
        + whole.liability_change_cents
        + whole.breakage_cents
        - whole.giftcards_unpaid_cents
        + whole.credit_liability_change_cents
        + whole.credit_breakage_cents
        - whole.credit_granted_cents
        + held
    )
    # By hand: net revenue, gift cards owed at the end (from 0) and expired; credit owed at the end
    # (from 0) and expired, less the 8.00 of it given away (reward and grant).
    assert cash_in - cash_out == 17794 - 4599 == NET + 3701 + 2000 + (200 + 300 - 800)
    # And over today alone (every card and credit movement and refund of today is in it).
    with at(NOW):
        today = books.books_between(*TODAY_RANGE)
    today_in = 499
    today_out = 300 + 3000 + 300
    assert today_in - today_out == (
        today.net_revenue_cents
        + today.liability_change_cents
        + today.breakage_cents
        + today.credit_liability_change_cents
        + today.credit_breakage_cents
        - today.credit_granted_cents
    )


def _csv(client, slug: str, query: str) -> list[dict]:
    response = client.get(reverse("admin:checkout_order_export", args=[slug]) + query)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(body)))


def _total(rows: list[dict], column: str) -> int:
    return int(sum(Decimal(r[column] or "0") for r in rows) * 100)


def test_both_csvs_add_up_to_the_dashboard(shop, client):
    user = get_user_model().objects.create_superuser("owner@example.com", "owner@example.com", "pw")
    sign_in_staff(client, user)
    first, last = TODAY - dt.timedelta(days=6), TODAY
    query = f"?view=all&paid_at__gte={first}&paid_at__lt={last + dt.timedelta(days=1)}"
    with at(NOW):
        board = reports.compute(NOW, custom=(first, last))
        orders = _csv(client, "orders", query)
        lines = _csv(client, "lines", query)
    figures = board.periods["custom"]
    assert len(orders) == 11 and {r["currency"] for r in orders} == {"USD"}
    assert len(lines) == 11 and all(r["order"] for r in lines)
    expected = {
        "gross_sales": figures.gross_sales_cents,
        "discounts": figures.discounts_cents,
        "refunds": figures.refunds_cents,
        "net_revenue": figures.net_revenue_cents,
        "cost_delivered": figures.delivered_cost_cents,
        "cost_recovered": figures.recovered_cost_cents,
        "cost": figures.cost_cents,
        "margin": figures.margin_cents,
        "cost_lost": figures.lost_cost_cents,
        "gift_cards_sold": figures.giftcards_sold_cents,
        "gift_cards_refunded": figures.giftcard_refunds_cents,
    }
    for column, cents in expected.items():
        assert _total(orders, column) == cents, column
        assert _total(lines, column) == cents, column
    assert (expected["margin"], expected["discounts"], expected["gross_sales"]) == (2072, DISCOUNTS, GROSS)
    # The payments columns add up too: what was paid, by what, and what went back (to a gift card
    # and as store credit too).
    assert _total(orders, "order_total") == GROSS - DISCOUNTS + SOLD_CARDS
    assert _total(orders, "paid_by_card") == CASH_IN
    assert _total(orders, "refunded") == CASH_OUT + 500 + CREDIT_BACK
    assert _total(orders, "paid_by_gift_card") == 1499 + 300
    assert _total(orders, "paid_by_store_credit") == CREDIT_SPENT == figures.credit_spent_cents
    assert _total(lines, "line_total") == GROSS - DISCOUNTS + SOLD_CARDS
    codes = {r["order"]: r["discount_code"] for r in orders}
    assert codes.pop(shop["o11"].number) == "JAPAN10" and set(codes.values()) == {""}
    o11_line = next(r for r in lines if r["order"] == shop["o11"].number)
    assert (o11_line["gross_sales"], o11_line["discounts"], o11_line["net_revenue"]) == (
        "20.00",
        "2.00",
        "18.00",
    )


def test_the_dashboard_shows_the_books_in_pinned_queries(shop, client, settings):
    settings.ROAMIFY_LOW_BALANCE_CENTS = 5000
    user = get_user_model().objects.create_superuser("owner@example.com", "owner@example.com", "pw")
    sign_in_staff(client, user)
    url = reverse("admin:index")
    with at(NOW), mock.patch("core.roamify_client.RoamifyClient.balance", return_value=Money(4200, "USD")):
        with CaptureQueriesContext(connection) as queries:
            html = client.get(url).content.decode()
        # Pinned: session, user, the user's TOTP; the books (lines, refunds, payments, ledger,
        # claims), destinations, days, rejected claims, the orders needing action, their counts and
        # the money held on orders never paid in full; the admin's app list, the pace of cost the
        # balance is measured against (asked with the balance, once a minute), the prices waiting
        # for review and the low-balance banner; sales by source, by campaign and by discount code
        # (one query for every breakdown and range: `books.sales_by`). The store credit ledger is one
        # more of the books' queries; the money held on orders never paid in full is read with the
        # books' payments, so the count stays.
        assert len(queries) == 19, [q["sql"][:120] for q in queries]
        custom = client.get(url, {"start": str(TODAY - dt.timedelta(days=6)), "end": str(TODAY)})
        bad = client.get(url, {"start": "2026-13-01", "end": str(TODAY)}).content.decode()
        swapped = client.get(url, {"start": str(TODAY), "end": str(TODAY - dt.timedelta(days=2))})
    assert 'data-figure="week-net">$77.94<' in html and 'data-figure="week-discounts">$2.00<' in html
    assert 'data-figure="week-margin">$20.72 <span class="quiet">(26.6%)' in html
    assert 'data-figure="today-refunds">$13.00<' in html
    assert 'data-figure="week-liability">$37.01<' in html
    assert 'data-figure="week-breakage">$20.00<' in html
    assert 'data-figure="week-giftcards-sold">$100.00<' in html
    assert 'data-figure="month-recovered">$6.86<' in html and "eSIM was installed" in html
    assert "?status__exact=requires_action" in html
    # Store credit beside gift cards; sales by discount code (list price, orders, margin after it).
    assert "Sales by discount code" in html
    for figure, shown in (
        ("week-credit-spent", "$5.00<"),
        ("week-credit-rewards", "$5.00<"),
        ("week-credit-adjusted", "$3.00<"),
        ("week-credit-refunded", "$2.00<"),
        ("week-credit-liability", "$2.00<"),
        ("week-credit-breakage", "$3.00<"),
        ("today-credit-breakage", "$0.00<"),
        ("code:JAPAN10:week-orders", "1<"),
        ("code:JAPAN10:week-sales", "$20.00<"),
        ("code:JAPAN10:week-margin", '$6.00 <span class="quiet">(33.3%)'),
        ("code:(no code):week-orders", "10<"),
        ("code:(no code):week-sales", "$82.93<"),
    ):
        assert f'data-figure="{figure}">{shown}' in html, figure
    page = custom.content.decode()
    assert 'data-figure="custom-margin">$20.72' in page and 'data-figure="custom-gross">$102.93<' in page
    assert "Enter the first day as a date, like 2026-11-01." in bad and 'data-figure="custom-' not in bad
    assert "The last day comes before the first" in swapped.content.decode()


def test_the_order_list_and_page_show_the_books_margin(shop, client):
    user = get_user_model().objects.create_superuser("owner@example.com", "owner@example.com", "pw")
    sign_in_staff(client, user)
    with at(NOW):
        listing = client.get(reverse("admin:checkout_order_changelist"), {"view": "all"}).content.decode()
        page = client.get(reverse("admin:checkout_order_change", args=[shop["o7"].pk])).content.decode()
        card_order = client.get(
            reverse("admin:checkout_order_change", args=[shop["o10"].pk])
        ).content.decode()
        discounted = client.get(
            reverse("admin:checkout_order_change", args=[shop["o11"].pk])
        ).content.decode()
        by_credit = client.get(reverse("admin:checkout_order_change", args=[shop["o12"].pk])).content.decode()
    assert "$2.98 (23%)" in listing  # o7: 15.98 − 3.00 refunded − 10.00 cost
    assert "$6.00 (33%)" in listing  # o11: 20.00 − 2.00 off − 12.00 cost
    assert "Net revenue" in page and "$12.98" in page and "rejected Roamify claim" in page
    assert "Discount</th>" not in page  # no row for an order without a code
    assert "not a sale" in card_order
    # o11: the list price, the discount as its own row, net revenue and margin after it.
    rows = (("eSIMs and top-ups sold", "$20.00"), ("Discount", "-$2.00"), ("Net revenue", "$18.00"))
    for label, shown in (*rows, ("Margin", "$6.00")):
        assert f'<th scope="row">{label}</th><td>{shown}</td>' in discounted, label
    assert "JAPAN10" in discounted
    # o12: paid 5.00 by credit and 7.00 by card, 5.00 refunded (2.00 of it back as credit).
    assert '<th scope="row">Net revenue</th><td>$7.00</td>' in by_credit
    assert "$5.00 of it paid by store credit" in by_credit


# --- Orders in other currencies: the same books, in the base currency at each order's own rate -------

EUR_RATE, JPY_RATE = Decimal("0.9137"), Decimal("150")
# By hand: €21.98 at 0.9137 EUR per USD is $24.0560…, so 2406 cents; €5.00 back on it is its slice of
# those 2406 cents, 500 × 2406 / 2198 = 547.3…, so 547. ¥1,280 at 150 is $8.5333…, so 853 cents.
EUR_BASE, EUR_REFUND_BASE, JPY_BASE = 2406, 547, 853
# JAPAN10 on two eSIMs at €10.00: €2.00 off, sold for €18.00. At 0.9137: €18.00 is $19.7001…, so 1970
# cents; €2.00 is $2.1889…, so 219; the list price €20.00 is $21.8890…, so 2189 = 1970 + 219.
EUR_OFF_BASE, EUR_OFF_DISCOUNT_BASE = 1970, 219


def _abroad(
    shop: Shop,
    when: dt.datetime,
    currency: str,
    rate: Decimal,
    unit: int,
    q: int,
    cost: int,
    base: int,
    *,
    code: DiscountCode | None = None,
    discount: int = 0,
    base_discount: int = 0,
):
    """A delivered eSIM order in `currency`, paid by card: its rows carry base amounts as checkout
    writes them (the order's total converted at its rate; one line and one payment: all of it;
    `discount` off it, in its currency, and `base_discount` in the base currency)."""
    paid = q * unit - discount
    with at(when):
        order = Order.objects.create(
            email="abroad@example.com",
            currency=currency,
            rate_per_base=rate,
            rate_fetched_at=when - dt.timedelta(minutes=30),
            total_cents=paid,
            base_total_cents=base,
            discount_code=code,
            discount_cents=discount,
            base_discount_cents=base_discount,
            status=OrderStatus.COMPLETED,
            paid_at=when,
            completed_at=when + dt.timedelta(seconds=30),
        )
        # The rule checkout uses gives the same (ordering: the total and the discount each converted).
        assert (order.base_cents(paid), order.base_cents(discount)) == (base, base_discount)
        line = OrderLine.objects.create(
            order=order,
            kind=LineKind.ESIM,
            package=shop.japan,
            description="esim",
            quantity=q,
            unit_price_cents=unit,
            total_cents=paid,
            base_total_cents=base,
            discount_cents=discount,
            base_discount_cents=base_discount,
            wholesale_cents=cost,
            fulfilled_at=when + dt.timedelta(seconds=20),
        )
        line.esims.set([shop.esim() for _ in range(q)])
        payment = Payment.objects.create(
            order=order,
            provider="test-instant",
            status=Payment.Status.CAPTURED,
            amount_cents=paid,
            base_amount_cents=base,
            currency=currency,
            captured_at=when,
        )
    return order, payment


@pytest.fixture
def shop_abroad(shop):
    s = Shop()
    s.esims = 1000  # eSIM ids of their own, after the first shop's
    # Day -2: two eSIMs at €10.99 (cost $6.86 each), €5.00 of it refunded an hour later; one eSIM at
    # ¥1,280 (cost $6.00), refunded in full (¥1,280) the same day.
    eur, eur_pay = _abroad(s, day(2), "EUR", EUR_RATE, 1099, 2, 686, EUR_BASE)
    jpy, jpy_pay = _abroad(s, day(2, 30), "JPY", JPY_RATE, 1280, 1, 600, JPY_BASE)
    s.refund(eur_pay, 500, day(2, 60))
    s.refund(jpy_pay, 1280, day(2, 90))
    # Two eSIMs at €10.00 (cost $6.00 each) with JAPAN10: €2.00 off, €18.00 paid by card.
    japan10 = DiscountCode.objects.get(code="JAPAN10")
    eur_off, _ = _abroad(
        s,
        day(2, 150),
        "EUR",
        EUR_RATE,
        1000,
        2,
        600,
        EUR_OFF_BASE,
        code=japan10,
        discount=200,
        base_discount=EUR_OFF_DISCOUNT_BASE,
    )
    return {**shop, "eur": eur, "jpy": jpy, "eur_off": eur_off}


def test_orders_in_euros_and_yen_count_in_the_base_currency_and_the_books_balance(shop_abroad):
    with at(NOW):
        whole = books.books_between(*WHOLE)
        held = books.undelivered_cents(WHOLE[1])
    assert EUR_OFF_BASE + EUR_OFF_DISCOUNT_BASE == 2189  # the list price €20.00 at the rate, exactly
    assert whole.gross_sales_cents == GROSS + EUR_BASE + JPY_BASE + 2189
    assert whole.discounts_cents == DISCOUNTS + EUR_OFF_DISCOUNT_BASE
    assert whole.refunds_cents == REFUNDS + EUR_REFUND_BASE + JPY_BASE
    assert whole.net_revenue_cents == NET + EUR_BASE - EUR_REFUND_BASE + EUR_OFF_BASE
    assert whole.delivered_cost_cents == DELIVERED_COST + 2 * 686 + 600 + 2 * 600
    assert whole.orders == 14 and whole.sale_orders == 11
    # The refunds went back in each order's own currency and units, and their base amounts are slices.
    jpy_refund = PaymentRefund.objects.get(payment__order=shop_abroad["jpy"])
    assert (jpy_refund.amount_cents, jpy_refund.payment.currency, jpy_refund.base_amount_cents) == (
        1280,
        "JPY",
        JPY_BASE,
    )
    by_card = list(Payment.objects.captured().exclude(provider__in=CARD_PAYMENTS))
    cash_in = sum(p.base_amount_cents for p in by_card)
    cash_out = sum(p.base_refunded_cents for p in by_card)
    assert (cash_in, cash_out) == (
        CASH_IN + EUR_BASE + JPY_BASE + EUR_OFF_BASE,
        CASH_OUT + EUR_REFUND_BASE + JPY_BASE,
    )
    assert held == 499
    assert cash_in - cash_out == (
        whole.net_revenue_cents
        + whole.liability_change_cents
        + whole.breakage_cents
        - whole.giftcards_unpaid_cents
        + whole.credit_liability_change_cents
        + whole.credit_breakage_cents
        - whole.credit_granted_cents
    )
    eur_off = books.order_money(shop_abroad["eur_off"])
    assert (eur_off.total_cents, eur_off.gross_sales_cents, eur_off.discounts_cents) == (
        EUR_OFF_BASE,
        2189,
        EUR_OFF_DISCOUNT_BASE,
    )
    assert eur_off.net_revenue_cents == EUR_OFF_BASE and eur_off.margin_cents == EUR_OFF_BASE - 1200
    eur = books.order_money(shop_abroad["eur"])
    assert (eur.currency, eur.total_cents, eur.gross_sales_cents, eur.refunds_cents) == (
        "USD",
        EUR_BASE,
        EUR_BASE,
        EUR_REFUND_BASE,
    )
    assert eur.margin_cents == EUR_BASE - EUR_REFUND_BASE - 2 * 686


def test_the_admin_shows_an_order_abroad_charged_and_in_base_with_its_rate(shop_abroad, client):
    user = get_user_model().objects.create_superuser("owner@example.com", "owner@example.com", "pw")
    sign_in_staff(client, user)
    with at(NOW):
        page = client.get(
            reverse("admin:checkout_order_change", args=[shop_abroad["jpy"].pk])
        ).content.decode()
        rows = _csv(client, "orders", "?view=all")
    assert "¥1,280 (= $8.53 at 1 USD = 150.0000 JPY, rate of " in page
    assert "$8.53" in page  # the books' figures, in the base currency
    jpy_row = next(r for r in rows if r["order"] == shop_abroad["jpy"].number)
    assert (jpy_row["currency"], jpy_row["order_total"], jpy_row["base_total"]) == ("JPY", "1280", "8.53")
    assert jpy_row["gross_sales"] == "8.53" and jpy_row["refunds"] == "8.53"
