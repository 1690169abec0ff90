"""Refund requests (§2.20) through the typed client: against the sandbox, and edge cases with respx."""

from __future__ import annotations

import httpx
import pytest
import respx

from roamify import (
    AlreadyRefundedError,
    NotFoundError,
    RefundRequest,
    RefundRequestOpenError,
    RoamifyClient,
    UpstreamTimeout,
    ValidationError,
)

PID = "esim-japan-7days-1gb-all"


def test_refund_requests_against_the_sandbox(roamify: RoamifyClient, sandbox) -> None:
    order = roamify.create_instant_order([(PID, 2)], reference_id="refunds-1")
    first, second = order.esims
    created = roamify.create_refund_request(esim_id=first.id, notes="Trip cancelled")
    assert isinstance(created, RefundRequest) and created.is_open and created.status == "PENDING"
    assert created.esim_id == first.id and created.iccid == first.iccid
    assert created.amount_cents and created.amount_cents > 0
    with pytest.raises(RefundRequestOpenError) as open_one:
        roamify.create_refund_request(iccid=first.iccid)
    assert open_one.value.refund_id == created.id and open_one.value.status_code == 409
    assert roamify.get_refund_request(created.id) == created
    assert [r.id for r in roamify.list_refund_requests(esim_id=first.id)] == [created.id]
    assert roamify.list_refund_requests(status="REFUNDED") == []
    results = roamify.create_refund_requests(
        [{"esimId": second.id, "reason": "NOT_INSTALLED"}, {"esimId": first.id, "reason": "OTHER"}]
    )
    assert isinstance(results[0], RefundRequest) and results[0].esim_id == second.id
    assert isinstance(results[1], RefundRequestOpenError) and results[1].refund_id == created.id
    sandbox.control.refund_action(created.id, "approve")
    decided = roamify.get_refund_request(created.id)
    assert decided.status == "REFUNDED" and not decided.is_open
    with pytest.raises(AlreadyRefundedError):
        roamify.create_refund_request(esim_id=first.id)
    assert roamify.cancel_refund_request(results[0].id).status == "CANCELLED"
    with pytest.raises(NotFoundError):
        roamify.get_refund_request("no-such-refund")
    with pytest.raises(ValidationError):
        roamify.create_refund_request(esim_id=second.id, reason="NOT_A_REASON")
    with pytest.raises(ValueError):
        roamify.create_refund_request()


BASE = "https://roamify.test"


@pytest.fixture
def client():
    with RoamifyClient(BASE, "token", backoff_base=0.0, max_retries=2) as c:
        c._sleep = lambda s: None
        yield c


def test_open_request_id_read_from_data_and_creates_never_retried(client) -> None:
    with respx.mock(base_url=BASE) as router:
        route = router.post("/api/refund").mock(
            return_value=httpx.Response(
                409, json={"status": "failed", "message": "open", "data": {"refundId": "r-9"}}
            )
        )
        with pytest.raises(RefundRequestOpenError) as exc:
            client.create_refund_request(esim_id="e-1")
        assert exc.value.refund_id == "r-9" and route.call_count == 1
        route.mock(side_effect=httpx.ReadTimeout("slow"))
        with pytest.raises(UpstreamTimeout):
            client.create_refund_request(esim_id="e-1")
        assert route.call_count == 2  # a create is never repeated by the client


def test_webhook_style_keys_parse(client) -> None:
    with respx.mock(base_url=BASE) as router:
        router.get("/api/refund").mock(
            return_value=httpx.Response(
                200,
                json={
                    "status": "success",
                    "data": {
                        "refund_id": "r-1",
                        "status": "rejected",
                        "esim_id": "e-1",
                        "rejection_reason": "used",
                        "amount": "6.86",
                        "created_at": 1_700_000_000,
                    },
                },
            )
        )
        got = client.get_refund_request("r-1")
    assert (got.id, got.status, got.esim_id, got.rejection_reason, got.amount_cents) == (
        "r-1",
        "REJECTED",
        "e-1",
        "used",
        686,
    )
    assert got.created_at is not None and got.created_at.year == 2023
