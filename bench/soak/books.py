"""The books, once the shoppers are done and the faults are off: what the shop, the sandboxes and the
shoppers recorded must agree. Each check is a dict with "ok" and what it found; report() prints them."""

from __future__ import annotations

import time
from collections import Counter

from bench._common import percentile

from .shoppers import Stats

PAID_ORDERS_COMPLETED = "every paid order completed"
SOMETHING_SOLD = "the shoppers bought something"
NO_DUPLICATE_UPSTREAM = "no duplicate upstream order or top-up"
ONE_ORDER_PER_PAYMENT = "every captured payment belongs to exactly one order"
SHOWN = 20  # examples kept per check


def drain(timeout: float) -> dict:
    """Wait until nothing is left in flight: orders paid or fulfilling, gift cards not yet sent, and
    the emails of completed orders (a send a killed worker took with it is redone once its claim,
    EMAIL_CLAIM_SECONDS, runs out: check_emails_sent fails only if it never is)."""
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
            "order_emails_unsent": len(check_emails_sent()["emails_unsent"]),
        }
        if not any(left.values()):
            break
        time.sleep(2)
    return left


def check_books(roamify, stripe, stats: Stats) -> dict[str, dict]:
    paid_sessions = [s for s in stripe.control.sessions() if s.get("payment_status") == "paid"]
    return {
        PAID_ORDERS_COMPLETED: check_paid_orders_completed(paid_sessions),
        SOMETHING_SOLD: check_something_sold(),
        NO_DUPLICATE_UPSTREAM: check_upstream_ledger(roamify),
        "every completed order's emails were sent": check_emails_sent(),
        # No shopper was left with an order nobody can pay (the Pay button tried four times).
        "every order placed could be paid": {"ok": not stats.unpayable, "unpayable": stats.unpayable[:SHOWN]},
        "gift card balance equals its ledger": check_gift_card_ledgers(),
        ONE_ORDER_PER_PAYMENT: check_payments(paid_sessions),
        "no page answered 500": check_no_5xx(stripe, stats),
    }


def check_paid_orders_completed(paid_sessions: list[dict]) -> dict:
    """Every paid order completed: no fault of the soak is meant to end otherwise (faults.py), so an
    order that needs action, or is still in flight after the drain, is a failure, shown with its
    reason and the end of its timeline. And every session Stripe took money for paid its order."""
    from checkout.models import Order

    paid = Order.objects.filter(paid_at__isnull=False)
    not_completed = paid.exclude(status="completed").order_by("paid_at")
    by_number = {
        o.number: o
        for o in Order.objects.filter(number__in=[s.get("client_reference_id") for s in paid_sessions])
    }
    unpaid = [
        s["id"]
        for s in paid_sessions
        if not (o := by_number.get(s.get("client_reference_id"))) or o.paid_at is None
    ]
    return {
        "ok": not not_completed.exists() and not unpaid,
        "paid_orders": paid.count(),
        "completed": paid.filter(status="completed").count(),
        "by_status": dict(Counter(not_completed.values_list("status", flat=True))),
        "not_completed": [order_story(o) for o in not_completed[:SHOWN]],
        "stripe_paid_sessions": len(paid_sessions),
        "stripe_paid_without_paid_order": unpaid[:SHOWN],
    }


def order_story(order, last: int = 6) -> dict:
    """An order that did not complete, as staff would first look at it."""
    events = list(order.events.order_by("-created_at", "-id")[:last])
    return {
        "number": order.number,
        "status": order.status,
        "reason": order.action_reason,
        "last_events": [
            f"{e.created_at:%H:%M:%S} {e.kind}"
            + (f" {e.from_status}->{e.to_status}" if e.to_status else "")
            + f": {e.message}"
            for e in reversed(events)
        ],
    }


def check_something_sold() -> dict:
    """A soak that sold nothing proves nothing."""
    from checkout.models import Order

    completed = Order.objects.filter(status="completed").count()
    return {"ok": completed > 0, "completed_orders": completed}


def check_upstream_ledger(roamify) -> dict:
    """One upstream order per shop order, one top-up per top-up line, and one for every one completed."""
    from checkout.models import Order, OrderLine

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
    return {
        "ok": not duplicates and not missing,
        "upstream_orders": sum(1 for o in ledger if o["kind"] != "topup"),
        "upstream_topups": sum(1 for o in ledger if o["kind"] == "topup"),
        "duplicates": duplicates,
        "completed_without_upstream_order": missing[:SHOWN],
    }


def check_emails_sent() -> dict:
    """The customer heard of it: the eSIM email and the receipt of every completed order, the code of
    every gift card bought (a killed worker must not take an email with it)."""
    from checkout.models import Order
    from giftcards.models import GiftCard

    completed = Order.objects.filter(status="completed")
    unsent = list(
        completed.filter(lines__kind="esim", esim_email_sent_at__isnull=True)
        .values_list("number", flat=True)
        .distinct()
    )
    unsent += list(completed.filter(receipt_sent_at__isnull=True).values_list("number", flat=True))
    cards_unsent = list(
        GiftCard.objects.filter(order_line__isnull=False, sent_at__isnull=True).values_list("pk", flat=True)
    )
    return {
        "ok": not unsent and not cards_unsent,
        "emails_unsent": unsent[:SHOWN],
        "gift_codes_unsent": cards_unsent[:SHOWN],
    }


def check_gift_card_ledgers() -> dict:
    from giftcards.ledger import ledger_sum
    from giftcards.models import GiftCard

    cards = list(GiftCard.objects.all())
    off = [(c.pk, c.balance_cents, ledger_sum(c)) for c in cards if c.balance_cents != ledger_sum(c)]
    return {"ok": not off, "cards": len(cards), "mismatches": off[:SHOWN]}


def check_payments(paid_sessions: list[dict]) -> dict:
    """Every captured payment: one order, one provider reference, an order that took it as paid."""
    from django.db.models import Count, Sum

    from payments.models import Payment

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
    stripe_not_one = [s["id"] for s in paid_sessions if per_session.get(s["id"], 0) != 1]
    return {
        "ok": not reused and not orphans and not stripe_not_one,
        "captured": captured.count(),
        "captured_cents": captured.aggregate(s=Sum("amount_cents"))["s"] or 0,
        "reference_used_twice": reused[:SHOWN],
        "captured_on_unpaid_order": orphans[:SHOWN],
        "paid_session_without_exactly_one_payment": stripe_not_one[:SHOWN],
    }


def check_no_5xx(stripe, stats: Stats) -> dict:
    """No page answered 5xx, and no webhook delivery either (a duplicate must not crash it)."""
    webhook_5xx = [
        f"{e['type']} {e['id']} -> {a['status']}"
        for e in stripe.control.events()
        for d in e["deliveries"]
        for a in d["attempts"]
        if a["status"] and a["status"] >= 500
    ]
    return {
        "ok": not stats.server_errors and not webhook_5xx,
        "count": len(stats.server_errors),
        "examples": stats.server_errors[:SHOWN],
        "webhook_deliveries_5xx": webhook_5xx[:SHOWN],
    }


# -- the figures -------------------------------------------------------------------------


def metrics(stats: Stats, load_seconds: float, left_after_drain: dict) -> dict:
    """What the shoppers did and what became of their orders."""
    from checkout.models import Order

    numbers = list(stats.orders)
    orders = Order.objects.filter(number__in=numbers)
    completed = orders.filter(status="completed").count()
    return {
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
        "shopper_seconds": {k: round(v, 1) for k, v in stats.seconds.most_common()},
        "pages": {
            kind: {"n": len(ms), "p50_ms": round(percentile(ms, 50)), "p99_ms": round(percentile(ms, 99))}
            for kind, ms in sorted(stats.page_ms_by_kind.items(), key=lambda kv: -sum(kv[1]))
        },
        "problems": stats.problems[:50],
        "left_after_drain": left_after_drain,
    }


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


def totals(checks: dict[str, dict], stats: Stats) -> dict[str, int]:
    """The four numbers that must be 0: paid orders that did not complete (stuck or needing action),
    money without a paid order or a completed order without its upstream order, references used
    twice, 5xx answers."""
    paid, upstream = checks[PAID_ORDERS_COMPLETED], checks[NO_DUPLICATE_UPSTREAM]
    return {
        "not_completed": paid["paid_orders"] - paid["completed"],
        "lost": len(paid["stripe_paid_without_paid_order"])
        + len(upstream["completed_without_upstream_order"]),
        "duplicates": len(upstream["duplicates"])
        + len(checks[ONE_ORDER_PER_PAYMENT]["reference_used_twice"]),
        "server_errors": len(stats.server_errors),
    }


# -- the report --------------------------------------------------------------------------


def report(result: dict) -> None:
    cfg, m = result["config"], result["metrics"]
    print()
    print(
        f"Soak: {cfg['shoppers']} shoppers for {cfg['minutes']:.1f} min, "
        f"pauses of {'-'.join(f'{t:g}' for t in cfg.get('think_s', [0]))} s before each page, "
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
    spent = m["shopper_seconds"]
    total, placed = sum(spent.values()) or 1, m["orders_placed"] or 1
    print(
        "  where the shoppers' time went, per order placed: "
        + ", ".join(f"{k} {v / placed:.1f} s ({v / total:.0%})" for k, v in spent.items())
    )
    print("  shop requests by page, most time first (count, p50, p99 ms):")
    for kind, row in list(m["pages"].items())[:12]:
        print(f"    {kind:<40} {row['n']:>6} {row['p50_ms']:>6} {row['p99_ms']:>6}")
    print(f"  faults injected: {result['faults']}")
    if m["problems"]:
        print(f"  turned down or slow ({len(m['problems'])}): {m['problems'][:5]}")
    print("  checks:")
    for name, check in result["checks"].items():
        print(
            f"    [{'ok' if check['ok'] else 'FAIL'}] {name}: "
            + ", ".join(
                f"{k}={v}"
                for k, v in check.items()
                if k not in ("ok", "not_completed") and v not in ([], {}, 0)
            )
        )
    for order in result["checks"][PAID_ORDERS_COMPLETED]["not_completed"]:
        print(f"      {order['number']} is {order['status']}: {order['reason'] or '(no reason given)'}")
        for event in order["last_events"]:
            print(f"        {event}")
    print(
        f"\n  not completed {result['not_completed']}, lost {result['lost']}, "
        f"duplicate {result['duplicates']}, 500s {result['server_errors']}"
    )
