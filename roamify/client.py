"""The Roamify partner API client: one method per endpoint, typed results.

Policy decided here, once, for every caller:
- per-call timeouts (instant order and apply are documented as slow);
- reads (GET) are retried on 5xx/429/connection trouble with exponential
  backoff and full jitter; anything that can spend money is never retried,
  because upstream has no idempotency key: after an ``UpstreamTimeout`` the
  caller looks the order up with ``find_order(reference_id)``;
- errors are mapped to the classes of ``roamify.errors``;
- JSON is turned into the frozen types of ``roamify.types`` at this boundary.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from types import TracebackType
from typing import Any, Self

import httpx

from . import __version__
from .errors import (
    AlreadyRefundedError,
    ConflictError,
    NotFoundError,
    PagingError,
    ParseError,
    RefundRequestOpenError,
    RoamifyError,
    UpstreamTimeout,
    UpstreamUnavailable,
    ValidationError,
    error_from_response,
)
from .parsing import (
    parse_balance,
    parse_country,
    parse_currency,
    parse_destination_packages,
    parse_device,
    parse_esim,
    parse_events,
    parse_history_entry,
    parse_link,
    parse_order,
    parse_package,
    parse_rates,
    parse_refund_request,
    parse_usage,
)
from .types import (
    Country,
    Currency,
    Destination,
    DestinationPackages,
    Device,
    Esim,
    EsimEvents,
    EsimLink,
    ExchangeRate,
    HistoryEntry,
    Money,
    Order,
    OrderLine,
    Package,
    RefundRequest,
    Usage,
)

logger = logging.getLogger("roamify")

__all__ = ["REFUND_PATHS", "REFUND_REASON_NOT_INSTALLED", "ItemSpec", "RoamifyClient", "backoff_delay"]

# §2.20 refund requests. The paths, the body's keys and the reasons are [ASSUMPTION]s until
# they are read on Roamify's "eSIM API - Refunds" page; they live here so one edit flips them.
REFUND_PATHS = {
    "create": "/api/refund",
    "bulk": "/api/refund/bulk",
    "get": "/api/refund",
    "list": "/api/refunds",
    "cancel": "/api/refund/cancel",
}
REFUND_REASON_NOT_INSTALLED = "NOT_INSTALLED"

# What create_order / create_instant_order accept per line.
ItemSpec = OrderLine | tuple[str, int] | str

Params = Mapping[str, str | int | float | bool | None]


def backoff_delay(attempt: int, base: float, cap: float, rand: Callable[[], float] = random.random) -> float:
    """Full-jitter exponential backoff: uniform in [0, min(cap, base * 2**attempt)].

    Full jitter spreads the retries of many workers hitting the same outage.
    """
    return rand() * min(cap, base * (2**attempt))


class RoamifyClient:
    """Synchronous client for the Roamify partner API (thread-safe like httpx.Client)."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 30.0,
        instant_order_timeout: float = 75.0,
        apply_timeout: float = 95.0,
        connect_timeout: float = 10.0,
        max_retries: int = 3,
        backoff_base: float = 0.5,
        backoff_max: float = 8.0,
        user_agent: str | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not token:
            raise ValueError("a Roamify API token is required")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        # Docs: instant >= 60 s, apply >= 90 s; a margin on top of each.
        self.instant_order_timeout = instant_order_timeout
        self.apply_timeout = apply_timeout
        self.connect_timeout = connect_timeout
        self.max_retries = max(0, max_retries)
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self._sleep: Callable[[float], None] = time.sleep  # swapped in tests
        self._http = httpx.Client(
            base_url=self.base_url,
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/json",
                "User-Agent": user_agent
                or f"esim-storefront-roamify/{__version__} httpx/{httpx.__version__}",
            },
            timeout=self._timeout(timeout),
            transport=transport,
            follow_redirects=False,
        )

    def __repr__(self) -> str:  # never show the token
        return f"RoamifyClient(base_url={self.base_url!r})"

    # ------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ------------------------------------------------------------------ transport

    def _timeout(self, seconds: float) -> httpx.Timeout:
        return httpx.Timeout(seconds, connect=min(seconds, self.connect_timeout))

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        json: Any = None,
        timeout: float | None = None,
    ) -> Any:
        """Send one call and return the unwrapped ``data`` (raw JSON).

        Public as an escape hatch for endpoints without a typed method; applies
        the same retry, timeout and error policy as everything else.
        """
        method = method.upper()
        retryable = method == "GET"  # only reads are safe to repeat
        attempts = 1 + (self.max_retries if retryable else 0)
        seconds = self.timeout if timeout is None else timeout
        clean_params = _clean_params(params)
        for attempt in range(attempts):
            started = time.monotonic()
            error: RoamifyError
            try:
                response = self._http.request(
                    method, path, params=clean_params, json=json, timeout=self._timeout(seconds)
                )
            except httpx.TimeoutException as exc:
                self._log(method, path, "timeout", started)
                error = UpstreamTimeout(f"{method} {path} timed out after {seconds:g}s")
                error.__cause__ = exc
            except httpx.TransportError as exc:
                self._log(method, path, type(exc).__name__, started)
                error = UpstreamUnavailable(f"{method} {path} failed: {exc!r}")
                error.__cause__ = exc
            except httpx.HTTPError as exc:  # e.g. invalid URL: not transient
                raise RoamifyError(f"{method} {path} failed: {exc!r}") from exc
            else:
                self._log(method, path, response.status_code, started)
                if response.is_success:
                    return _unwrap(response)
                error = error_from_response(response.status_code, _body(response), response.reason_phrase)
                if not isinstance(error, UpstreamUnavailable):
                    raise error  # 4xx and "pending processing": retrying will not help
            if attempt + 1 >= attempts:
                raise error
            delay = backoff_delay(attempt, self.backoff_base, self.backoff_max)
            logger.info(
                "roamify %s %s: %s; retry %d/%d in %.2fs",
                method,
                path,
                error,
                attempt + 1,
                self.max_retries,
                delay,
            )
            self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _log(self, method: str, path: str, status: int | str, started: float) -> None:
        logger.debug(
            "roamify %s %s -> %s in %.1f ms",
            method,
            path,
            status,
            (time.monotonic() - started) * 1000,
        )

    def _get(self, path: str, params: Params | None = None) -> Any:
        return self.request("GET", path, params=params)

    def _post(self, path: str, body: Mapping[str, Any], timeout: float | None = None) -> Any:
        return self.request("POST", path, json=dict(body), timeout=timeout)

    # ------------------------------------------------------------------ 2.1-2.5 reads

    def health(self) -> bool:
        """True when ``GET /api/health`` answers 200 (one try: it is a probe)."""
        started = time.monotonic()
        try:
            response = self._http.get("/api/health", timeout=self._timeout(min(self.timeout, 5.0)))
        except httpx.HTTPError as exc:
            self._log("GET", "/api/health", type(exc).__name__, started)
            return False
        self._log("GET", "/api/health", response.status_code, started)
        return response.status_code == 200

    def countries(self, geography: str | None = None) -> list[Country]:
        data = self._get("/api/esim/countries", {"geography": geography})
        return [parse_country(c) for c in _named_list(data, "countries")]

    def packages_page(
        self,
        page: int = 1,
        page_size: int = 50,
        *,
        country: str | None = None,
        country_code: str | None = None,
        geography: str | None = None,
        days: int | None = None,
        gbs: float | None = None,
        is_unlimited: bool | None = None,
        package_id: str | None = None,
    ) -> list[DestinationPackages]:
        """One catalog page, as upstream groups it (by destination)."""
        groups, _, _ = self._packages_page(
            page, page_size,
            country=country, country_code=country_code, geography=geography,
            days=days, gbs=gbs, is_unlimited=is_unlimited, package_id=package_id,
        )  # fmt: skip
        return groups

    def _packages_page(
        self, page: int, page_size: int, **filters: Any
    ) -> tuple[list[DestinationPackages], int, int]:
        params: dict[str, Any] = {
            "page": page,
            "pageSize": page_size,
            "country": filters.get("country"),
            "countryCode": filters.get("country_code"),
            "geography": filters.get("geography"),
            "days": filters.get("days"),
            "gbs": filters.get("gbs"),
            "isUnlimited": filters.get("is_unlimited"),
            "packageId": filters.get("package_id"),
        }
        data = self._get("/api/esim/packages", params)
        raw_groups = [g for g in _named_list(data, "packages") if isinstance(g, Mapping)]
        raw_package_count = sum(len(g["packages"]) for g in raw_groups if isinstance(g.get("packages"), list))
        groups = [parse_destination_packages(g) for g in raw_groups]
        return groups, len(raw_groups), raw_package_count

    def iter_packages(
        self,
        *,
        page_size: int = 100,
        max_pages: int = 1000,
        country: str | None = None,
        country_code: str | None = None,
        geography: str | None = None,
        days: int | None = None,
        gbs: float | None = None,
        is_unlimited: bool | None = None,
    ) -> Iterator[Package]:
        """Every catalog package once (by packageId), each carrying its destination.

        Works whether upstream pages destination groups or single packages: a
        page counts as full if it holds ``page_size`` groups *or* packages, and
        paging stops at the first page that is neither. A page beyond the end
        answered with 404 also ends it. Raises ``PagingError`` at the hard cap,
        so a sync never mistakes a truncated catalog for a complete one.
        """
        seen: set[str] = set()
        for page in range(1, max_pages + 1):
            try:
                groups, n_groups, n_packages = self._packages_page(
                    page, page_size,
                    country=country, country_code=country_code, geography=geography,
                    days=days, gbs=gbs, is_unlimited=is_unlimited,
                )  # fmt: skip
            except NotFoundError:
                if page == 1:
                    raise
                return
            new = 0
            for group in groups:
                for package in group.packages:
                    if package.package_id not in seen:
                        seen.add(package.package_id)
                        new += 1
                        yield package
            if n_groups < page_size and n_packages < page_size:
                return  # short page: the documented stop rule
            if new == 0:
                # A full page of nothing new: upstream ignores `page`; more requests won't help.
                logger.warning("roamify: package page %d repeated earlier pages; stopping", page)
                return
        raise PagingError(
            f"package catalog not exhausted after {max_pages} pages of {page_size}; {len(seen)} packages read"
        )

    def all_packages(self, **kwargs: Any) -> list[DestinationPackages]:
        """The whole catalog grouped by destination, groups split across pages merged.

        Takes the keyword arguments of ``iter_packages``.
        """
        order: dict[str, Destination] = {}
        packages: dict[str, list[Package]] = {}
        for package in self.iter_packages(**kwargs):
            destination = package.destination
            # Narrows the type: the catalog endpoint always sends a destination.
            assert destination is not None  # noqa: S101
            if destination.id not in order:
                order[destination.id] = destination
                packages[destination.id] = []
            packages[destination.id].append(package)
        return [DestinationPackages(order[k], tuple(packages[k])) for k in order]

    def compatible_devices(self) -> list[Device]:
        data = self._get("/api/compatible-devices")
        return [parse_device(d) for d in _named_list(data, "devices") if isinstance(d, Mapping)]

    def balance(self) -> Money:
        return parse_balance(_object(self._get("/api/balance"), "balance"))

    # ------------------------------------------------------------------ exchange rates module
    # Documented: GET /api/currencies (no parameters) and GET /api/rates (source, target,
    # datetime | from, to, interval). The answers' shapes are not on the public pages: the
    # parsers read the plausible ones (docs/roamify-exchange-rates.md says which we assumed).

    def currencies(self) -> list[Currency]:
        """Every currency the exchange rates module supports."""
        data = self._get("/api/currencies")
        found = (parse_currency(c) for c in _named_list(data, "currencies"))
        return [c for c in found if c is not None]

    def exchange_rates(self, source: str) -> list[ExchangeRate]:
        """The latest rate from `source` to every supported currency, in one call."""
        return parse_rates(self._get("/api/rates", {"source": source.upper()}), source.upper())

    def exchange_rate(self, source: str, target: str, at: dt.datetime | None = None) -> ExchangeRate:
        """One pair's rate: the latest, or the one at `at`."""
        params = {"source": source.upper(), "target": target.upper()}
        if at is not None:
            params["datetime"] = at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        data = self._get("/api/rates", params)
        found = [r for r in parse_rates(data, source.upper()) if r.target == target.upper()]
        if not found:
            raise ParseError(f"no {source}->{target} rate in the answer", body=data)
        return found[0]

    # ------------------------------------------------------------------ 2.6-2.10 orders

    def create_order(self, items: Iterable[ItemSpec], reference_id: str | None = None) -> Order:
        """Buy eSIMs (status NEW, no profile yet: call ``apply`` next). Never retried."""
        body: dict[str, Any] = {"items": _items(items)}
        if reference_id:
            body["referenceId"] = reference_id
        return parse_order(_object(self._post("/api/esim/order", body), "order"))

    def create_topup(self, iccid: str, package_id: str, reference_id: str | None = None) -> Order:
        """Top up an existing eSIM with a package from ``topup_packages(iccid)``. Never retried."""
        body: dict[str, Any] = {"iccid": iccid, "packageId": package_id}
        if reference_id:
            body["referenceId"] = reference_id
        return parse_order(_object(self._post("/api/esim/order/topup", body), "order"))

    def create_instant_order(
        self,
        items: Iterable[ItemSpec],
        reference_id: str | None = None,
        start_date: dt.date | str | None = None,
    ) -> Order:
        """Order with profiles in one call (answer has ``esims``, READY).

        Slow by design (long timeout). Never retried: on ``UpstreamTimeout`` /
        ``UpstreamUnavailable`` call ``find_order(reference_id)`` before ordering again.
        """
        body: dict[str, Any] = {"items": _items(items)}
        if reference_id:
            body["referenceId"] = reference_id
        if start_date is not None:
            body["startDate"] = _iso_date(start_date)
        data = self._post("/api/esim/order/instant", body, timeout=self.instant_order_timeout)
        return parse_order(_object(data, "order"))

    def get_order(self, order_id: str | None = None, reference_id: str | None = None) -> Order:
        """One order by exactly one of ``order_id`` / ``reference_id`` (newest for a reference)."""
        params = _exactly_one(orderId=order_id, referenceId=reference_id)
        return parse_order(_object(self._get("/api/esim/order", params), "order"))

    def find_order(self, reference_id: str) -> Order | None:
        """The order placed with ``reference_id``, or None. Use after a purchase timed out."""
        try:
            return self.get_order(reference_id=reference_id)
        except NotFoundError:
            return None

    def list_orders(
        self,
        status: str | None = None,
        limit: int | None = None,
        reference_id: str | None = None,
    ) -> list[Order]:
        params = {"status": status, "limit": limit, "referenceId": reference_id}
        data = self._get("/api/esim/orders", params)
        return [parse_order(o) for o in _named_list(data, "orders") if isinstance(o, Mapping)]

    # ------------------------------------------------------------------ 2.11-2.17 eSIMs

    def apply(
        self,
        esim_id: str | None = None,
        reference_id: str | None = None,
        start_date: dt.date | str | None = None,
    ) -> list[Esim]:
        """Generate profile(s): one eSIM by id, or all eSIMs of the order with ``reference_id``.

        Always returns a list (upstream answers an object for an id, an array
        for a reference). On ``ProfilePendingError`` or ``UpstreamTimeout`` do
        not re-apply: poll ``get_esim(esim_id=...)`` until it has a profile.
        ``start_date`` is required for packages with ``travel_date_required``.
        """
        if not esim_id and not reference_id:
            raise ValueError("apply needs esim_id or reference_id")
        body: dict[str, Any] = {}
        if esim_id:
            body["esimId"] = esim_id
        if reference_id:
            body["referenceId"] = reference_id
        if start_date is not None:
            body["startDate"] = _iso_date(start_date)
        data = self._post("/api/esim/apply", body, timeout=self.apply_timeout)
        if isinstance(data, list):
            return [parse_esim(e) for e in data if isinstance(e, Mapping)]
        if isinstance(data, Mapping) and isinstance(data.get("esims"), list):
            return [parse_esim(e) for e in data["esims"] if isinstance(e, Mapping)]
        return [parse_esim(_object(data, "eSIM"))]

    def get_esim(self, iccid: str | None = None, esim_id: str | None = None) -> Esim:
        """One eSIM by exactly one of ``iccid`` / ``esim_id`` (NEW eSIMs have no ICCID yet)."""
        params = _exactly_one(iccid=iccid, esimId=esim_id)
        return parse_esim(_object(self._get("/api/esim", params), "eSIM"))

    def list_esims(
        self,
        status: str | None = None,
        limit: int | None = None,
        reference_id: str | None = None,
    ) -> list[Esim]:
        params = {"status": status, "limit": limit, "referenceId": reference_id}
        data = self._get("/api/esims", params)
        return [parse_esim(e) for e in _named_list(data, "esims") if isinstance(e, Mapping)]

    def usage(self, iccid: str) -> Usage:
        """Data left (only for eSIMs with ``with_usage_check``)."""
        return parse_usage(_object(self._get("/api/esim/usage", {"iccid": iccid}), "usage"))

    def usage_details(self, iccid: str) -> Usage:
        """Like ``usage`` plus ``daily`` (per-day use and location)."""
        data = self._get("/api/esim/usage/details", {"iccid": iccid})
        return parse_usage(_object(data, "usage"))

    def topup_packages(
        self,
        iccid: str,
        *,
        days: int | None = None,
        gbs: float | None = None,
        is_unlimited: bool | None = None,
        package_id: str | None = None,
    ) -> list[Package]:
        """Top-ups compatible with an eSIM (empty when it has no ``with_top_up``)."""
        params = {
            "iccid": iccid,
            "days": days,
            "gbs": gbs,
            "isUnlimited": is_unlimited,
            "packageId": package_id,
        }
        data = self._get("/api/esim/topup/packages", params)
        out: list[Package] = []
        for raw in _named_list(data, "packages"):
            if not isinstance(raw, Mapping):
                continue
            try:
                out.append(parse_package(raw))
            except ParseError as exc:
                logger.warning("roamify: skipping top-up package: %s", exc)
        return out

    def history(self, iccid: str) -> list[HistoryEntry]:
        """Packages applied to an eSIM: the original, then each top-up."""
        data = self._get("/api/esim/history", {"iccid": iccid})
        return [parse_history_entry(h) for h in _named_list(data, "history") if isinstance(h, Mapping)]

    # 2.18 gifts: withdrawn by Roamify on 2026-06-09; the shop's gift cards are its own (giftcards/).

    # ------------------------------------------------------------------ 2.19 extras

    def esim_events(
        self,
        *,
        iccid: str | None = None,
        esim_id: str | None = None,
        reference_id: str | None = None,
    ) -> EsimEvents:
        """Device-side events (downloaded, installed, activated...); answer not enveloped."""
        params = _exactly_one(iccid=iccid, esimId=esim_id, referenceId=reference_id)
        return parse_events(_object(self._get("/api/esim/events", params), "events"))

    def create_esim_link(self, *, iccid: str | None = None, esim_id: str | None = None) -> EsimLink:
        """A shareable install page for an eSIM. POST, so never retried (it is harmless though)."""
        body = _exactly_one(iccid=iccid, esimId=esim_id)
        return parse_link(_object(self._post("/api/esim/link", body), "eSIM link"))

    # ------------------------------------------------------------------ 2.20 refund requests

    def create_refund_request(
        self,
        *,
        esim_id: str | None = None,
        iccid: str | None = None,
        reason: str = REFUND_REASON_NOT_INSTALLED,
        notes: str | None = None,
    ) -> RefundRequest:
        """Ask Roamify support to refund one eSIM. Never moves money by itself; never retried.

        Raises ``RefundRequestOpenError`` (409, with ``refund_id``) when the eSIM already has an
        open request, ``AlreadyRefundedError`` (422) when it was refunded already. After a
        timeout, look for the request with ``list_refund_requests(esim_id=...)`` first.
        """
        body: dict[str, Any] = _exactly_one(esimId=esim_id, iccid=iccid)
        body["reason"] = reason
        if notes:
            body["notes"] = notes[:500]
        return parse_refund_request(
            _object(self._refund_call(self._post, REFUND_PATHS["create"], body), "refund request")
        )

    def create_refund_requests(
        self, items: Iterable[Mapping[str, str]]
    ) -> list[RefundRequest | RoamifyError]:
        """Bulk create: each item ``{"esimId" or "iccid", "reason", "notes"?}``. One result per item,
        in order: the request, or the error upstream gave for that item."""
        data = self._post(REFUND_PATHS["bulk"], {"items": [dict(i) for i in items]})
        out: list[RefundRequest | RoamifyError] = []
        for raw in _named_list(data, "results"):
            if isinstance(raw, Mapping) and isinstance(raw.get("error"), Mapping | str):
                error = raw["error"]
                body = error if isinstance(error, Mapping) else {"message": error}
                code = body.get("code")
                status = code if isinstance(code, int) and not isinstance(code, bool) else 400
                out.append(_refund_error(error_from_response(status, dict(body), "refund request")))
            elif isinstance(raw, Mapping):
                out.append(parse_refund_request(raw.get("refund", raw)))
        return out

    def get_refund_request(self, refund_id: str) -> RefundRequest:
        data = self._get(REFUND_PATHS["get"], {"refundId": refund_id})
        return parse_refund_request(_object(data, "refund request"))

    def list_refund_requests(
        self,
        *,
        status: str | None = None,
        esim_id: str | None = None,
        iccid: str | None = None,
        limit: int | None = None,
    ) -> list[RefundRequest]:
        params = {"status": status, "esimId": esim_id, "iccid": iccid, "limit": limit}
        data = self._get(REFUND_PATHS["list"], params)
        return [parse_refund_request(r) for r in _named_list(data, "refunds") if isinstance(r, Mapping)]

    def cancel_refund_request(self, refund_id: str) -> RefundRequest:
        """Withdraw an open request (PENDING or PROCESSING). No webhook follows a cancel."""
        data = self._refund_call(self._post, REFUND_PATHS["cancel"], {"refundId": refund_id})
        return parse_refund_request(_object(data, "refund request"))

    def _refund_call(self, send: Callable[..., Any], path: str, body: Mapping[str, Any]) -> Any:
        try:
            return send(path, body)
        except (ConflictError, ValidationError) as exc:
            raise _refund_error(exc) from exc


# ---------------------------------------------------------------------- helpers


def _refund_error(exc: RoamifyError) -> RoamifyError:
    """409 names the open request (``refundId``, at the top or under ``data``); 422 is refunded already."""
    if isinstance(exc, ConflictError) and not isinstance(exc, RefundRequestOpenError):
        body = exc.body if isinstance(exc.body, Mapping) else {}
        data = body.get("data") if isinstance(body.get("data"), Mapping) else {}
        refund_id = body.get("refundId") or data.get("refundId") or body.get("refund_id")
        return RefundRequestOpenError(
            exc.message, exc.status_code, exc.body, refund_id=str(refund_id) if refund_id else None
        )
    if isinstance(exc, ValidationError) and exc.status_code == 422:
        return AlreadyRefundedError(exc.message, exc.status_code, exc.body)
    return exc


def _clean_params(params: Params | None) -> dict[str, str | int | float] | None:
    """Drop None; booleans as upstream spells them ("true"/"false")."""
    if not params:
        return None
    out: dict[str, str | int | float] = {}
    for key, value in params.items():
        if value is None:
            continue
        out[key] = ("true" if value else "false") if isinstance(value, bool) else value
    return out


def _exactly_one(**candidates: str | None) -> dict[str, str]:
    given = {k: v for k, v in candidates.items() if v}
    if len(given) != 1:
        raise ValueError(f"pass exactly one of {', '.join(candidates)}")
    return given


def _items(items: Iterable[ItemSpec]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for item in items:
        if isinstance(item, OrderLine):
            package_id, quantity = item.package_id, item.quantity
        elif isinstance(item, str):
            package_id, quantity = item, 1
        else:
            package_id, quantity = item
        out.append({"packageId": package_id, "quantity": int(quantity)})
    return out


def _iso_date(value: dt.date | str) -> str:
    if isinstance(value, dt.datetime):
        value = value.date()
    return value.isoformat() if isinstance(value, dt.date) else value


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


def _unwrap(response: httpx.Response) -> Any:
    """Strip the ``{"status": "success", "data": ...}`` envelope (events have none)."""
    if not response.content.strip():
        return None
    body = _body(response)
    if isinstance(body, str):
        raise UpstreamUnavailable(f"non-JSON {response.status_code} answer", response.status_code, body)
    if isinstance(body, Mapping):
        # A 2xx that says it failed is still a failure.
        if body.get("status") == "failed":
            raise error_from_response(response.status_code, body, "failed")
        if "data" in body and ("status" in body or len(body) == 1):
            return body["data"]
    return body


def _object(data: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise ParseError(f"expected a {what} object, got {type(data).__name__}", body=data)
    return data


def _named_list(data: Any, key: str) -> list[Any]:
    """Lists come bare (``data: [...]``) or wrapped (``data: {"orders": [...]}``)."""
    if isinstance(data, list):
        return data
    if isinstance(data, Mapping) and isinstance(data.get(key), list):
        return data[key]
    if data is None:
        return []
    raise ParseError(f"expected a list of {key}, got {type(data).__name__}", body=data)
