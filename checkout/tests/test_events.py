"""The timeline's kinds are one vocabulary (checkout/events.py): every `log_event` in the shop names
its kind from the enum, the model field refuses others, and old values still read."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError

from catalog.tests.factories import PackageFactory
from checkout.events import OrderEventKind
from checkout.models import OrderEvent, UpstreamRefund
from checkout.services import log_event
from checkout.services.upstream_refunds import UPSTREAM_STATUS

from .helpers import paid_order

ROOT = Path(settings.BASE_DIR)
SHOP_APPS = ("accounts", "catalog", "checkout", "core", "esims", "giftcards", "payments", "storefront")


def log_event_calls() -> list[tuple[str, ast.Call, ast.expr]]:
    """Every call of `log_event` or `new_event` (an entry written later, in bulk) in the shop's code
    (tests and migrations aside), with the expression its kind comes from (a variable's assignment
    in the enclosing function)."""
    found = []
    for app in SHOP_APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "tests" in path.parts or "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(), str(path))
            functions = [f for f in ast.walk(tree) if isinstance(f, ast.FunctionDef)]
            for call in ast.walk(tree):
                name = getattr(getattr(call, "func", None), "id", None) or getattr(
                    getattr(call, "func", None), "attr", None
                )
                if not isinstance(call, ast.Call) or name not in ("log_event", "new_event"):
                    continue
                kind = (
                    call.args[1]
                    if len(call.args) > 1
                    else next(k.value for k in call.keywords if k.arg == "kind")
                )
                if isinstance(kind, ast.Name):
                    inner = min(
                        (f for f in functions if f.lineno <= call.lineno <= f.end_lineno),
                        key=lambda f: f.end_lineno - f.lineno,
                    )
                    if inner.name == "log_event":  # passes its own argument on; its callers are scanned
                        continue
                    kind = next(
                        a.value
                        for a in ast.walk(inner)
                        if isinstance(a, ast.Assign)
                        and any(getattr(t, "id", None) == kind.id for t in a.targets)
                    )
                found.append((f"{path.relative_to(ROOT)}:{call.lineno}", call, kind))
    return found


def kind_names(node: ast.expr) -> list[str | None]:
    """What each value an expression may take names: `OrderEventKind.NOTE` -> "NOTE", each side of an
    `a if c else b`, a call `OrderEventKind.upstream_refund_became(...)`; None for anything else."""
    if isinstance(node, ast.IfExp):
        return kind_names(node.body) + kind_names(node.orelse)
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Attribute) and getattr(node.value, "id", None) == "OrderEventKind":
        return [node.attr]
    return [None]


def test_every_log_event_names_its_kind_from_the_enum():
    calls = log_event_calls()
    assert len(calls) >= 19, calls  # the scan finds them (19 calls when the enum came in)
    members = set(OrderEventKind.__members__) | {"upstream_refund_became"}
    wrong = [
        f"{where}: {ast.unparse(kind)}" for where, _, kind in calls if not set(kind_names(kind)) <= members
    ]
    assert not wrong, "log_event kinds not from OrderEventKind:\n" + "\n".join(wrong)


@pytest.mark.django_db
def test_the_field_accepts_the_kinds_and_refuses_others(roamify):
    order = paid_order(PackageFactory())
    assert {e.kind for e in order.events.all()} <= set(OrderEventKind.values)
    assert OrderEvent._meta.get_field("kind").choices == OrderEventKind.choices
    event = log_event(order, OrderEventKind.NOTE, "hello")
    event.full_clean()
    assert OrderEvent.objects.get(pk=event.pk).kind == "note"  # stored as before the enum
    event.kind = "made_up"
    with pytest.raises(ValidationError):
        event.full_clean()
    with pytest.raises(ValueError):
        log_event(order, "made_up")
    assert not order.events.filter(kind="made_up").exists()


def test_every_status_roamify_gives_a_claim_has_a_kind():
    for status in UPSTREAM_STATUS.values():
        assert OrderEventKind.upstream_refund_became(status).value == f"upstream_refund_{status}"
    with pytest.raises(ValueError):
        OrderEventKind.upstream_refund_became(UpstreamRefund.Status.REQUESTED)  # filed by us, not moved
