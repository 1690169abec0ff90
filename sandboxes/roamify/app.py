"""aiohttp application: the Roamify partner API (§2), public assets and `/_control/`."""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from . import validation as v
from .catalog import GEOGRAPHIES, CatalogError, PackageFilter, dumps, money, topup_shape
from .config import Config
from .data import DEVICES
from .errors import ApiError, ControlError, failed, joi
from .esims import ESIM_STATUSES, Esim
from .faults import Fault
from .images import flag_png, qr_png
from .orders import ORDER_STATUSES
from .refunds import REFUND_REASONS, REFUND_STATUSES
from .state import World
from .webhooks import WebhookSender

log = logging.getLogger("sandboxes.roamify")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
EXPRESS_HEADERS = {"X-Powered-By": "Express"}
# Catalog reads don't look at orders or eSIMs, so they skip the lazy tick() to stay fast.
NO_TICK = frozenset(
    {
        "/api/health",
        "/api/esim/packages",
        "/api/esim/countries",
        "/api/compatible-devices",
        "/api/currencies",
        "/api/rates",
    }
)
LIST_READS = frozenset(
    {
        "/api/esim/packages",
        "/api/esim/countries",
        "/api/esim/orders",
        "/api/esims",
        "/api/compatible-devices",
        "/api/esim/topup/packages",
        "/api/esim/history",
        "/api/refunds",
    }
)


@dataclass
class Runtime:
    config: Config
    world: World
    webhooks: WebhookSender
    latency_rng: random.Random

    @classmethod
    def create(cls, config: Config, webhooks: WebhookSender | None = None) -> Runtime:
        sender = webhooks or WebhookSender()
        return cls(
            config, World(config, sender.send), sender, random.Random(f"roamify-latency-{config.seed}")
        )

    def reset(self) -> None:
        self.webhooks.clear()
        self.world = World(self.config, self.webhooks.send)
        self.latency_rng = random.Random(f"roamify-latency-{self.config.seed}")


RUNTIME = web.AppKey("runtime", Runtime)


def world(request: web.Request) -> World:
    return request.app[RUNTIME].world


# -- responses --------------------------------------------------------------------


def raw_json(body: bytes, status: int = 200) -> web.Response:
    return web.Response(
        body=body, status=status, content_type="application/json", charset="utf-8", headers=EXPRESS_HEADERS
    )


def send(obj: Any, status: int = 200) -> web.Response:
    return raw_json(dumps(obj), status)


def ok(data: Any) -> web.Response:
    return send({"status": "success", "data": data})


def default_fault_body(status: int) -> dict[str, Any]:
    if status == 401:
        return {"status": "failed", "message": "Unauthorized"}
    if status == 429:
        return {"status": "failed", "message": "Too many requests"}
    if status >= 500:
        return {"message": "Unknown error", "status": "failed"}
    return {"status": "failed", "message": "Injected error"}


async def read_json(request: web.Request) -> Any:
    text = await request.text()
    # express.json() only parses JSON content types and leaves {} otherwise, so a client
    # that forgets the header gets the same '"items" is required' as in production.
    if not text.strip() or not request.content_type.endswith(("/json", "+json")):
        return {}
    try:
        return json.loads(text)
    except ValueError:
        raise ApiError(400, {"error": "Unexpected token in JSON body"}) from None


# -- latency -------------------------------------------------------------------------


def realistic_delay(rng: random.Random, method: str, path: str) -> float:
    """§5.7 realistic profile, in seconds."""
    if method == "POST" and path == "/api/esim/order/instant":
        return rng.uniform(60, 75) if rng.random() < 0.02 else rng.uniform(5, 25)
    if method == "POST" and path == "/api/esim/apply":
        return min(90.0, 5 + rng.expovariate(1 / 8))
    if method == "POST" and path in ("/api/esim/order", "/api/esim/order/topup"):
        return rng.uniform(1, 5)
    if path in LIST_READS:
        return rng.uniform(0.2, 0.8)
    return rng.uniform(0.05, 0.3)


# -- middleware -------------------------------------------------------------------------


def authorised(request: web.Request, w: World) -> bool:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip() == w.token:
        return True
    return w.knobs.allow_bare_token and header.strip() == w.token


async def _dispatch(request: web.Request, handler: Handler, w: World) -> web.StreamResponse:
    if request.path != "/api/health" and not authorised(request, w):
        return send({"status": "failed", "message": "Unauthorized"}, 401)
    try:
        if request.path not in NO_TICK:
            w.tick()
        return await handler(request)
    except ApiError as exc:
        return send(exc.body, exc.status)
    except (web.HTTPNotFound, web.HTTPMethodNotAllowed):
        # Express answers unknown routes (and wrong methods) with 404.
        return send({"status": "failed", "message": f"Cannot {request.method} {request.path}"}, 404)
    except Exception:
        log.exception("handler failed: %s %s", request.method, request.path)
        return send({"message": "Unknown error", "status": "failed"}, 500)


@web.middleware
async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    path = request.path
    if path.startswith("/_control/"):
        try:
            return await handler(request)
        except ControlError as exc:
            return send({"error": exc.message}, exc.status)
    if not path.startswith("/api/"):
        return await handler(request)
    rt = request.app[RUNTIME]
    w = rt.world
    fault = w.take_fault(request.method, path)
    delay = 0.0
    if w.knobs.latency == "realistic":
        delay += realistic_delay(rt.latency_rng, request.method, path)
    if fault is not None and fault.latency_ms:
        delay += fault.latency_ms / 1000
    plain = fault is None or (fault.status is None and fault.hang_seconds <= 0)
    if delay and plain and request.method == "POST":
        # A purchase is recorded when it arrives and answered when fulfilled, so a client
        # that gives up early can still find the order by referenceId.
        answer = await _dispatch(request, handler, w)
        await asyncio.sleep(delay)
        return answer
    if delay:
        await asyncio.sleep(delay)
    if fault is None or (fault.status is None and fault.hang_seconds <= 0):
        return await _dispatch(request, handler, w)
    if fault.hang_seconds <= 0:  # status-only fault: the handler never runs
        assert fault.status is not None
        return send(fault.body or default_fault_body(fault.status), fault.status)
    response: web.StreamResponse | None = None
    if fault.then == "create":
        # Run the real handler first so the order exists by the time a client that
        # timed out looks it up by referenceId; then hang.
        response = await _dispatch(request, handler, w)
    await asyncio.sleep(fault.hang_seconds)
    if fault.status is not None:
        return send(fault.body or default_fault_body(fault.status), fault.status)
    if response is None:
        return send({"status": "failed", "message": "Gateway Timeout"}, 504)
    return response


# -- API handlers ---------------------------------------------------------------------


async def health(request: web.Request) -> web.Response:
    return ok({"status": "ok"})


async def countries(request: web.Request) -> web.Response:
    geography = v.q_enum(request.query, "geography", GEOGRAPHIES)
    return ok({"countries": world(request).catalog.countries(geography)})


async def packages(request: web.Request) -> web.Response:
    w, q = world(request), request.query
    country = v.q_string(q, "country")
    if country is not None and not w.catalog.has_name(country):
        raise joi('"country" must be a supported country name')
    code = v.q_string(q, "countryCode")
    if code is not None and not w.catalog.has_code(code):
        raise joi('"countryCode" must be a supported country code')
    f = PackageFilter(
        country=country,
        country_code=code,
        geography=v.q_enum(q, "geography", GEOGRAPHIES),
        days=v.q_number(q, "days"),
        gbs=v.q_number(q, "gbs"),
        is_unlimited=v.q_bool(q, "isUnlimited"),
        package_id=v.q_string(q, "packageId"),
    )
    page = v.q_int(q, "page") or 1
    size = v.q_int(q, "pageSize") or 50
    rows = w.catalog.page(f, page, size, w.knobs.page_mode)
    return raw_json(b'{"status":"success","data":{"packages":' + rows + b"}}")


async def devices(request: web.Request) -> web.Response:
    return ok([{"model": m, "deviceType": t, "os": o, "brand": b, "name": n} for m, t, o, b, n in DEVICES])


async def balance(request: web.Request) -> web.Response:
    return ok({"balance": money(world(request).balance_cents), "currency": "USD"})


async def currencies(request: web.Request) -> web.Response:
    return ok({"currencies": world(request).currencies_json()})


async def rates(request: web.Request) -> web.Response:
    query = dict(request.query)
    source = query.get("source") or "USD"  # the docs' "all latest rates" example sends none
    return ok(world(request).rate_json(source, query.get("target"), query))


async def create_order(request: web.Request) -> web.Response:
    lines, ref, _ = v.order_body(await read_json(request), with_start_date=False)
    w = world(request)
    return ok(w.order_json(w.create_order("order", lines, ref)))


async def instant_order(request: web.Request) -> web.Response:
    lines, ref, start = v.order_body(await read_json(request), with_start_date=True)
    w = world(request)
    return ok(w.order_json(w.create_order("instant", lines, ref, start), with_esims=True))


async def topup_order(request: web.Request) -> web.Response:
    iccid, package_id, ref = v.topup_body(await read_json(request))
    w = world(request)
    return ok(w.order_json(w.create_topup(iccid, package_id, ref)))


async def get_order(request: web.Request) -> web.Response:
    order_id, ref = v.q_xor(request.query, "orderId", "referenceId")
    w = world(request)
    return ok(w.order_json(w.get_order(order_id, ref)))


async def list_orders(request: web.Request) -> web.Response:
    q, w = request.query, world(request)
    status = v.q_enum(q, "status", ORDER_STATUSES)
    limit = v.q_int(q, "limit") or 50
    orders = w.list_orders(status, limit, v.q_string(q, "referenceId"))
    return ok({"orders": [w.order_json(o) for o in orders]})


async def apply(request: web.Request) -> web.Response:
    esim_id, ref, start = v.apply_body(await read_json(request))
    w = world(request)
    targets = w.apply(esim_id, ref, start)
    if ref is not None:
        return ok([w.esim_json(e) for e in targets])
    return ok(w.esim_json(targets[0]))


def _esim_from_query(request: web.Request) -> Esim:
    iccid, esim_id = v.q_xor(request.query, "iccid", "esimId")
    return world(request).find_esim(iccid, esim_id)


async def get_esim(request: web.Request) -> web.Response:
    return ok(world(request).esim_json(_esim_from_query(request)))


async def list_esims(request: web.Request) -> web.Response:
    q, w = request.query, world(request)
    status = v.q_enum(q, "status", ESIM_STATUSES)
    limit = v.q_int(q, "limit") or 50
    return ok([w.esim_json(e) for e in w.list_esims(status, limit, v.q_string(q, "referenceId"))])


async def usage(request: web.Request) -> web.Response:
    return ok(world(request).usage_json(_esim_from_query(request), details=False))


async def usage_details(request: web.Request) -> web.Response:
    return ok(world(request).usage_json(_esim_from_query(request), details=True))


async def topup_packages(request: web.Request) -> web.Response:
    q, w = request.query, world(request)
    iccid = v.q_string(q, "iccid")
    if iccid is None:
        raise joi('"iccid" is required')
    f = PackageFilter(
        days=v.q_number(q, "days"),
        gbs=v.q_number(q, "gbs"),
        is_unlimited=v.q_bool(q, "isUnlimited"),
        package_id=v.q_string(q, "packageId"),
    )
    pkgs = w.topup_packages(w.esim_by_iccid(iccid))
    return ok(
        [
            topup_shape(p)
            for p in pkgs
            if (f.package_id is None or p["packageId"] == f.package_id) and f.matches(p)
        ]
    )


async def history(request: web.Request) -> web.Response:
    return ok(list(_esim_from_query(request).history))


async def events(request: web.Request) -> web.Response:
    q, w = request.query, world(request)
    iccid, esim_id, ref = (v.q_string(q, k) for k in ("iccid", "esimId", "referenceId"))
    if iccid is None and esim_id is None and ref is None:
        raise joi('"value" must contain at least one of [iccid, esimId, referenceId]')
    if iccid is not None or esim_id is not None:
        e = w.find_esim(iccid, esim_id)
    else:
        order = w.newest_order(ref or "")
        if order is None or not order.items:
            raise failed(404, "eSIM not found, please make sure your have provided the correct referenceId")
        e = w.esims[order.items[0].esim_id]
    return send(w.events_json(e))  # the one unenveloped endpoint (§2.19)


async def link(request: web.Request) -> web.Response:
    body = v.b_object(await read_json(request))
    iccid = v.b_string(body, "iccid", required=False)
    esim_id = v.b_string(body, "esimId", required=False)
    if iccid is None and esim_id is None:
        raise joi('"value" must contain at least one of [iccid, esimId]')
    w = world(request)
    return ok(w.make_link(w.find_esim(iccid, esim_id)))


def _refund_body(body: Any, label: str = "value") -> tuple[str | None, str | None, str, str]:
    body = v.b_object(body, label)
    esim_id = v.b_string(body, "esimId", required=False)
    iccid = v.b_string(body, "iccid", required=False)
    if esim_id is None and iccid is None:
        raise joi('"value" must contain at least one of [esimId, iccid]')
    reason = v.b_string(body, "reason", required=True, allowed=REFUND_REASONS) or ""
    notes = v.b_string(body, "notes", required=False) or ""
    if len(notes) > 500:
        raise joi('"notes" length must be less than or equal to 500 characters long')
    return iccid, esim_id, reason, notes


async def refund_create(request: web.Request) -> web.Response:
    iccid, esim_id, reason, notes = _refund_body(await read_json(request))
    return ok(world(request).create_refund(iccid, esim_id, reason, notes).to_json())


async def refund_bulk(request: web.Request) -> web.Response:
    body = v.b_object(await read_json(request))
    items = body.get("items")
    if not isinstance(items, list) or not items:
        raise joi('"items" must contain at least 1 items')
    if len(items) > 100:
        raise joi('"items" must contain less than or equal to 100 items')
    parsed = [_refund_body(item, f"items[{i}]") for i, item in enumerate(items)]  # all valid, or none
    w, results = world(request), []
    for iccid, esim_id, reason, notes in parsed:
        try:
            results.append(w.create_refund(iccid, esim_id, reason, notes).to_json())
        except ApiError as exc:
            results.append({"error": {**exc.body, "code": exc.status}})
    return ok(results)


async def refund_get(request: web.Request) -> web.Response:
    refund_id = v.q_string(request.query, "refundId")
    if refund_id is None:
        raise joi('"refundId" is required')
    return ok(world(request).refund(refund_id).to_json())


async def refund_list(request: web.Request) -> web.Response:
    q = request.query
    found = world(request).list_refunds(
        v.q_enum(q, "status", REFUND_STATUSES),
        v.q_string(q, "esimId"),
        v.q_string(q, "iccid"),
        v.q_int(q, "limit") or 50,
    )
    return ok([r.to_json() for r in found])


async def refund_cancel(request: web.Request) -> web.Response:
    body = v.b_object(await read_json(request))
    refund_id = v.b_string(body, "refundId", required=True) or ""
    return ok(world(request).cancel_refund(refund_id).to_json())


# -- public assets (no auth, like Roamify's CDN URLs) ------------------------------------


async def qr(request: web.Request) -> web.Response:
    w = world(request)
    e = w.esims.get(request.match_info["esim_id"])
    if e is None or e.status == "NEW":
        raise web.HTTPNotFound()
    return web.Response(body=qr_png(w.lpa(e)), content_type="image/png")


async def flag(request: web.Request) -> web.Response:
    slug = request.match_info["slug"]
    if world(request).catalog.group(f"{slug}-esims") is None:
        raise web.HTTPNotFound()
    return web.Response(body=flag_png(slug), content_type="image/png")


async def link_page(request: web.Request) -> web.Response:
    w = world(request)
    esim_id = w.links.get(request.match_info["key"])
    if esim_id is None:
        raise web.HTTPNotFound()
    e = w.esims[esim_id]
    lpa = html.escape(w.lpa(e))
    page = (
        f"<!doctype html><title>Your eSIM</title><h1>Your eSIM</h1>"
        f"<img src='/qr/{e.id}.png' alt='QR code'><p>ICCID {e.iccid}</p><p>{lpa}</p>"
    )
    return web.Response(text=page, content_type="text/html")


# -- control API ------------------------------------------------------------------------


async def _control_body(request: web.Request) -> dict[str, Any]:
    text = await request.text()
    try:
        body = json.loads(text) if text.strip() else {}
    except ValueError:
        raise ControlError(400, "body must be JSON") from None
    if not isinstance(body, dict):
        raise ControlError(400, "body must be a JSON object")
    return body


def _number(body: dict[str, Any], key: str, *, minimum: float | None = None) -> float:
    value = body.get(key)
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise ControlError(400, f"{key} must be a number")
    if minimum is not None and value < minimum:
        raise ControlError(400, f"{key} must be >= {minimum}")
    return float(value)


async def c_health(request: web.Request) -> web.Response:
    w = world(request)
    return send({"status": "ok", "seed": w.config.seed, "packages": w.catalog.package_count()})


async def c_reset(request: web.Request) -> web.Response:
    request.app[RUNTIME].reset()
    return send({"status": "ok"})


async def c_ledger(request: web.Request) -> web.Response:
    return send({"orders": world(request).ledger()})


async def c_balance(request: web.Request) -> web.Response:
    w = world(request)
    if request.method == "POST":
        w.set_balance(_number(await _control_body(request), "balance", minimum=0))
    return send({"balance": money(w.balance_cents), "currency": "USD"})


async def c_rates(request: web.Request) -> web.Response:
    w = world(request)
    if request.method == "POST":
        return send(w.set_rate(await _control_body(request)))
    return send(w.rates_state())


async def c_clock(request: web.Request) -> web.Response:
    w = world(request)
    if request.method == "POST":
        w.advance(_number(await _control_body(request), "advance_seconds", minimum=0))
    return send({"now": w.now(), "offset_seconds": w.clock_offset})


async def c_faults(request: web.Request) -> web.Response:
    w = world(request)
    if request.method == "DELETE":
        w.faults.clear()
    elif request.method == "POST":
        w.faults.append(_parse_fault(await _control_body(request)))
    return send({"faults": [f.to_json() for f in w.faults]})


def _parse_fault(body: dict[str, Any]) -> Fault:
    method, path = body.get("method"), body.get("path")
    if not isinstance(method, str) or not isinstance(path, str):
        raise ControlError(400, "method and path are required strings")
    if not (path == "*" or path.startswith("/api/")):
        raise ControlError(400, "path must start with /api/ (or be *)")
    count = body.get("count", 1)
    if count is not None and (not isinstance(count, int) or isinstance(count, bool) or count < 1):
        raise ControlError(400, "count must be an integer >= 1, or null for until cleared")
    status = body.get("status")
    if status is not None and (not isinstance(status, int) or not 100 <= status <= 599):
        raise ControlError(400, "status must be an HTTP status code or null")
    hang = _number(body, "hang_seconds", minimum=0) if body.get("hang_seconds") else 0.0
    latency = _number(body, "latency_ms", minimum=0) if body.get("latency_ms") is not None else None
    then = body.get("then", "create")
    if then not in ("create", "drop"):
        raise ControlError(400, 'then must be "create" or "drop"')
    if status is None and not hang and not latency:
        raise ControlError(400, "a fault needs status, hang_seconds or latency_ms")
    probability = body.get("probability")
    if probability is not None and (
        not isinstance(probability, int | float) or isinstance(probability, bool) or not 0 < probability <= 1
    ):
        raise ControlError(400, "probability must be a number in (0, 1], or null for every call")
    name = body.get("name")
    if name is not None and not isinstance(name, str):
        raise ControlError(400, "name must be a string")
    return Fault(
        method=method.upper(),
        path=path,
        remaining=count,
        status=status,
        body=body.get("body"),
        hang_seconds=hang,
        then=then,
        latency_ms=latency,
        probability=float(probability) if probability is not None else None,
        name=name,
    )


async def c_injected(request: web.Request) -> web.Response:
    return send({"injected": dict(world(request).injected)})


async def c_knobs(request: web.Request) -> web.Response:
    w = world(request)
    if request.method == "POST":
        w.knobs.update(await _control_body(request))
    return send({"knobs": w.knobs.to_json()})


async def c_esim_action(request: web.Request) -> web.Response:
    w = world(request)
    e = w.esim_action(request.match_info["key"], request.match_info["action"], await _control_body(request))
    return send(w.esim_json(e))


async def c_refunds(request: web.Request) -> web.Response:
    return send({"refunds": [r.to_json() for r in world(request).refunds.values()]})


async def c_refund_action(request: web.Request) -> web.Response:
    w = world(request)
    r = w.refund_action(
        request.match_info["refund_id"], request.match_info["action"], await _control_body(request)
    )
    return send(r.to_json())


async def c_webhook(request: web.Request) -> web.Response:
    w = world(request)
    if request.method == "POST":
        body = await _control_body(request)
        url, secret = body.get("url"), body.get("secret", w.webhook_secret)
        if url is not None and not (isinstance(url, str) and url.startswith("http")):
            raise ControlError(400, "url must be an http(s) URL or null")
        if not isinstance(secret, str):
            raise ControlError(400, "secret must be a string")
        w.webhook_url, w.webhook_secret = url, secret
    return send({"url": w.webhook_url, "secret": w.webhook_secret})


async def c_webhooks(request: web.Request) -> web.Response:
    return send({"deliveries": request.app[RUNTIME].webhooks.deliveries})


async def c_token(request: web.Request) -> web.Response:
    token = (await _control_body(request)).get("token")
    if not isinstance(token, str) or not token:
        raise ControlError(400, "token must be a non-empty string")
    world(request).token = token
    return send({"status": "ok"})


async def c_package(request: web.Request) -> web.Response:
    w, pid = world(request), request.match_info["package_id"]
    try:
        if request.method == "DELETE":
            w.catalog.remove_package(pid)
            return send({"status": "ok"})
        return send(w.catalog.update_package(pid, await _control_body(request)))
    except CatalogError as exc:
        raise ControlError(404 if "not found" in str(exc) else 400, str(exc)) from None


async def c_add_package(request: web.Request) -> web.Response:
    body = await _control_body(request)
    group_id, package = body.get("groupId"), body.get("package")
    if not isinstance(group_id, str) or not isinstance(package, dict):
        raise ControlError(400, "groupId (string) and package (object) are required")
    try:
        return send(world(request).catalog.add_package(group_id, dict(package)))
    except CatalogError as exc:
        raise ControlError(404 if "not found" in str(exc) else 400, str(exc)) from None


async def c_special(request: web.Request) -> web.Response:
    cat = world(request).catalog
    return send(
        {
            **cat.special,
            "noTopUp": sorted(cat.no_topup),
            "packageCount": cat.package_count(),
            "groupCount": sum(1 for _ in cat.visible()),
        }
    )


# -- assembly -------------------------------------------------------------------------------


def create_app(
    config: Config, *, webhook_retry_delays: tuple[float, ...] = (0.5, 1.0, 2.0), tick_interval: float = 1.0
) -> web.Application:
    app = web.Application(middlewares=[middleware], client_max_size=2 * 1024 * 1024)
    runtime = Runtime.create(config, WebhookSender(retry_delays=webhook_retry_delays))
    app[RUNTIME] = runtime

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        await runtime.webhooks.start()

        async def ticker() -> None:
            # Not needed for correctness (reads tick lazily); it lets time-driven
            # webhooks (expiry, slow instant orders) go out without a request.
            while True:
                await asyncio.sleep(tick_interval)
                runtime.world.tick()

        async def warm() -> None:
            # Serialise the pristine groups (shared by every reset copy) one per loop
            # turn, so the first full catalog page-through doesn't pay for it.
            for g in list(runtime.world.catalog.groups):
                g.render()
                await asyncio.sleep(0)

        tasks = [asyncio.create_task(ticker()), asyncio.create_task(warm())]
        yield
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await runtime.webhooks.close()

    app.cleanup_ctx.append(lifecycle)
    r = app.router
    api: list[tuple[str, str, Handler]] = [
        ("GET", "/api/health", health),
        ("GET", "/api/esim/countries", countries),
        ("GET", "/api/esim/packages", packages),
        ("GET", "/api/compatible-devices", devices),
        ("GET", "/api/balance", balance),
        ("GET", "/api/currencies", currencies),
        ("GET", "/api/rates", rates),
        ("POST", "/api/esim/order", create_order),
        ("POST", "/api/esim/order/topup", topup_order),
        ("POST", "/api/esim/order/instant", instant_order),
        ("GET", "/api/esim/order", get_order),
        ("GET", "/api/esim/orders", list_orders),
        ("POST", "/api/esim/apply", apply),
        ("GET", "/api/esim", get_esim),
        ("GET", "/api/esims", list_esims),
        ("GET", "/api/esim/usage", usage),
        ("GET", "/api/esim/usage/details", usage_details),
        ("GET", "/api/esim/topup/packages", topup_packages),
        ("GET", "/api/esim/history", history),
        ("GET", "/api/esim/events", events),
        ("POST", "/api/esim/link", link),
        ("POST", "/api/refund", refund_create),
        ("POST", "/api/refund/bulk", refund_bulk),
        ("GET", "/api/refund", refund_get),
        ("GET", "/api/refunds", refund_list),
        ("POST", "/api/refund/cancel", refund_cancel),
        ("GET", "/qr/{esim_id}.png", qr),
        ("GET", "/images/flags/{slug}.png", flag),
        ("GET", "/link/{key}", link_page),
        ("GET", "/_control/health", c_health),
        ("POST", "/_control/reset", c_reset),
        ("GET", "/_control/ledger", c_ledger),
        ("GET", "/_control/balance", c_balance),
        ("POST", "/_control/balance", c_balance),
        ("GET", "/_control/rates", c_rates),
        ("POST", "/_control/rates", c_rates),
        ("GET", "/_control/clock", c_clock),
        ("POST", "/_control/clock", c_clock),
        ("GET", "/_control/faults", c_faults),
        ("POST", "/_control/faults", c_faults),
        ("DELETE", "/_control/faults", c_faults),
        ("GET", "/_control/injected", c_injected),
        ("GET", "/_control/knobs", c_knobs),
        ("POST", "/_control/knobs", c_knobs),
        ("POST", "/_control/esims/{key}/{action}", c_esim_action),
        ("GET", "/_control/refunds", c_refunds),
        ("POST", "/_control/refunds/{refund_id}/{action}", c_refund_action),
        ("GET", "/_control/webhook", c_webhook),
        ("POST", "/_control/webhook", c_webhook),
        ("GET", "/_control/webhooks", c_webhooks),
        ("POST", "/_control/token", c_token),
        ("GET", "/_control/catalog/special", c_special),
        ("POST", "/_control/catalog/packages", c_add_package),
        ("POST", "/_control/catalog/packages/{package_id}", c_package),
        ("DELETE", "/_control/catalog/packages/{package_id}", c_package),
    ]
    for method, path, handler in api:
        r.add_route(method, path, handler)
    return app
