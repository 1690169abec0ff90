"""Client behaviour with respx: envelopes, retries, timeouts, paging edge cases."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx

from roamify import (
    AuthenticationError,
    NotFoundError,
    OrderLine,
    PagingError,
    ProfilePendingError,
    RoamifyClient,
    UpstreamTimeout,
    UpstreamUnavailable,
    ValidationError,
    backoff_delay,
)

from .samples import CATALOG_GROUP, ESIM_NEW, ESIM_READY, TOPUP_PACKAGE, envelope, order

BASE = "https://roamify.test"
TOKEN = "secret-token-value"


class Client(RoamifyClient):
    sleeps: list[float]


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=False) as r:
        yield r


@pytest.fixture
def client(router: respx.MockRouter) -> Iterator[Client]:
    c = Client(base_url=BASE, token=TOKEN, max_retries=3, backoff_base=0.01)
    c.sleeps = []
    c._sleep = c.sleeps.append  # record instead of sleeping
    yield c
    c.close()


# ------------------------------------------------------------------ basics


def test_headers_envelope_and_logging(
    router: respx.MockRouter, client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    route = router.get("/api/balance").respond(json=envelope({"balance": 3723.35, "currency": "USD"}))
    with caplog.at_level(logging.DEBUG, logger="roamify"):
        money = client.balance()
    assert (money.amount_cents, money.currency) == (372335, "USD")
    request = route.calls.last.request
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["User-Agent"].startswith("esim-storefront-roamify/")
    assert "GET /api/balance -> 200" in caplog.text
    assert TOKEN not in caplog.text
    assert TOKEN not in repr(client)


def test_health(router: respx.MockRouter, client: Client) -> None:
    router.get("/api/health").respond(json=envelope({"status": "ok"}))
    assert client.health() is True
    router.get("/api/health").mock(side_effect=httpx.ConnectError("refused"))
    assert client.health() is False


def test_query_param_spelling(router: respx.MockRouter, client: Client) -> None:
    route = router.get("/api/esim/packages").respond(json=envelope({"packages": [CATALOG_GROUP]}))
    groups = client.packages_page(2, 10, country="Afghanistan", country_code="AF", is_unlimited=True, days=7)
    assert groups[0].packages[0].package_id == "esim-afghanistan-7days-1gb-all"
    params = dict(route.calls.last.request.url.params)
    assert params == {
        "page": "2",
        "pageSize": "10",
        "country": "Afghanistan",
        "countryCode": "AF",
        "isUnlimited": "true",
        "days": "7",
    }


def test_list_shapes(router: respx.MockRouter, client: Client) -> None:
    router.get("/api/esim/countries").respond(
        json=envelope({"countries": [{"code": "AFR", "name": "Africa", "geography": "regional"}]})
    )
    router.get("/api/compatible-devices").respond(
        json=envelope(
            [
                {
                    "model": "Pixel 8",
                    "deviceType": "smartphone",
                    "os": "android",
                    "brand": "Google",
                    "name": "Pixel 8",
                }
            ]
        )
    )
    router.get("/api/esims").respond(json=envelope([ESIM_NEW, ESIM_READY]))
    router.get("/api/esim/orders").respond(json=envelope({"orders": [order(), order(id="o-2")]}))
    router.get("/api/esim/topup/packages").respond(json=envelope([TOPUP_PACKAGE]))
    router.get("/api/esim/history").respond(json=envelope([order()["items"][0]]))
    assert client.countries()[0].geography == "regional"
    assert client.compatible_devices()[0].os == "android"
    assert [e.status for e in client.list_esims()] == ["NEW", "READY"]
    assert [o.id for o in client.list_orders(limit=2)][1] == "o-2"
    assert client.topup_packages("8901")[0].data_mb == 1024
    assert client.history("8901")[0].package_id == "esim-cambodia-7days-1gb-all"


def test_order_body(router: respx.MockRouter, client: Client) -> None:
    route = router.post("/api/esim/order").respond(json=envelope(order()))
    client.create_order([OrderLine("p-1", 2), ("p-2", 1), "p-3"], reference_id="SO-1")
    assert json.loads(route.calls.last.request.content) == {
        "items": [
            {"packageId": "p-1", "quantity": 2},
            {"packageId": "p-2", "quantity": 1},
            {"packageId": "p-3", "quantity": 1},
        ],
        "referenceId": "SO-1",
    }


def test_apply_returns_a_list_for_either_shape(router: respx.MockRouter, client: Client) -> None:
    router.post("/api/esim/apply").respond(json=envelope(ESIM_READY))
    assert [e.iccid for e in client.apply(esim_id="e-1")] == ["894000000000029365"]
    router.post("/api/esim/apply").respond(json=envelope([ESIM_READY, ESIM_READY]))
    assert len(client.apply(reference_id="SO-1", start_date="2026-07-01")) == 2
    with pytest.raises(ValueError):
        client.apply()


def test_exactly_one_identifier(client: Client) -> None:
    with pytest.raises(ValueError):
        client.get_order()
    with pytest.raises(ValueError):
        client.get_order(order_id="a", reference_id="b")
    with pytest.raises(ValueError):
        client.get_esim(iccid="1", esim_id="2")


def test_find_order_none_on_404(router: respx.MockRouter, client: Client) -> None:
    route = router.get("/api/esim/order").respond(
        404, json={"status": "failed", "message": "Order not found"}
    )
    assert client.find_order("SO-404") is None
    assert route.call_count == 1  # 404 is not retried
    assert dict(route.calls.last.request.url.params) == {"referenceId": "SO-404"}


def test_2xx_that_says_failed_is_an_error(router: respx.MockRouter, client: Client) -> None:
    router.post("/api/esim/apply").respond(
        200, json={"status": "failed", "message": "eSIM is still pending processing"}
    )
    with pytest.raises(ProfilePendingError):
        client.apply(esim_id="e-1")


def test_error_shapes_reach_the_caller(router: respx.MockRouter, client: Client) -> None:
    router.post("/api/esim/order").respond(400, json={"error": '"items" is required'})
    with pytest.raises(ValidationError) as info:
        client.request("POST", "/api/esim/order", json={})
    assert info.value.message == '"items" is required'
    router.get("/api/balance").respond(401, json={"message": "Unauthorized"})
    with pytest.raises(AuthenticationError):
        client.balance()
    router.get("/api/esim").respond(404, json={"status": "failed", "message": "eSIM not found"})
    with pytest.raises(NotFoundError, match="eSIM not found"):
        client.get_esim(esim_id="nope")


# ------------------------------------------------------------------ retries


def test_get_5xx_is_retried_with_backoff(router: respx.MockRouter, client: Client) -> None:
    route = router.get("/api/balance").mock(
        side_effect=[
            httpx.Response(500, json={"message": "Unknown error", "status": "failed"}),
            httpx.Response(503, text="Service Unavailable"),
            httpx.Response(200, json=envelope({"balance": 1, "currency": "USD"})),
        ]
    )
    assert client.balance().amount_cents == 100
    assert route.call_count == 3
    assert len(client.sleeps) == 2
    assert 0 <= client.sleeps[0] <= 0.01 and 0 <= client.sleeps[1] <= 0.02


def test_get_gives_up_after_max_retries(router: respx.MockRouter, client: Client) -> None:
    route = router.get("/api/balance").respond(503, json={"message": "down"})
    with pytest.raises(UpstreamUnavailable, match="down") as info:
        client.balance()
    assert info.value.status_code == 503
    assert route.call_count == 4  # 1 + max_retries
    assert len(client.sleeps) == 3


def test_get_connection_errors_and_timeouts_are_retried(router: respx.MockRouter, client: Client) -> None:
    route = router.get("/api/esim/countries").mock(
        side_effect=[
            httpx.ConnectError("refused"),
            httpx.ReadTimeout("slow"),
            httpx.Response(200, json=envelope({"countries": []})),
        ]
    )
    assert client.countries() == []
    assert route.call_count == 3


def test_get_timeout_after_retries_is_upstream_timeout(router: respx.MockRouter, client: Client) -> None:
    route = router.get("/api/balance").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(UpstreamTimeout):
        client.balance()
    assert route.call_count == 4


@pytest.mark.parametrize(
    "path",
    ["/api/esim/order", "/api/esim/order/instant", "/api/esim/order/topup", "/api/esim/apply"],
)
def test_posts_are_never_retried(router: respx.MockRouter, client: Client, path: str) -> None:
    route = router.post(path).respond(500, json={"message": "Unknown error", "status": "failed"})
    with pytest.raises(UpstreamUnavailable, match="Unknown error"):
        client.request("POST", path, json={"items": [{"packageId": "nope", "quantity": 1}]})
    assert route.call_count == 1
    assert client.sleeps == []


def test_post_timeout_is_upstream_timeout_without_retry(router: respx.MockRouter, client: Client) -> None:
    route = router.post("/api/esim/order/instant").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(UpstreamTimeout):
        client.create_instant_order([("p", 1)], reference_id="SO-9")
    assert route.call_count == 1


def test_post_connection_error_is_unavailable_without_retry(router: respx.MockRouter, client: Client) -> None:
    route = router.post("/api/esim/order").mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(UpstreamUnavailable) as info:
        client.create_order([("p", 1)])
    assert not isinstance(info.value, UpstreamTimeout)
    assert route.call_count == 1


def test_per_call_timeouts(router: respx.MockRouter) -> None:
    seen: dict[str, float] = {}

    def record(request: httpx.Request) -> httpx.Response:
        seen[request.url.path] = request.extensions["timeout"]["read"]
        if request.url.path == "/api/esim/apply":
            return httpx.Response(200, json=envelope(ESIM_READY))
        if request.url.path == "/api/balance":
            return httpx.Response(200, json=envelope({"balance": 1, "currency": "USD"}))
        return httpx.Response(200, json=envelope(order()))

    router.route().mock(side_effect=record)
    with RoamifyClient(base_url=BASE, token=TOKEN) as c:
        c.create_instant_order([("p", 1)])
        c.apply(esim_id="e")
        c.create_order([("p", 1)])
        c.balance()
    assert seen == {
        "/api/esim/order/instant": 75.0,
        "/api/esim/apply": 95.0,
        "/api/esim/order": 30.0,
        "/api/balance": 30.0,
    }


def test_backoff_is_full_jitter() -> None:
    assert backoff_delay(0, 0.5, 8.0, rand=lambda: 1.0) == 0.5
    assert backoff_delay(3, 0.5, 8.0, rand=lambda: 1.0) == 4.0
    assert backoff_delay(10, 0.5, 8.0, rand=lambda: 1.0) == 8.0  # capped
    assert backoff_delay(3, 0.5, 8.0, rand=lambda: 0.0) == 0.0


# ------------------------------------------------------------------ paging


def _group(dest: str, ids: list[str]) -> dict[str, Any]:
    group = {
        **CATALOG_GROUP,
        "id": f"{dest}-esims",
        "countryName": dest.title(),
        "countryCode": dest[:2].upper(),
    }
    template = CATALOG_GROUP["packages"][0]
    group["packages"] = [{**template, "packageId": pid} for pid in ids]
    return group


def _pages(router: respx.MockRouter, pages: dict[int, list[dict[str, Any]]]) -> respx.Route:
    def respond(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        return httpx.Response(200, json=envelope({"packages": pages.get(page, [])}))

    return router.get("/api/esim/packages").mock(side_effect=respond)


def test_paging_by_single_packages_merges_split_groups(router: respx.MockRouter, client: Client) -> None:
    # page_size 3 counts packages: the "a" group spans pages 1-2, "b" spans 2-3.
    route = _pages(
        router,
        {
            1: [_group("a", ["a1", "a2", "a3"])],
            2: [_group("a", ["a4"]), _group("b", ["b1", "b2"])],
            3: [_group("b", ["b3", "a1"])],  # a1 repeated: de-duplicated
        },
    )
    groups = client.all_packages(page_size=3)
    assert route.call_count == 3  # page 3 holds 2 packages < 3: last page
    assert [(g.destination.id, [p.package_id for p in g.packages]) for g in groups] == [
        ("a-esims", ["a1", "a2", "a3", "a4"]),
        ("b-esims", ["b1", "b2", "b3"]),
    ]
    assert all(p.destination and p.destination.id == "a-esims" for p in groups[0].packages)


def test_paging_by_groups_reads_until_a_short_page(router: respx.MockRouter, client: Client) -> None:
    route = _pages(
        router,
        {
            1: [_group("a", ["a1", "a2"]), _group("b", ["b1"])],
            2: [_group("c", ["c1", "c2", "c3"])],  # 1 group < 2 but 3 packages >= 2
        },
    )
    ids = [p.package_id for p in client.iter_packages(page_size=2)]
    assert ids == ["a1", "a2", "b1", "c1", "c2", "c3"]
    assert route.call_count == 3  # page 3 is empty
    assert [int(c.request.url.params["page"]) for c in route.calls] == [1, 2, 3]


def test_paging_beyond_the_end_with_404_stops(router: respx.MockRouter, client: Client) -> None:
    def respond(request: httpx.Request) -> httpx.Response:
        if request.url.params["page"] == "1":
            return httpx.Response(200, json=envelope({"packages": [_group("a", ["a1", "a2"])]}))
        return httpx.Response(404, json={"message": "no such page"})

    router.get("/api/esim/packages").mock(side_effect=respond)
    assert [p.package_id for p in client.iter_packages(page_size=2)] == ["a1", "a2"]


def test_paging_has_a_hard_cap(router: respx.MockRouter, client: Client) -> None:
    def endless(request: httpx.Request) -> httpx.Response:
        page = request.url.params["page"]
        return httpx.Response(200, json=envelope({"packages": [_group("a", [f"p{page}-1", f"p{page}-2"])]}))

    route = router.get("/api/esim/packages").mock(side_effect=endless)
    got: list[str] = []
    with pytest.raises(PagingError):
        for package in client.iter_packages(page_size=2, max_pages=5):
            got.append(package.package_id)
    assert route.call_count == 5
    assert len(got) == 10


def test_paging_stops_when_upstream_ignores_page(router: respx.MockRouter, client: Client) -> None:
    route = router.get("/api/esim/packages").respond(json=envelope({"packages": [_group("a", ["a1", "a2"])]}))
    assert [p.package_id for p in client.iter_packages(page_size=2)] == ["a1", "a2"]
    assert route.call_count == 2


def test_paging_retries_a_failed_page(router: respx.MockRouter, client: Client) -> None:
    calls = {"n": 0}

    def flaky(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] == 2:
            return httpx.Response(502, text="Bad gateway")
        page = int(request.url.params["page"])
        data = {1: [_group("a", ["a1", "a2"])], 2: [_group("b", ["b1"])]}.get(page, [])
        return httpx.Response(200, json=envelope({"packages": data}))

    router.get("/api/esim/packages").mock(side_effect=flaky)
    assert [p.package_id for p in client.iter_packages(page_size=2)] == ["a1", "a2", "b1"]


def test_custom_transport_is_used() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(200, json=envelope({"balance": 2.5, "currency": "usd"}))

    with RoamifyClient(base_url=BASE, token=TOKEN, transport=httpx.MockTransport(handler)) as c:
        assert c.balance().amount_cents == 250
        assert c.balance().currency == "USD"
    assert seen == ["/api/balance", "/api/balance"]
