"""Refund requests (§2.20): create, one open per eSIM, decided by support, the refund webhook."""

from __future__ import annotations

import hashlib
import hmac

import httpx
import pytest

from sandboxes.roamify.testing import SandboxControl

from .test_webhooks import PID, SECRET, Receiver

pytestmark = pytest.mark.usefixtures("control")


def new_esim(api: httpx.Client, ref: str = "rf-1") -> dict:
    body = {"items": [{"packageId": PID, "quantity": 1}], "referenceId": ref}
    return api.post("/api/esim/order/instant", json=body).json()["data"]["esims"][0]


def test_create_get_list_cancel(api: httpx.Client, control: SandboxControl) -> None:
    esim = new_esim(api)
    r = api.post("/api/refund", json={"esimId": esim["id"], "reason": "NOT_INSTALLED", "notes": "trip off"})
    assert r.status_code == 200, r.text
    created = r.json()["data"]
    assert created["status"] == "PENDING" and created["esimId"] == esim["id"]
    assert created["iccid"] == esim["iccid"] and created["amount"] > 0 and created["productType"] == "esim"
    # One open request per eSIM: the second names the first.
    again = api.post("/api/refund", json={"iccid": esim["iccid"], "reason": "NOT_INSTALLED"})
    assert again.status_code == 409 and again.json()["refundId"] == created["refundId"]
    got = api.get("/api/refund", params={"refundId": created["refundId"]}).json()["data"]
    assert got == created
    listed = api.get("/api/refunds", params={"esimId": esim["id"]}).json()["data"]
    assert [x["refundId"] for x in listed] == [created["refundId"]]
    cancelled = api.post("/api/refund/cancel", json={"refundId": created["refundId"]}).json()["data"]
    assert cancelled["status"] == "CANCELLED"
    assert api.post("/api/refund/cancel", json={"refundId": created["refundId"]}).status_code == 409
    # Cancelled: a new request may be made.
    assert api.post("/api/refund", json={"esimId": esim["id"], "reason": "OTHER"}).status_code == 200
    assert len(control.refunds()) == 2


def test_bad_requests_change_nothing(api: httpx.Client, control: SandboxControl) -> None:
    esim = new_esim(api)
    assert api.post("/api/refund", json={"reason": "NOT_INSTALLED"}).json() == {
        "error": '"value" must contain at least one of [esimId, iccid]'
    }
    bad_reason = api.post("/api/refund", json={"esimId": esim["id"], "reason": "x"})
    assert "must be one of" in bad_reason.json()["error"]
    assert api.post("/api/refund", json={"esimId": "nope", "reason": "OTHER"}).status_code == 404
    assert api.get("/api/refund", params={"refundId": "nope"}).status_code == 404
    bulk = api.post("/api/refund/bulk", json={"items": [{"esimId": esim["id"]}]})
    assert bulk.status_code == 400  # one bad item: none created
    assert control.refunds() == []


def test_bulk_reports_each_item(api: httpx.Client) -> None:
    a, b = new_esim(api, "rf-a"), new_esim(api, "rf-b")
    items = [
        {"esimId": a["id"], "reason": "NOT_INSTALLED"},
        {"esimId": b["id"], "reason": "OTHER"},
        {"esimId": a["id"], "reason": "OTHER"},
    ]
    results = api.post("/api/refund/bulk", json={"items": items}).json()["data"]
    assert [r.get("status") for r in results[:2]] == ["PENDING", "PENDING"]
    assert results[2]["error"]["code"] == 409 and results[2]["error"]["refundId"] == results[0]["refundId"]


def test_decisions_send_the_refund_webhook(api: httpx.Client, control: SandboxControl) -> None:
    with Receiver() as receiver:
        control.set_webhook(receiver.url, SECRET)
        a, b = new_esim(api, "rf-a"), new_esim(api, "rf-b")
        ra = api.post("/api/refund", json={"esimId": a["id"], "reason": "NOT_INSTALLED"}).json()["data"]
        rb = api.post("/api/refund", json={"esimId": b["id"], "reason": "NOT_INSTALLED"}).json()["data"]
        balance = control.balance()
        assert control.refund_action(ra["refundId"], "process")["status"] == "PROCESSING"  # no event
        assert control.refund_action(ra["refundId"], "approve")["status"] == "REFUNDED"
        assert control.balance() == pytest.approx(balance + ra["amount"])
        rejected = control.refund_action(rb["refundId"], "reject", reason="Data was used")
        assert rejected["rejectionReason"] == "Data was used"
        events = receiver.wait_for(2)
        for body, signature in receiver.received:
            assert signature == hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert [(e["event_category"], e["event_type"], e["event_id"]) for e in events] == [
        ("refund", "refunded", f"rfd_{ra['refundId']}_refunded"),
        ("refund", "rejected", f"rfd_{rb['refundId']}_rejected"),
    ]
    assert events[0]["data"]["status"] == "REFUNDED" and events[0]["data"]["esim_id"] == a["id"]
    assert events[1]["data"]["rejection_reason"] == "Data was used"
    # Decided: refunded eSIMs are refused for good, decided requests can't be decided again.
    assert api.post("/api/refund", json={"esimId": a["id"], "reason": "OTHER"}).status_code == 422
    with pytest.raises(RuntimeError, match="409"):
        control.refund_action(ra["refundId"], "reject")
