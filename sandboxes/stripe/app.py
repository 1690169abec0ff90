"""The aiohttp front: our Checkout/events/refund additions, then a proxy to localstripe."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from aiohttp import web

from .checkout import format_amount, parse_create
from .child import LocalStripeProcess
from .errors import StripeError, json_response, new_id, no_such, unknown
from .events import Chaos, EventBus
from .forms import FormError, canonical, parse_body, parse_query
from .listing import paginate
from .pages import challenge_page, payment_page, status_page
from .payments import CardInput, PayOutcome, authenticate, not_open_message, pay
from .state import Config, Sandbox, StoredResponse
from .upstream import LocalStripeClient

log = logging.getLogger("sandboxes.stripe")

SANDBOX = web.AppKey("sandbox", Sandbox)
PROCESS = web.AppKey("localstripe_process", LocalStripeProcess)
BUSINESS = web.AppKey("business_name", str)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Params localstripe answers "400 Unexpected ..." to: kept by us, not sent on.
PI_CREATE_DROP = (
    "receipt_email", "description", "automatic_payment_methods", "return_url",
    "statement_descriptor", "statement_descriptor_suffix", "setup_future_usage",
)  # fmt: skip
PI_CONFIRM_DROP = (
    "return_url", "receipt_email", "setup_future_usage", "use_stripe_sdk", "mandate_data",
    "payment_method_options", "off_session", "error_on_requires_action",
)  # fmt: skip
PI_UPDATE_DROP = (
    "receipt_email", "description", "statement_descriptor", "statement_descriptor_suffix",
    "setup_future_usage",
)  # fmt: skip
REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")


def _sb(request: web.Request) -> Sandbox:
    return request.app[SANDBOX]


# --- middlewares -----------------------------------------------------------


@web.middleware
async def request_id_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    request["request_id"] = new_id("req_", 14)
    response = await handler(request)
    response.headers.setdefault("Request-Id", request["request_id"])
    return response


@web.middleware
async def idempotency_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Same Idempotency-Key: replay the stored answer; other params: `idempotency_error`."""
    key = request.headers.get("Idempotency-Key")
    if request.method != "POST" or not request.path.startswith("/v1/") or not key:
        return await handler(request)
    sb = _sb(request)
    body = await request.read()  # aiohttp caches it for the handler
    try:
        params: Any = parse_body(body, request.content_type)
    except (FormError, ValueError):
        params = body.decode("utf-8", "replace")
    fingerprint = canonical({"method": request.method, "path": request.path, "params": params})
    lock = sb.idempotency.lock(key)
    try:
        async with lock:  # a concurrent retry waits for the first, then replays it
            stored = sb.idempotency.get(key)
            if stored is not None:
                if stored.fingerprint != fingerprint:
                    return StripeError(
                        "Keys for idempotent requests can only be used with the same parameters "
                        "they were first used with. Try using a key other than "
                        f"'{key}' if you meant to execute a different request.",
                        type="idempotency_error",
                    ).response()
                return web.Response(
                    body=stored.body,
                    status=stored.status,
                    content_type=stored.content_type,
                    headers={"Idempotent-Replayed": "true", "Original-Request": stored.request_id},
                )
            response = await handler(request)
            # Like Stripe, keep only results of requests that ran: successes and
            # card errors, not validation errors (a corrected retry may reuse the key).
            ok = 200 <= response.status < 300 or response.status == 402
            if ok and isinstance(response, web.Response) and isinstance(response.body, bytes):
                sb.idempotency.put(
                    key,
                    StoredResponse(
                        fingerprint,
                        response.status,
                        response.body,
                        response.content_type,
                        request["request_id"],
                    ),
                )
            return response
    finally:
        sb.idempotency.release(key)


FAULT_MODES = ("before", "after")


@web.middleware
async def fault_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Asked faults on `POST <path>`, outside idempotency: "before" answers a 500 without running
    the request (nothing done, nothing kept under its key); "after" runs it (a charge is made and
    its answer kept under its key, as Stripe would) and then answers a 500 instead, so the caller
    never heard: a retry with the same key gets the first answer back."""
    faults = _sb(request).faults
    fault = faults.get(request.path) if request.method == "POST" else None
    if fault is None:
        return await handler(request)
    mode, fault[1] = fault[0], fault[1] - 1
    if fault[1] <= 0:
        del faults[request.path]
    if mode == "after":
        await handler(request)
    error = StripeError("An unknown error occurred (sandbox fault).", status=500, type="api_error")
    response = error.response()
    response.headers["Stripe-Should-Retry"] = "false"  # the library's own retries stay out of it
    return response


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except StripeError as exc:
        return exc.response()
    except FormError as exc:
        return StripeError(str(exc)).response()
    except json.JSONDecodeError:
        return StripeError("Invalid JSON body.").response()
    except web.HTTPException:
        raise  # redirects and aiohttp's own 404/405
    except Exception:
        # Stripe answers `api_error` 500s; say so instead of a bare traceback page.
        log.exception("unhandled error on %s %s", request.method, request.path)
        return StripeError(
            "An unexpected error occurred in the Stripe sandbox; see its log.",
            status=500,
            type="api_error",
        ).response()


# --- helpers ---------------------------------------------------------------


def require_api_key(request: web.Request) -> str:
    """Any `sk_...` key works, as in localstripe; none at all is a 401 like Stripe's."""
    auth = request.headers.get("Authorization", "")
    key = ""
    if auth.startswith("Bearer "):
        key = auth[7:].strip()
    elif auth.startswith("Basic "):
        with contextlib.suppress(ValueError):
            key = base64.b64decode(auth[6:]).decode().split(":")[0]
    if not key:
        raise StripeError(
            "You did not provide an API key. You need to provide your API key in the "
            "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
            status=401,
        )
    if not key.startswith("sk_") or len(key) <= 5:
        raise StripeError(f"Invalid API Key provided: {key[:12]}***", status=401)
    return key


async def read_params(request: web.Request) -> dict[str, Any]:
    if request.method == "GET":
        return parse_query(request.query_string)
    return parse_body(await request.read(), request.content_type)


def expand_list(params: dict[str, Any]) -> list[str]:
    raw = params.get("expand") or []
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
        raise StripeError("Invalid array", param="expand")
    return raw


def check_session_expand(expand: list[str]) -> None:
    for path in expand:
        head, _, rest = path.partition(".")
        if head not in ("line_items", "payment_intent") or (rest and rest != "latest_charge"):
            raise StripeError(f"This property cannot be expanded ({path}).", param="expand")


def _request_info(request: web.Request) -> dict[str, str | None]:
    return {
        "request_id": request["request_id"],
        "idempotency_key": request.headers.get("Idempotency-Key"),
    }


# --- Checkout Sessions -----------------------------------------------------


async def create_session(request: web.Request) -> web.Response:
    require_api_key(request)
    sb = _sb(request)
    params = await read_params(request)
    expand = expand_list(params)
    check_session_expand(expand)
    session = parse_create(params)
    if session.customer:
        await _fetch(sb, f"/v1/customers/{session.customer}", "customer", session.customer, "customer")
    sb.sessions[session.id] = session
    log.info("session %s created: %s %s", session.id, session.amount_total, session.currency)
    return json_response(await sb.session_json(session, expand))


async def retrieve_session(request: web.Request) -> web.Response:
    require_api_key(request)
    sb = _sb(request)
    params = await read_params(request)
    expand = expand_list(params)
    check_session_expand(expand)
    session = sb.get_session(request.match_info["id"])
    await sb.check_expiry(session)
    return json_response(await sb.session_json(session, expand))


_LIST_FILTERS = {
    "payment_intent", "status", "customer_details", "limit", "starting_after", "ending_before",
    "expand", "created", "customer", "payment_link", "subscription",
}  # fmt: skip


async def list_sessions(request: web.Request) -> web.Response:
    require_api_key(request)
    sb = _sb(request)
    params = await read_params(request)
    for k in params:
        if k not in _LIST_FILTERS:
            raise unknown(k)
    expand = expand_list(params)
    inner = [p[5:] for p in expand if p.startswith("data.")]
    check_session_expand(inner)
    sessions = list(reversed(sb.sessions.values()))
    for s in sessions:
        await sb.check_expiry(s)
    if params.get("payment_intent"):
        sessions = [s for s in sessions if s.payment_intent == params["payment_intent"]]
    if params.get("status"):
        sessions = [s for s in sessions if s.status == params["status"]]
    email = (
        (params.get("customer_details") or {}).get("email")
        if isinstance(params.get("customer_details"), dict)
        else None
    )
    if email:
        sessions = [s for s in sessions if (s.customer_details or {}).get("email") == email]
    for k in ("customer", "payment_link", "subscription"):
        if params.get(k):
            sessions = []  # we never set these
    page = paginate([{"id": s.id} for s in sessions], params, "/v1/checkout/sessions")
    by_id = {s.id: s for s in sessions}
    page["data"] = [await sb.session_json(by_id[d["id"]], inner) for d in page["data"]]
    return json_response(page)


async def session_line_items(request: web.Request) -> web.Response:
    require_api_key(request)
    sb = _sb(request)
    session = sb.get_session(request.match_info["id"])
    params = await read_params(request)
    return json_response(
        paginate(session.line_items_list(), params, f"/v1/checkout/sessions/{session.id}/line_items")
    )


async def expire_session(request: web.Request) -> web.Response:
    require_api_key(request)
    sb = _sb(request)
    params = await read_params(request)
    expand = expand_list(params)
    check_session_expand(expand)
    session = sb.get_session(request.match_info["id"])
    async with sb.lock(session.id):
        await sb.expire_if_due(session)
        if session.status != "open":
            raise StripeError(
                f'Only Checkout Sessions with a status in ["open"] can be expired. This '
                f"session has status '{session.status}'."
            )
        await sb.expire(session, **_request_info(request))
    return json_response(await sb.session_json(session, expand))


# --- events ----------------------------------------------------------------


async def list_events(request: web.Request) -> web.Response:
    require_api_key(request)
    params = await read_params(request)
    events = _sb(request).bus.list_events(params)
    return json_response(paginate(events, params, "/v1/events"))


async def retrieve_event(request: web.Request) -> web.StreamResponse:
    require_api_key(request)
    record = _sb(request).bus.records.get(request.match_info["id"])
    if record is None:
        return await proxy(request)  # maybe one of localstripe's own events
    return json_response(record.event)


# --- refunds and PaymentIntents (limits and parameters localstripe lacks) ---


async def _fetch(sb: Sandbox, path: str, kind: str, id_: str, param: str) -> dict[str, Any]:
    reply = await sb.ls.get(path)
    if reply.status == 404:
        raise no_such(kind, id_, param)
    if reply.status != 200:
        raise StripeError(f"localstripe answered {reply.status} for {path}", status=502)
    return reply.data


async def create_refund(request: web.Request) -> web.Response:
    require_api_key(request)
    sb = _sb(request)
    params = await read_params(request)
    allowed = {"payment_intent", "charge", "amount", "reason", "metadata", "expand",
               "instructions_email", "refund_application_fee", "reverse_transfer"}  # fmt: skip
    for k in params:
        if k not in allowed:
            raise unknown(k)
    expand = expand_list(params)
    reason = params.get("reason") or None
    if reason is not None and reason not in REFUND_REASONS:
        raise StripeError(f"Invalid reason: must be one of {', '.join(REFUND_REASONS)}", param="reason")
    pi_id, charge_id = params.get("payment_intent"), params.get("charge")
    if not pi_id and not charge_id:
        raise StripeError(
            "One of the following params should be provided for this request: payment_intent or charge.",
        )
    if pi_id:
        pi = await _fetch(sb, f"/v1/payment_intents/{pi_id}", "payment_intent", pi_id, "payment_intent")
        latest = pi.get("latest_charge")
        latest_id = latest.get("id") if isinstance(latest, dict) else latest
        if not latest_id or pi.get("status") not in ("succeeded", "requires_capture"):
            raise StripeError(
                f"This PaymentIntent ({pi_id}) does not have a successful charge to refund.",
                param="payment_intent",
                code="charge_not_refundable" if latest_id else None,
            )
        if charge_id and charge_id != latest_id:
            raise StripeError(
                f"The charge {charge_id} does not belong to PaymentIntent {pi_id}.", param="charge"
            )
        charge_id = latest_id

    async with sb.lock(f"refund:{charge_id}"):  # check-then-refund must not interleave
        charge = await _fetch(sb, f"/v1/charges/{charge_id}", "charge", charge_id, "charge")
        if charge.get("status") != "succeeded":
            raise StripeError(
                f"Charge {charge_id} has not succeeded and cannot be refunded.",
                param="charge",
                code="charge_not_refundable",
            )
        before = int(charge.get("amount_refunded") or 0)
        remaining = int(charge["amount"]) - before
        if remaining <= 0:
            raise StripeError(
                f"Charge {charge_id} has already been refunded.", code="charge_already_refunded"
            )
        amount = remaining
        if params.get("amount") not in (None, ""):
            try:
                amount = int(params["amount"])
            except (TypeError, ValueError):
                raise StripeError(
                    f"Invalid integer: {params['amount']}",
                    param="amount",
                    code="parameter_invalid_integer",
                ) from None
            if amount <= 0:
                raise StripeError(
                    "Invalid positive integer", param="amount", code="parameter_invalid_integer"
                )
            if amount > remaining:
                cur = charge.get("currency", "usd")
                raise StripeError(
                    f"Refund amount ({format_amount(amount, cur)}) is greater than unrefunded "
                    f"amount on charge ({format_amount(remaining, cur)})",
                    param="amount",
                    code="amount_too_large",
                )
        ls_params: dict[str, Any] = {"amount": amount, "metadata": params.get("metadata") or {}}
        # Via the PaymentIntent when we can, so the refund's payment_intent is set as on Stripe.
        if charge.get("payment_intent"):
            ls_params["payment_intent"] = charge["payment_intent"]
        else:
            ls_params["charge"] = charge_id
        reply = await sb.ls.post("/v1/refunds", ls_params)
        if reply.status != 200:
            return _relay(sb, reply, [])
        refund = reply.data
        sb.remember(refund["id"], {"reason": reason})
        after = await _fetch(sb, f"/v1/charges/{charge_id}", "charge", charge_id, "charge")
        after = sb.patch(after, [])
        sb.bus.emit(
            "charge.refunded",
            after,
            previous_attributes={
                "amount_refunded": before,
                "refunded": False,
            },
            **_request_info(request),
        )
    return json_response(sb.patch(refund, expand))


async def create_payment_intent(request: web.Request) -> web.Response:
    require_api_key(request)
    sb = _sb(request)
    params = await read_params(request)
    kept = {k: params.pop(k) for k in PI_CREATE_DROP if k in params}
    kept.pop("return_url", None)  # not a PaymentIntent field
    apm = kept.get("automatic_payment_methods")
    if isinstance(apm, dict):
        apm["enabled"] = str(apm.get("enabled", "")).lower() == "true"
        apm.setdefault("allow_redirects", "always")
    expand = expand_list(params)
    if _true(params.get("off_session")) and _true(params.get("confirm")):
        return await off_session_intent(sb, params, kept, expand)
    reply = await sb.ls.post("/v1/payment_intents", params)
    if reply.status == 200:
        sb.remember(reply.data["id"], kept)
    return _relay(sb, reply, expand)


def _true(value: Any) -> bool:
    return str(value).lower() == "true"


# Stripe's test cards that ask the bank again on every payment, off session too (localstripe asks
# for 3D Secure on all its authentication cards: the others pass off session once set up).
ALWAYS_AUTHENTICATE = frozenset({"4000002760003184", "4000008260003178", "4000008400001629"})
AUTHENTICATION_REQUIRED = "Your card was declined. This transaction requires authentication."


async def off_session_intent(sb: Sandbox, params: dict[str, Any], kept: dict[str, Any], expand: list[str]):
    """A saved card charged with its owner away, as Stripe answers it: succeeded, or a 402
    `card_error` (`card_declined`, or `authentication_required` when the bank wants its owner) that
    carries the PaymentIntent. localstripe takes no `off_session`: it is emulated here."""
    customer, pm_id = params.get("customer"), params.get("payment_method")
    if not customer:
        raise StripeError("A customer is required for an off-session payment.", param="customer")
    if not pm_id:
        raise StripeError("A payment_method is required for an off-session payment.", param="payment_method")
    method = await _fetch(sb, f"/v1/payment_methods/{pm_id}", "payment_method", pm_id, "payment_method")
    if method.get("customer") != customer:
        raise StripeError(
            f"The provided PaymentMethod {pm_id} does not belong to the Customer {customer}.",
            param="payment_method",
        )
    create = {k: v for k, v in params.items() if k not in ("off_session", "confirm", "expand")}
    created = await sb.ls.post("/v1/payment_intents", create)
    if created.status != 200:
        return _relay(sb, created, [])
    pi_id, secret = created.data["id"], created.data["client_secret"]
    sb.remember(pi_id, kept)
    reply = await sb.ls.post(f"/v1/payment_intents/{pi_id}/confirm")
    if reply.status == 402:  # declined: the error names the PaymentIntent, as Stripe's does
        intent = await sb.ls.get(f"/v1/payment_intents/{pi_id}")
        err = (reply.data or {}).get("error", {})
        raise StripeError(
            err.get("message") or "Your card was declined.",
            status=402,
            type="card_error",
            code=err.get("code") or "card_declined",
            extra={
                "decline_code": err.get("decline_code") or "generic_decline",
                "payment_intent": sb.patch(intent.data, []) if intent.data else None,
            },
        )
    if reply.status != 200:
        return _relay(sb, reply, expand)
    if reply.data.get("status") == "requires_action":
        number = sb.card_numbers.get(pm_id, "")
        if pm_id in sb.set_up and number not in ALWAYS_AUTHENTICATE:
            # Saved with setup_future_usage=off_session: Stripe does not ask the bank again.
            reply = await sb.ls.post(
                f"/v1/payment_intents/{pi_id}/_authenticate", {"client_secret": secret, "success": "true"}
            )
            return _relay(sb, reply, expand)
        intent = sb.patch(reply.data, [])
        raise StripeError(
            AUTHENTICATION_REQUIRED,
            status=402,
            type="card_error",
            code="authentication_required",
            extra={"decline_code": "authentication_required", "payment_intent": intent},
        )
    return _relay(sb, reply, expand)


async def confirm_payment_intent(request: web.Request) -> web.Response:
    require_api_key(request)
    sb = _sb(request)
    pi_id = request.match_info["id"]
    params = await read_params(request)
    for k in PI_CONFIRM_DROP:
        params.pop(k, None)
    expand = expand_list(params)
    pm = params.pop("payment_method", None)
    if pm:
        # localstripe answers 500 "Not implemented" to confirm(payment_method=...):
        # set it with an update first, then confirm without it.
        upd = await sb.ls.post(f"/v1/payment_intents/{pi_id}", {"payment_method": pm})
        if upd.status != 200:
            return _relay(sb, upd, [])
    reply = await sb.ls.post(f"/v1/payment_intents/{pi_id}/confirm", params)
    return _relay(sb, reply, expand)


async def update_payment_intent(request: web.Request) -> web.Response:
    require_api_key(request)
    sb = _sb(request)
    pi_id = request.match_info["id"]
    params = await read_params(request)
    kept = {k: params.pop(k) for k in PI_UPDATE_DROP if k in params}
    expand = expand_list(params)
    rest = {k: v for k, v in params.items() if k != "expand"}
    if rest:
        reply = await sb.ls.post(f"/v1/payment_intents/{pi_id}", params)
    else:  # localstripe says 400 to an empty update
        reply = await sb.ls.get(f"/v1/payment_intents/{pi_id}")
    if reply.status == 200:
        sb.remember(pi_id, kept)
    return _relay(sb, reply, expand)


def _relay(sb: Sandbox, reply: Any, expand: list[str]) -> web.Response:
    if reply.data is not None:
        return json_response(sb.patch(reply.data, expand), status=reply.status)
    return web.Response(body=reply.body, status=reply.status, content_type="application/json")


async def proxy(request: web.Request) -> web.StreamResponse:
    """Everything else goes to localstripe as is (its own auth check applies)."""
    sb = _sb(request)
    body = await request.read()
    headers = {
        k: request.headers[k] for k in ("Authorization", "Content-Type", "Accept") if k in request.headers
    }
    reply = await sb.ls.request(
        request.method,
        request.path,
        raw_query=request.query_string,
        raw_body=body or None,
        headers=headers,
        auth=False,
    )
    if reply.data is not None and request.path.startswith("/v1/"):
        try:
            params = await read_params(request)
            expand = expand_list(params)
        except (StripeError, FormError, ValueError):
            expand = []
        return json_response(sb.patch(reply.data, expand), status=reply.status)
    ctype = reply.content_type.split(";")[0] or "application/octet-stream"
    return web.Response(body=reply.body, status=reply.status, content_type=ctype)


# --- hosted page -----------------------------------------------------------


def _html(text: str, status: int = 200) -> web.Response:
    return web.Response(
        text=text,
        status=status,
        content_type="text/html",
        headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY"},
    )


async def _page_session(request: web.Request) -> Any:
    sb = _sb(request)
    session = sb.sessions.get(request.match_info["id"])
    if session is not None:
        await sb.check_expiry(session)
    return session


def _closed_page(request: web.Request, session: Any) -> web.Response:
    business = request.app[BUSINESS]
    if session is None:
        return _html(
            status_page(
                "Page not found",
                "This checkout page does not exist. Check the link and try again.",
                None,
                business=business,
            ),
            404,
        )
    if session.status == "complete":
        return _html(
            status_page(
                "Payment complete",
                "Thanks! This payment has already been made. You can close this page.",
                session,
                business=business,
                ok=True,
            )
        )
    return _html(
        status_page(
            "This checkout session has expired",
            "The time to pay has run out. Go back to the shop to start again.",
            session,
            business=business,
        ),
        410,
    )


async def show_page(request: web.Request) -> web.Response:
    session = await _page_session(request)
    if session is None or session.status != "open":
        return _closed_page(request, session)
    business = request.app[BUSINESS]
    if session.pending_action:
        return _html(challenge_page(session, business=business))
    return _html(payment_page(session, business=business))


def _form_outcome(
    request: web.Request, session: Any, outcome: PayOutcome, values: dict[str, str]
) -> web.Response:
    business = request.app[BUSINESS]
    if outcome.outcome == "paid":
        raise web.HTTPSeeOther(session.success_redirect())
    if outcome.outcome == "requires_action":
        return _html(challenge_page(session, business=business))
    if outcome.outcome == "not_open":
        return _closed_page(request, session)
    if outcome.outcome == "invalid":
        errors = {("cardnumber" if k == "number" else k): v for k, v in outcome.errors.items()}
        if not errors:  # e.g. "nothing to authenticate": just show the form again
            raise web.HTTPSeeOther(f"/pay/{session.id}")
        return _html(payment_page(session, business=business, values=values, errors=errors), 400)
    return _html(
        payment_page(session, business=business, values=values, alert=outcome.message),
        402,
    )


async def submit_page(request: web.Request) -> web.Response:
    session = await _page_session(request)
    if session is None:
        return _closed_page(request, session)
    form = await request.post()
    values = {k: str(form.get(k, "")) for k in ("email", "cardnumber", "exp", "name")}
    card = CardInput(
        number=values["cardnumber"],
        exp=values["exp"],
        cvc=str(form.get("cvc", "")),
        name=values["name"],
        email=values["email"],
    )
    outcome = await pay(_sb(request), session, card)
    return _form_outcome(request, session, outcome, values)


async def authenticate_page(request: web.Request) -> web.Response:
    session = await _page_session(request)
    if session is None:
        return _closed_page(request, session)
    form = await request.post()
    pending = session.pending_action or {}
    values = {"email": pending.get("email", ""), "name": pending.get("name", "")}
    outcome = await authenticate(_sb(request), session, form.get("action") == "complete")
    return _form_outcome(request, session, outcome, values)


# --- control API -----------------------------------------------------------


@web.middleware
async def loopback_only(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith("/_control/") and request.remote not in ("127.0.0.1", "::1"):
        return json_response({"error": "control API is loopback only"}, status=403)
    return await handler(request)


async def _json_body(request: web.Request) -> dict[str, Any]:
    if not (await request.read()).strip():
        return {}
    data = await request.json()
    if not isinstance(data, dict):
        raise StripeError("JSON object expected")
    return data


async def control_health(request: web.Request) -> web.Response:
    sb = _sb(request)
    proc = request.app[PROCESS]
    alive = proc.alive()
    return json_response(
        {
            "status": "ok" if alive else "localstripe is down",
            "public_url": sb.public_url,
            "localstripe": {"url": proc.url, "pid": proc.pid, "alive": alive},
            "sessions": len(sb.sessions),
            "events": len(sb.bus.records),
            "webhooks": [ep.to_dict() for ep in sb.bus.endpoints.values()],
        },
        status=200 if alive else 503,
    )


async def control_reset(request: web.Request) -> web.Response:
    await _sb(request).reset()
    return json_response({"reset": True})


async def control_webhooks(request: web.Request) -> web.Response:
    bus = _sb(request).bus
    if request.method == "POST":
        data = await _json_body(request)
        url, secret = data.get("url"), data.get("secret")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise StripeError("`url` must be an http(s) URL", param="url")
        if not isinstance(secret, str) or not secret:
            raise StripeError("`secret` is required", param="secret")
        events = data.get("events")
        if events is not None and not (isinstance(events, list) and all(isinstance(e, str) for e in events)):
            raise StripeError("`events` must be a list of event types", param="events")
        bus.register(url, secret, events)
    elif request.method == "DELETE":
        bus.unregister(request.query.get("url"))
    return json_response({"webhooks": [ep.to_dict() for ep in bus.endpoints.values()]})


async def control_webhook_chaos(request: web.Request) -> web.Response:
    bus = _sb(request).bus
    if request.method == "POST":
        data = await _json_body(request)
        copies, max_delay, seed = data.get("copies", 1), data.get("max_delay", 0), data.get("seed", 0)
        if not isinstance(copies, int) or isinstance(copies, bool) or not 1 <= copies <= 5:
            raise StripeError("`copies` must be an integer from 1 to 5", param="copies")
        if not isinstance(max_delay, int | float) or isinstance(max_delay, bool) or not 0 <= max_delay <= 60:
            raise StripeError("`max_delay` must be a number of seconds from 0 to 60", param="max_delay")
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise StripeError("`seed` must be an integer", param="seed")
        bus.set_chaos(Chaos(copies, float(max_delay), seed))
    return json_response({**bus.chaos.to_dict(), "counts": bus.chaos_counts})


async def control_faults(request: web.Request) -> web.Response:
    faults = _sb(request).faults
    if request.method == "POST":
        data = await _json_body(request)
        path, mode, times = data.get("path"), data.get("mode"), data.get("times", 1)
        if not isinstance(path, str) or not path.startswith("/v1/"):
            raise StripeError("`path` must be an API path such as /v1/payment_intents", param="path")
        if mode not in FAULT_MODES:
            raise StripeError("`mode` must be one of: " + ", ".join(FAULT_MODES), param="mode")
        if not isinstance(times, int) or isinstance(times, bool) or not 1 <= times <= 100:
            raise StripeError("`times` must be an integer from 1 to 100", param="times")
        faults[path] = [mode, times]
    elif request.method == "DELETE":
        faults.clear()
    return json_response({"faults": {path: {"mode": m, "times": n} for path, (m, n) in faults.items()}})


async def control_events(request: web.Request) -> web.Response:
    records = list(_sb(request).bus.records.values())
    wanted = request.query.get("type")
    if wanted:
        records = [r for r in records if r.event["type"] == wanted]
    return json_response({"data": [r.to_dict() for r in records]})


async def control_redeliver(request: web.Request) -> web.Response:
    record = _sb(request).bus.redeliver(request.match_info["id"])
    if record is None:
        raise no_such("event", request.match_info["id"])
    return json_response(record.to_dict(), status=202)


async def control_pay(request: web.Request) -> web.Response:
    sb = _sb(request)
    session = sb.get_session(request.match_info["id"])
    data = await _json_body(request)
    card = CardInput(
        number=str(data.get("card", "4242424242424242")),
        exp=str(data.get("exp", "12/34")),
        cvc=str(data.get("cvc", "123")),
        name=str(data.get("name", "Test Customer")),
        email=str(data.get("email") or session.customer_email or "customer@example.com"),
    )
    three_ds = data.get("three_d_secure")
    if three_ds not in (None, "complete", "fail"):
        raise StripeError("`three_d_secure` must be 'complete' or 'fail'", param="three_d_secure")
    outcome = await pay(sb, session, card)
    if outcome.outcome == "requires_action" and three_ds:
        outcome = await authenticate(sb, session, three_ds == "complete")
    return _control_outcome(sb, session, outcome)


async def control_authenticate(request: web.Request) -> web.Response:
    sb = _sb(request)
    session = sb.get_session(request.match_info["id"])
    data = await _json_body(request)
    outcome = await authenticate(sb, session, bool(data.get("success", True)))
    return _control_outcome(sb, session, outcome)


def _control_outcome(sb: Sandbox, session: Any, outcome: PayOutcome) -> web.Response:
    body = outcome.to_dict()
    if outcome.outcome == "not_open" and not body["message"]:
        body["message"] = not_open_message(session)
    body["redirect_url"] = session.success_redirect() if outcome.outcome == "paid" else None
    body["session"] = session.to_dict(sb.public_url)
    return json_response(body)


async def control_expires_at(request: web.Request) -> web.Response:
    """Time travel for tests: move `expires_at` (Stripe's API forbids < 30 minutes)."""
    sb = _sb(request)
    session = sb.get_session(request.match_info["id"])
    data = await _json_body(request)
    if "seconds" in data:
        session.expires_at = int(time.time() + float(data["seconds"]))
    elif "expires_at" in data:
        session.expires_at = int(data["expires_at"])
    else:
        raise StripeError("give `expires_at` (epoch seconds) or `seconds` (from now)")
    await sb.check_expiry(session)
    return json_response(session.to_dict(sb.public_url))


async def control_sessions(request: web.Request) -> web.Response:
    sb = _sb(request)
    return json_response(
        {"data": [{**s.to_dict(sb.public_url), "attempts": s.attempts} for s in sb.sessions.values()]}
    )


# --- app -----------------------------------------------------------------


def create_app(
    config: Config,
    *,
    business_name: str = "Sandbox Store",
    process: LocalStripeProcess | None = None,
) -> web.Application:
    """`process`: a localstripe child already started (by `__main__`); else we start one."""
    app = web.Application(
        middlewares=[
            request_id_middleware,
            loopback_only,
            fault_middleware,
            idempotency_middleware,
            error_middleware,
        ],
        client_max_size=4 * 1024 * 1024,
    )
    app[BUSINESS] = business_name
    app.cleanup_ctx.append(_lifecycle(config, process))

    r = app.router
    r.add_post("/v1/checkout/sessions", create_session)
    r.add_get("/v1/checkout/sessions", list_sessions)
    r.add_get("/v1/checkout/sessions/{id}", retrieve_session)
    r.add_get("/v1/checkout/sessions/{id}/line_items", session_line_items)
    r.add_post("/v1/checkout/sessions/{id}/expire", expire_session)
    r.add_get("/v1/events", list_events)
    r.add_get("/v1/events/{id}", retrieve_event)
    r.add_post("/v1/refunds", create_refund)
    r.add_post("/v1/payment_intents", create_payment_intent)
    r.add_post("/v1/payment_intents/{id}/confirm", confirm_payment_intent)
    r.add_post("/v1/payment_intents/{id}", update_payment_intent)
    r.add_route("*", "/v1/{tail:.*}", proxy)
    r.add_get("/js.stripe.com/{tail:.*}", proxy)

    r.add_get("/pay/{id}", show_page)
    r.add_post("/pay/{id}", submit_page)
    r.add_post("/pay/{id}/authenticate", authenticate_page)

    r.add_get("/_control/health", control_health)
    r.add_post("/_control/reset", control_reset)
    r.add_route("*", "/_control/webhooks", control_webhooks)
    r.add_get("/_control/events", control_events)
    r.add_get("/_control/faults", control_faults)
    r.add_post("/_control/faults", control_faults)
    r.add_delete("/_control/faults", control_faults)
    r.add_get("/_control/webhook_chaos", control_webhook_chaos)
    r.add_post("/_control/webhook_chaos", control_webhook_chaos)
    r.add_post("/_control/events/{id}/redeliver", control_redeliver)
    r.add_get("/_control/sessions", control_sessions)
    r.add_post("/_control/sessions/{id}/pay", control_pay)
    r.add_post("/_control/sessions/{id}/authenticate", control_authenticate)
    r.add_post("/_control/sessions/{id}/expires_at", control_expires_at)
    return app


def _lifecycle(
    config: Config, process: LocalStripeProcess | None
) -> Callable[[web.Application], AsyncIterator[None]]:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        proc = process or LocalStripeProcess(config.localstripe_port)
        if not proc.alive():
            proc.start()
        try:
            await proc.wait_ready()
            ls = LocalStripeClient(proc.url, config.secret_key)
            await ls.open()
            bus = EventBus(config.webhook_attempts, config.webhook_backoff)
            await bus.open()
            sb = Sandbox(config, ls, bus)
            if config.webhook_url and config.webhook_secret:
                bus.register(config.webhook_url, config.webhook_secret)
            app[SANDBOX] = sb
            app[PROCESS] = proc
            sweeper = asyncio.get_running_loop().create_task(sb.sweep_forever())
            try:
                yield
            finally:
                sweeper.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sweeper
                await bus.close()
                await ls.close()
        finally:
            proc.stop()

    return ctx
