"""World (state.py, one resource a module) directly: state machines, money, units, webhooks, no HTTP."""

from __future__ import annotations

import copy

import pytest

from sandboxes.roamify.config import Config
from sandboxes.roamify.errors import PENDING_MESSAGE, ApiError, ControlError
from sandboxes.roamify.esims import luhn_ok
from sandboxes.roamify.state import World

PID = "esim-japan-7days-1gb-all"


@pytest.fixture
def world() -> World:
    return World(Config(seed=1))


def other_japan(w: World, *, min_price: float = 0) -> dict:
    """Another plain limited Japan package (the catalog is a random subset)."""
    g = w.catalog.group("japan-esims")
    assert g is not None
    return next(
        p
        for p in g.packages
        if p["packageId"] != PID
        and not p["isUnlimited"]
        and p["price"] > min_price
        and p["withUsageCheck"]
        and not p["requirements"]["travelDate"]
    )


def snapshot(w: World) -> tuple:
    return (w.balance_cents, len(w.orders), len(w.esims), w.ledger(), w.rng.getstate())


def test_order_apply_ready(world: World) -> None:
    order = world.create_order("order", [(PID, 2)], "ref-1")
    assert order.status == "COMPLETED" and len(order.items) == 2
    assert all(world.esims[i.esim_id].status == "NEW" for i in order.items)
    price = world.catalog.package(PID)["price"]  # type: ignore[index]
    assert world.balance_cents == 100_000_00 - 2 * round(price * 100)
    esims = world.apply(None, "ref-1", None)
    assert [e.status for e in esims] == ["READY", "READY"]
    e = esims[0]
    assert len(e.iccid) == 19 and e.iccid.startswith("8901") and luhn_ok(e.iccid)
    j = world.esim_json(e)
    assert j["esim"]["lpaCode"] == f"LPA:1$smdp.sandbox.roamify.invalid${e.activation_code}"
    assert j["esim"]["iosQuickInstall"].endswith("carddata=" + j["esim"]["lpaCode"])
    assert j["esim"]["qrCodeUrl"] == f"http://127.0.0.1:8100/qr/{e.id}.png"
    # idempotent
    again = world.apply(e.id, None, None)[0]
    assert again.iccid == e.iccid


@pytest.mark.parametrize(
    ("call", "status"),
    [
        (lambda w: w.create_order("order", [("nope", 1)], None), 500),
        (lambda w: w.create_order("order", [(PID, 1), ("nope", 1)], None), 500),
        (lambda w: w.create_order("instant", [(PID, 10**7)], None), 409),
        (lambda w: w.create_topup("8901000000000000000", PID, None), 404),
        (lambda w: w.apply("no-such-esim", None, None), 404),
    ],
)
def test_rejected_calls_change_nothing(world: World, call, status: int) -> None:
    before = copy.deepcopy(snapshot(world))
    with pytest.raises(ApiError) as exc:
        call(world)
    assert exc.value.status == status
    assert snapshot(world) == before


def test_insufficient_balance_emits_webhook(world: World) -> None:
    world.set_balance(1)
    world.sent.clear()
    with pytest.raises(ApiError) as exc:
        world.create_order("order", [(PID, 1)], None)
    assert exc.value.status == 409
    assert exc.value.body == {
        "status": "failed",
        "message": "Insufficient partner balance, please recharge it first before placing order",
    }
    assert [(s["event_category"], s["event_type"]) for s in world.sent] == [
        ("partner", "insufficient_balance")
    ]


def test_low_balance_webhook_on_crossing(world: World) -> None:
    world.set_balance(105)
    world.sent.clear()
    world.create_order("order", [(other_japan(world, min_price=5)["packageId"], 1)], None)
    assert ("partner", "low_balance") in [(s["event_category"], s["event_type"]) for s in world.sent]


def test_pending_apply_then_ready_by_clock(world: World) -> None:
    world.knobs.apply_pending_seconds = 30
    e = world.esims[world.create_order("order", [(PID, 1)], None).items[0].esim_id]
    with pytest.raises(ApiError) as exc:
        world.apply(e.id, None, None)
    assert exc.value.status == 500 and exc.value.body["message"] == PENDING_MESSAGE
    with pytest.raises(ApiError):
        world.apply(e.id, None, None)
    world.advance(31)
    assert e.status == "READY"
    assert world.apply(e.id, None, None)[0] is e


def test_instant_slow_path(world: World) -> None:
    world.knobs.instant_pending_seconds = 20
    o = world.create_order("instant", [(PID, 1)], "slow")
    assert o.status == "PENDING"
    assert world.order_json(o, with_esims=True)["esims"][0]["status"] == "NEW"
    world.advance(21)
    assert o.status == "COMPLETED"
    assert world.esims[o.items[0].esim_id].status == "READY"


def test_travel_date(world: World) -> None:
    pid = world.catalog.special["travelDate"][0]
    with pytest.raises(ApiError) as exc:
        world.create_order("instant", [(pid, 1)], None)
    assert exc.value.body == {"error": '"startDate" is required'}
    e = world.esims[world.create_order("order", [(pid, 1)], None).items[0].esim_id]
    with pytest.raises(ApiError):
        world.apply(e.id, None, None)
    with pytest.raises(ApiError):
        world.apply(e.id, None, "2000-01-01")
    assert world.apply(e.id, None, world.today())[0].status == "READY"
    assert world.create_order("instant", [(pid, 1)], None, world.today()).status == "COMPLETED"


def test_lifecycle_usage_and_webhooks(world: World) -> None:
    e = world.create_order("instant", [(PID, 1)], "life").items[0].esim_id
    esim = world.esims[e]
    world.esim_action(e, "install", {})
    world.esim_action(esim.iccid, "activate", {})
    assert esim.started_at and esim.expired_at == esim.started_at + 7 * 86400
    world.esim_action(e, "consume", {"mb": 300})
    usage = world.usage_json(esim, details=True)
    assert usage["allowedData"] == 1024 and usage["remainingData"] == 724
    assert usage["dataUsages"] == [{"date": world.today(), "usage": 300 * 1024, "location": "Japan"}]
    world.knobs.usage_unit = "KB"
    usage = world.usage_json(esim, details=False)
    assert usage["allowedData"] == 1024 * 1024 and usage["remainingData"] == 724 * 1024
    world.esim_action(e, "consume", {"mb": 2000})  # capped at the allowance
    assert esim.status == "EXPIRED" and esim.used_kb == esim.allowed_kb
    kinds = [(s["event_type"], s["data"]["status"]) for s in world.sent]
    assert kinds[:2] == [("status", "INSTALLED"), ("status", "ACTIVATED")]
    assert [k for k in kinds if k[0] == "usage"] == [("usage", "INSTALLED")] * 5  # 25..100 %
    assert kinds[-1] == ("status", "EXPIRED")
    # top-up revives it and extends validity
    top = other_japan(world)
    order = world.create_topup(esim.iccid, top["packageId"], "top")
    assert order.kind == "topup" and esim.status == "INSTALLED"
    assert esim.allowed_mb == 1024 + top["dataAmount"] and len(esim.history) == 2
    events = [ev["status"] for ev in world.events_json(esim)["events"]]
    assert events == ["NEW", "DOWNLOADED", "INSTALLED", "ACTIVATED"]


def test_expiry_by_clock_and_control_errors(world: World) -> None:
    e = world.create_order("instant", [(PID, 1)], None).items[0].esim_id
    world.esim_action(e, "activate", {})
    world.advance(7 * 86400 + 1)
    assert world.esims[e].status == "EXPIRED"
    with pytest.raises(ControlError):
        world.esim_action(e, "install", {})
    world.esim_action(e, "revoke", {})
    assert world.esims[e].status == "REVOKED"
    assert world.topup_packages(world.esims[e]) == []


def test_unique_reference_ids(world: World) -> None:
    world.create_order("order", [(PID, 1)], "dup")
    world.create_order("order", [(PID, 1)], "dup")  # accepted by default
    assert world.get_order(None, "dup") is world.orders[-1]  # newest wins
    world.knobs.unique_reference_ids = True
    with pytest.raises(ApiError) as exc:
        world.create_order("order", [(PID, 1)], "dup")
    assert exc.value.status == 409


def test_no_topup_and_usage_check(world: World) -> None:
    special = world.catalog.special
    e = world.create_order("instant", [(special["noTopUp"][0], 1)], None).items[0].esim_id
    esim = world.esims[e]
    assert world.esim_json(esim)["withTopUp"] is False
    assert world.topup_packages(esim) == []
    pid = next(p for p in special["noUsageCheck"] if p not in special["travelDate"])
    e2 = world.esims[world.create_order("instant", [(pid, 1)], None).items[0].esim_id]
    with pytest.raises(ApiError) as exc:
        world.usage_json(e2, details=False)
    assert exc.value.status == 400
    assert world.esim_json(e2)["notes"]


def test_ids_follow_the_seed() -> None:
    a, b, c = World(Config(seed=1)), World(Config(seed=1)), World(Config(seed=2))
    ids = [w.create_order("instant", [(PID, 1)], None).items[0].esim_id for w in (a, b, c)]
    assert ids[0] == ids[1] != ids[2]
    assert next(iter(a.esims.values())).iccid == next(iter(b.esims.values())).iccid


def test_cli_defaults_and_flags() -> None:
    from sandboxes.roamify.__main__ import parse_args

    c = parse_args([])
    assert (c.port, c.host, c.seed, c.token, c.latency, c.page_mode, c.usage_unit) == (
        8100,
        "127.0.0.1",
        1,
        "sandbox-roamify-token",
        "zero",
        "group",
        "MB",
    )
    assert (c.balance, c.unknown_package_status, c.unique_reference_ids) == (100000.0, 500, False)
    c = parse_args(
        [
            "--page-mode",
            "package",
            "--unique-reference-ids",
            "--usage-unit",
            "KB",
            "--unknown-package-status",
            "400",
            "--allow-bare-token",
            "--balance",
            "5",
        ]
    )
    assert (
        c.page_mode,
        c.unique_reference_ids,
        c.usage_unit,
        c.unknown_package_status,
        c.allow_bare_token,
        c.balance,
    ) == ("package", True, "KB", 400, True, 5.0)


def test_realistic_latency_profile() -> None:
    import random

    from sandboxes.roamify.app import realistic_delay

    rng = random.Random(1)
    instant = [realistic_delay(rng, "POST", "/api/esim/order/instant") for _ in range(2000)]
    assert min(instant) >= 5 and 0 < sum(d > 60 for d in instant) < 100
    apply = [realistic_delay(rng, "POST", "/api/esim/apply") for _ in range(500)]
    assert min(apply) >= 5 and max(apply) <= 90
    reads = [realistic_delay(rng, "GET", "/api/esim/packages") for _ in range(100)]
    assert min(reads) >= 0.2 and max(reads) <= 0.8
    orders = [realistic_delay(rng, "POST", "/api/esim/order") for _ in range(100)]
    assert min(orders) >= 1 and max(orders) <= 5
