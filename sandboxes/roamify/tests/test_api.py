"""The sandbox over HTTP, as a client sees it (one process for the session)."""

from __future__ import annotations

import httpx
import pytest

from sandboxes.roamify.testing import RoamifySandbox, SandboxControl

PID = "esim-japan-7days-1gb-all"
UNKNOWN_ERROR = {"message": "Unknown error", "status": "failed"}


def order(
    api: httpx.Client, path: str = "/api/esim/order", qty: int = 1, ref: str | None = None, pid: str = PID
) -> httpx.Response:
    body: dict = {"items": [{"packageId": pid, "quantity": qty}]}
    if ref is not None:
        body["referenceId"] = ref
    return api.post(path, json=body)


def money_state(api: httpx.Client, control: SandboxControl) -> tuple:
    return api.get("/api/balance").json()["data"]["balance"], control.ledger()


# -- auth ---------------------------------------------------------------------------------


def test_auth(sandbox: RoamifySandbox, control: SandboxControl, api: httpx.Client) -> None:
    base = sandbox.base_url
    assert httpx.get(base + "/api/health").json() == {"status": "success", "data": {"status": "ok"}}
    unauthorised = {"status": "failed", "message": "Unauthorized"}
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": sandbox.token}):
        r = httpx.get(base + "/api/balance", headers=headers)
        assert (r.status_code, r.json()) == (401, unauthorised)
    control.set_knobs(allow_bare_token=True)
    assert httpx.get(base + "/api/balance", headers={"Authorization": sandbox.token}).status_code == 200
    control.set_token("rotated")
    assert api.get("/api/balance").status_code == 401
    control.reset()
    assert api.get("/api/balance").status_code == 200


# -- error shapes -----------------------------------------------------------------------------


def test_error_shapes(api: httpx.Client, control: SandboxControl) -> None:
    r = api.post("/api/esim/order", json={"packageId": PID, "quantity": 1})
    assert r.status_code == 400 and r.content == b'{"error":"\\"items\\" is required"}'
    assert len(r.content) == 33
    # express.json() ignores bodies that are not sent as JSON
    r = api.post("/api/esim/order", content=b'{"items": []}', headers={"Content-Type": "text/plain"})
    assert r.json() == {"error": '"items" is required'}
    r = api.post("/api/esim/order", json={"items": [{"packageId": PID, "quantity": 0}]})
    assert r.json() == {"error": '"items[0].quantity" must be greater than or equal to 1'}
    r = api.post("/api/esim/order", json={"items": [{"packageId": PID, "quantity": "x"}]})
    assert r.json() == {"error": '"items[0].quantity" must be a number'}
    r = order(api, pid="esim-nowhere-7days-1gb-all")
    assert (r.status_code, r.json()) == (500, UNKNOWN_ERROR)
    control.set_knobs(unknown_package_status=400)
    assert order(api, pid="esim-nowhere-7days-1gb-all").status_code == 400
    r = api.get("/api/esim/order", params={"referenceId": "nope"})
    assert r.status_code == 404
    assert r.json() == {
        "status": "failed",
        "message": "Order not found, please make sure your have provided the correct orderId or referenceId",
    }
    r = api.get("/api/esim/order")
    assert r.json() == {"error": '"value" must contain at least one of [orderId, referenceId]'}
    r = api.get("/api/esim", params={"iccid": "1", "esimId": "2"})
    assert r.status_code == 400 and "exclusive peers" in r.json()["error"]
    assert api.get("/api/esim", params={"esimId": "x"}).status_code == 404
    r = api.get("/api/esim/orders", params={"status": "DONE"})
    assert r.json()["error"].startswith('"status" must be one of [PENDING, COMPLETED')
    for params, message in [
        ({"country": "Narnia"}, '"country" must be a supported country name'),
        ({"countryCode": "ZZ"}, '"countryCode" must be a supported country code'),
        ({"geography": "moon"}, '"geography" must be one of [local, regional, global]'),
        ({"days": "seven"}, '"days" must be a number'),
        ({"isUnlimited": "yes"}, '"isUnlimited" must be a boolean'),
        ({"page": "0"}, '"page" must be greater than or equal to 1'),
        ({"pageSize": "1.5"}, '"pageSize" must be an integer'),
    ]:
        r = api.get("/api/esim/packages", params=params)
        assert (r.status_code, r.json()) == (400, {"error": message})
    control.set_balance(1)
    r = order(api)
    assert r.status_code == 409
    assert r.json() == {
        "status": "failed",
        "message": "Insufficient partner balance, please recharge it first before placing order",
    }
    assert api.get("/api/nope").status_code == 404


def test_rejected_calls_change_nothing(api: httpx.Client, control: SandboxControl) -> None:
    order(api, ref="keep")
    before = money_state(api, control)
    assert order(api, pid="esim-nowhere-1days-1gb-all").status_code == 500
    assert (
        api.post(
            "/api/esim/order",
            json={"items": [{"packageId": PID, "quantity": 1}, {"packageId": "bad", "quantity": 1}]},
        ).status_code
        == 500
    )
    assert api.post("/api/esim/order/instant", json={}).status_code == 400
    assert order(api, qty=100_000).status_code == 409
    assert (
        api.post("/api/esim/order/topup", json={"iccid": "8901000000000000000", "packageId": PID}).status_code
        == 404
    )
    control.inject_fault("POST", "/api/esim/order", status=503)
    r = order(api, ref="faulted")
    assert (r.status_code, r.json()) == (503, UNKNOWN_ERROR)
    assert money_state(api, control) == before
    assert len(control.ledger()) == 1


# -- orders and eSIMs --------------------------------------------------------------------------


def test_order_apply_ready(sandbox: RoamifySandbox, api: httpx.Client, control: SandboxControl) -> None:
    r = order(api, qty=2, ref="ord-1")
    assert r.status_code == 200
    data = r.json()["data"]
    assert data["status"] == "COMPLETED" and data["referenceId"] == "ord-1"
    assert data["orderType"] == "api" and data["currency"] == "USD"
    assert len(data["items"]) == 2 and data["items"][0]["type"] == "esim"
    assert data["total"] == round(2 * data["items"][0]["price"], 2)
    esim_id = data["items"][0]["esimId"]
    e = api.get("/api/esim", params={"esimId": esim_id}).json()["data"]
    assert e["status"] == "NEW" and e["iccid"] == "" and e["esim"]["lpaCode"] == ""
    ready = api.post("/api/esim/apply", json={"esimId": esim_id}).json()["data"]
    assert ready["status"] == "READY" and ready["iccid"].startswith("8901")
    assert api.post("/api/esim/apply", json={"esimId": esim_id}).json()["data"] == ready
    batch = api.post("/api/esim/apply", json={"referenceId": "ord-1"}).json()["data"]
    assert [x["status"] for x in batch] == ["READY", "READY"] and batch[0] == ready
    by_iccid = api.get("/api/esim", params={"iccid": ready["iccid"]}).json()["data"]
    assert by_iccid["id"] == esim_id
    png = httpx.get(ready["esim"]["qrCodeUrl"])
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    orders = api.get("/api/esim/orders", params={"referenceId": "ord-1"}).json()["data"]
    assert [o["id"] for o in orders["orders"]] == [data["id"]]
    esims = api.get("/api/esims", params={"status": "READY"}).json()["data"]
    assert len(esims) == 2
    no_ref = order(api).json()["data"]
    assert no_ref["referenceId"] == ""
    assert [x["kind"] for x in control.ledger()] == ["order", "order"]


def test_instant_order(api: httpx.Client, control: SandboxControl) -> None:
    r = order(api, "/api/esim/order/instant", ref="inst-1")
    data = r.json()["data"]
    assert "items" not in data and len(data["esims"]) == 1
    e = data["esims"][0]
    assert e["status"] == "READY" and e["esim"]["lpaCode"].startswith("LPA:1$")
    got = api.get("/api/esim/order", params={"referenceId": "inst-1"}).json()["data"]
    assert got["items"][0]["esimId"] == e["id"]
    special = control.special_packages()
    r = order(api, "/api/esim/order/instant", pid=special["travelDate"][0])
    assert r.json() == {"error": '"startDate" is required'}
    assert control.ledger()[-1]["kind"] == "instant"


def test_pending_apply(api: httpx.Client, control: SandboxControl) -> None:
    control.set_knobs(apply_pending_seconds=60)
    esim_id = order(api).json()["data"]["items"][0]["esimId"]
    r = api.post("/api/esim/apply", json={"esimId": esim_id})
    assert (r.status_code, r.json()) == (
        500,
        {"status": "failed", "message": "eSIM is still pending processing"},
    )
    assert api.get("/api/esim", params={"esimId": esim_id}).json()["data"]["status"] == "NEW"
    control.advance_clock(61)
    assert api.get("/api/esim", params={"esimId": esim_id}).json()["data"]["status"] == "READY"


def test_instant_slow_path(api: httpx.Client, control: SandboxControl) -> None:
    control.set_knobs(instant_pending_seconds=30)
    data = order(api, "/api/esim/order/instant", ref="slow").json()["data"]
    assert data["status"] == "PENDING" and data["esims"][0]["status"] == "NEW"
    control.advance_clock(31)
    got = api.get("/api/esim/order", params={"referenceId": "slow"}).json()["data"]
    assert got["status"] == "COMPLETED"
    esim = api.get("/api/esim", params={"esimId": got["items"][0]["esimId"]}).json()["data"]
    assert esim["status"] == "READY"


def test_instant_hang_then_create(api: httpx.Client, control: SandboxControl) -> None:
    control.inject_fault("POST", "/api/esim/order/instant", hang_seconds=1.5, then="create")
    with pytest.raises(httpx.ReadTimeout):  # the client gives up; the hang goes on
        api.post(
            "/api/esim/order/instant",
            timeout=0.4,
            json={"items": [{"packageId": PID, "quantity": 1}], "referenceId": "hung"},
        )
    got = api.get("/api/esim/order", params={"referenceId": "hung"})
    assert got.status_code == 200 and got.json()["data"]["status"] == "COMPLETED"
    assert [o["referenceId"] for o in control.ledger()] == ["hung"]
    control.inject_fault("POST", "/api/esim/order/instant", hang_seconds=0.2, then="drop")
    r = order(api, "/api/esim/order/instant", ref="dropped")
    assert r.status_code == 504
    assert api.get("/api/esim/order", params={"referenceId": "dropped"}).status_code == 404
    # created but answered with an error: the "500, yet the order exists" case
    control.inject_fault("POST", "/api/esim/order", hang_seconds=0.01, status=500)
    assert order(api, ref="half").status_code == 500
    assert control.ledger()[-1]["referenceId"] == "half"


def test_fault_counts_and_latency(api: httpx.Client, control: SandboxControl) -> None:
    control.inject_fault(
        "GET", "/api/balance", count=2, status=503, body={"status": "failed", "message": "busy"}
    )
    codes = [api.get("/api/balance").status_code for _ in range(3)]
    assert codes == [503, 503, 200]
    # Latency as a client sees it: one that waits less than the delay times out,
    # every time while the fault lasts, and not once it is cleared (10x margins).
    control.inject_fault("GET", "/api/balance", count=None, latency_ms=3000)
    for _ in range(2):
        with pytest.raises(httpx.ReadTimeout):
            api.get("/api/balance", timeout=0.3)
    control.clear_faults()
    assert api.get("/api/balance").status_code == 200


def test_probabilistic_faults_are_seeded_and_counted(api: httpx.Client, control: SandboxControl) -> None:
    def run() -> list[int]:
        control.reset()
        control.inject_fault("GET", "/api/balance", count=None, status=500, probability=0.3, name="500")
        control.inject_fault("*", "*", count=None, status=503, probability=0.2)
        return [api.get("/api/balance").status_code for _ in range(200)]

    codes = run()
    fired = {"500": codes.count(500), "status 503 * *": codes.count(503)}
    # About 30 % and 0.7 x 20 % = 14 % (wide margins: 200 draws), the rest handled normally.
    assert 40 <= fired["500"] <= 80 and 12 <= fired["status 503 * *"] <= 45
    assert codes.count(200) == 200 - sum(fired.values())
    assert control.injected() == fired
    assert run() == codes  # the same seed, the same faults
    # Without a probability a fault keeps firing every time, and counting down.
    control.reset()
    control.inject_fault("GET", "/api/balance", count=2, status=503)
    assert [api.get("/api/balance").status_code for _ in range(3)] == [503, 503, 200]
    assert control.injected() == {"status 503 GET /api/balance": 2}
    bad = control._http.post(
        "/faults", json={"method": "GET", "path": "*", "status": 500, "probability": 1.5}
    )
    assert bad.status_code == 400 and "probability" in bad.json()["error"]


def test_instant_pending_rate(api: httpx.Client, control: SandboxControl) -> None:
    control.set_knobs(instant_pending_seconds=30, instant_pending_rate=0.25)
    statuses = [
        order(api, "/api/esim/order/instant", ref=f"p{i}").json()["data"]["status"] for i in range(80)
    ]
    pending = statuses.count("PENDING")
    assert 8 <= pending <= 35 and statuses.count("COMPLETED") == 80 - pending
    assert control.injected() == {"pending": pending}
    assert control._http.post("/knobs", json={"instant_pending_rate": 2}).status_code == 400
    control.set_knobs(instant_pending_rate=1.0)  # the default: every instant order pends
    assert order(api, "/api/esim/order/instant", ref="all").json()["data"]["status"] == "PENDING"


def test_unique_reference_ids(api: httpx.Client, control: SandboxControl) -> None:
    first = order(api, ref="dup").json()["data"]
    second = order(api, ref="dup").json()["data"]
    got = api.get("/api/esim/order", params={"referenceId": "dup"}).json()["data"]
    assert got["id"] == second["id"] != first["id"]
    control.set_knobs(unique_reference_ids=True)
    assert order(api, ref="dup").status_code == 409


# -- lifecycle, usage, top-up -----------------------------------------------------------------


def test_lifecycle_usage_topup(api: httpx.Client, control: SandboxControl) -> None:
    e = order(api, "/api/esim/order/instant", ref="life").json()["data"]["esims"][0]
    iccid = e["iccid"]
    assert control.esim_action(e["id"], "install")["status"] == "INSTALLED"
    control.esim_action(iccid, "activate")
    control.esim_action(e["id"], "consume", mb=100)
    u = api.get("/api/esim/usage", params={"iccid": iccid}).json()["data"]
    assert (u["allowedData"], u["remainingData"]) == (1024, 924)
    assert u["startedAt"] > 0 and u["expiredAt"] == u["startedAt"] + 7 * 86400
    d = api.get("/api/esim/usage/details", params={"esimId": e["id"]}).json()["data"]
    assert d["dataUsages"][0]["usage"] == 100 * 1024
    assert len(d["dataUsages"][0]["date"]) == 10 and d["dataUsages"][0]["date"][4] == "-"
    control.set_knobs(usage_unit="KB")
    u = api.get("/api/esim/usage", params={"iccid": iccid}).json()["data"]
    assert (u["allowedData"], u["remainingData"]) == (1024 * 1024, 924 * 1024)
    tops = api.get("/api/esim/topup/packages", params={"iccid": iccid}).json()["data"]
    assert tops and all(set(t) >= {"apn", "data", "call", "sms"} for t in tops)
    top = next(t for t in tops if not t["data"]["isUnlimited"])
    r = api.post(
        "/api/esim/order/topup", json={"iccid": iccid, "packageId": top["packageId"], "referenceId": "t1"}
    )
    assert r.status_code == 200 and r.json()["data"]["items"][0]["esimId"] == e["id"]
    hist = api.get("/api/esim/history", params={"iccid": iccid}).json()["data"]
    assert [h["packageId"] for h in hist] == [PID, top["packageId"]]
    events = api.get("/api/esim/events", params={"iccid": iccid}).json()
    assert "status" not in events and events["esimId"] == e["id"]
    assert [x["status"] for x in events["events"]] == ["NEW", "DOWNLOADED", "INSTALLED", "ACTIVATED"]
    assert len(events["events"][1]["eid"]) == 32
    link = api.post("/api/esim/link", json={"esimId": e["id"]}).json()["data"]
    assert len(link["key"]) == 12 and len(link["accessCode"]) == 4
    assert httpx.get(link["link"]).status_code == 200
    control.esim_action(e["id"], "revoke")
    assert api.get("/api/esim", params={"iccid": iccid}).json()["data"]["status"] == "REVOKED"
    assert api.get("/api/esim/topup/packages", params={"iccid": iccid}).json()["data"] == []
    assert [x["kind"] for x in control.ledger()] == ["instant", "topup"]


def test_gift_api_is_withdrawn(api: httpx.Client, control: SandboxControl) -> None:
    """Roamify removed its gift card API on 2026-06-09: its paths are unknown routes, and nothing moves."""
    before = money_state(api, control)
    body = {"orderId": "gift-1", "senderEmail": "a@example.com", "amount": 20, "currency": "USD"}
    for method, path in (
        ("POST", "/api/gifts/gift"),
        ("PUT", "/api/gifts/gift"),
        ("GET", "/api/gifts/gift"),
        ("GET", "/api/gifts/gifts"),
        ("POST", "/api/gifts/revoke"),
        ("PUT", "/api/gifts/gift/revoke"),
    ):
        r = api.request(method, path, json=None if method == "GET" else body)
        assert (r.status_code, r.json()) == (404, {"status": "failed", "message": f"Cannot {method} {path}"})
    assert money_state(api, control) == before


# -- catalog -----------------------------------------------------------------------------------


def page_through(api: httpx.Client, size: int, mode: str) -> tuple[list[dict], int]:
    """All pages until a short one; returns groups and the request count (speed is bench/'s)."""
    groups: list[dict] = []
    page, requests = 1, 0
    while True:
        r = api.get("/api/esim/packages", params={"page": page, "pageSize": size})
        rows = r.json()["data"]["packages"]
        requests += 1
        groups += rows
        counted = len(rows) if mode == "group" else sum(len(g["packages"]) for g in rows)
        if counted < size:
            return groups, requests
        page += 1


def test_page_through_whole_catalog(api: httpx.Client, control: SandboxControl) -> None:
    groups, group_requests = page_through(api, 50, "group")
    ids = [p["packageId"] for g in groups for p in g["packages"]]
    assert len(ids) == len(set(ids)) >= 27_000
    countries = api.get("/api/esim/countries").json()["data"]["countries"]
    assert [(c["code"], c["name"]) for c in countries] == [
        (g["countryCode"], g["countryName"]) for g in groups
    ]
    control.set_knobs(page_mode="package")
    assert group_requests == len(groups) // 50 + 1
    rows, requests = page_through(api, 500, "package")
    assert sorted(p["packageId"] for g in rows for p in g["packages"]) == sorted(ids)
    assert requests == len(ids) // 500 + 1


def test_catalog_filters(api: httpx.Client) -> None:
    def get(**params: object) -> list[dict]:
        return api.get("/api/esim/packages", params=params).json()["data"]["packages"]

    jp = get(country="Japan")
    assert [g["id"] for g in jp] == ["japan-esims"]
    assert get(countryCode="JP", country="Japan") == jp
    assert {g["geography"] for g in get(geography="regional")} == {"regional"}
    week = get(countryCode="JP", days=7)
    assert {p["day"] for p in week[0]["packages"]} == {7}
    assert all(p["dataAmount"] == 1024 for g in get(gbs=1) for p in g["packages"])
    unl = get(isUnlimited="true", gbs=1, pageSize=500)
    assert all(p["isUnlimited"] for g in unl for p in g["packages"])
    assert get(isUnlimited="false", countryCode="JP") == jp
    one = get(packageId=PID, country="France")
    assert [p["packageId"] for p in one[0]["packages"]] == [PID]
    assert get(packageId="esim-nowhere-1days-1gb-all") == []


def test_catalog_edits_and_reset(api: httpx.Client, control: SandboxControl) -> None:
    def japan() -> dict:
        return api.get("/api/esim/packages", params={"countryCode": "JP"}).json()["data"]["packages"][0]

    before = japan()
    control.update_package(PID, price=0.5)
    after = japan()
    assert next(p for p in after["packages"] if p["packageId"] == PID)["price"] == 0.5
    assert after["minPrice"] == 0.5
    control.remove_package(PID)
    assert order(api).status_code == 500
    control.add_package(
        "japan-esims",
        {
            "packageId": "esim-japan-4days-4gb-all",
            "package": "4 GB - 4 Days",
            "day": 4,
            "price": 6.5,
            "dataAmount": 4096,
        },
    )
    ids = [p["packageId"] for p in japan()["packages"]]
    assert PID not in ids and "esim-japan-4days-4gb-all" in ids
    assert order(api, pid="esim-japan-4days-4gb-all").status_code == 200
    control.reset()
    assert japan() == before


def test_control_balance_clock_ledger(api: httpx.Client, control: SandboxControl) -> None:
    control.set_balance(12.5)
    assert api.get("/api/balance").json()["data"] == {"balance": 12.5, "currency": "USD"}
    now = control.now()
    assert control.advance_clock(3600) >= now + 3600
    data = order(api, ref="clocked").json()["data"]
    assert data["createdAt"] >= now + 3600
    [entry] = control.ledger()
    assert entry == {
        "id": data["id"],
        "referenceId": "clocked",
        "kind": "order",
        "items": [{"packageId": PID, "quantity": 1}],
        "total": data["total"],
        "status": "COMPLETED",
        "createdAt": data["createdAt"],
    }
