"""Checkout Session: validation of create params and the Stripe-shaped object."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

from .errors import StripeError, invalid, missing, new_id, unknown

ZERO_DECIMAL = {
    "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga",
    "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf",
}  # fmt: skip

# The currencies Stripe takes (https://docs.stripe.com/currencies); any other is refused.
SUPPORTED = {
    "usd", "aed", "afn", "all", "amd", "ang", "aoa", "ars", "aud", "awg", "azn", "bam",
    "bbd", "bdt", "bgn", "bif", "bmd", "bnd", "bob", "brl", "bsd", "bwp", "byn", "bzd",
    "cad", "cdf", "chf", "clp", "cny", "cop", "crc", "cve", "czk", "djf", "dkk", "dop",
    "dzd", "egp", "etb", "eur", "fjd", "fkp", "gbp", "gel", "gip", "gmd", "gnf", "gtq",
    "gyd", "hkd", "hnl", "htg", "huf", "idr", "ils", "inr", "isk", "jmd", "jpy", "kes",
    "kgs", "khr", "kmf", "krw", "kyd", "kzt", "lak", "lbp", "lkr", "lrd", "lsl", "mad",
    "mdl", "mga", "mkd", "mmk", "mnt", "mop", "mur", "mvr", "mwk", "mxn", "myr", "mzn",
    "nad", "ngn", "nio", "nok", "npr", "nzd", "pab", "pen", "pgk", "php", "pkr", "pln",
    "pyg", "qar", "ron", "rsd", "rub", "rwf", "sar", "sbd", "scr", "sek", "sgd", "shp",
    "sle", "sos", "srd", "std", "szl", "thb", "tjs", "top", "try", "ttd", "twd", "tzs",
    "uah", "ugx", "uyu", "uzs", "vnd", "vuv", "wst", "xaf", "xcd", "xof", "xpf", "yer",
    "zar", "zmw",
}  # fmt: skip

# Stripe's minimum charge per currency, in minor units (the common ones).
MIN_AMOUNT = {
    "usd": 50, "eur": 50, "gbp": 30, "aud": 50, "cad": 50, "chf": 50, "nzd": 50,
    "sgd": 50, "jpy": 50, "dkk": 250, "nok": 300, "sek": 300, "hkd": 400,
    "mxn": 1000, "pln": 200, "czk": 1500, "huf": 17500, "ron": 200, "bgn": 100,
    "inr": 50, "brl": 50, "thb": 1000, "myr": 200, "aed": 200,
}  # fmt: skip

LOCALES = {
    "auto", "bg", "cs", "da", "de", "el", "en", "en-GB", "es", "es-419", "et", "fi",
    "fil", "fr", "fr-CA", "hr", "hu", "id", "it", "ja", "ko", "lt", "lv", "ms", "mt",
    "nb", "nl", "pl", "pt", "pt-BR", "ro", "ru", "sk", "sl", "sv", "th", "tr", "vi",
    "zh", "zh-HK", "zh-TW",
}  # fmt: skip

MIN_EXPIRY = 30 * 60
MAX_EXPIRY = 24 * 60 * 60
MAX_AMOUNT = 99_999_999

_TOP = {
    "mode", "line_items", "success_url", "cancel_url", "customer_email", "customer",
    "client_reference_id", "metadata", "payment_intent_data", "expires_at", "locale",
    "payment_method_types", "submit_type", "ui_mode", "expand",
}  # fmt: skip
_LINE = {"price_data", "quantity", "price"}
_PRICE_DATA = {"currency", "unit_amount", "unit_amount_decimal", "product_data", "product",
               "tax_behavior"}  # fmt: skip
_PRODUCT_DATA = {"name", "description", "images", "metadata", "tax_code"}
_PI_DATA = {"metadata", "description", "receipt_email", "statement_descriptor",
            "statement_descriptor_suffix", "capture_method", "setup_future_usage"}  # fmt: skip
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass
class LineItem:
    id: str
    price_id: str
    product_id: str
    name: str
    description: str | None
    images: list[str]
    product_metadata: dict[str, str]
    currency: str
    unit_amount: int
    quantity: int

    @property
    def amount(self) -> int:
        return self.unit_amount * self.quantity

    def to_dict(self, created: int) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "item",
            "amount_discount": 0,
            "amount_subtotal": self.amount,
            "amount_tax": 0,
            "amount_total": self.amount,
            "currency": self.currency,
            "description": self.name,
            "price": {
                "id": self.price_id,
                "object": "price",
                "active": False,
                "billing_scheme": "per_unit",
                "created": created,
                "currency": self.currency,
                "livemode": False,
                "lookup_key": None,
                "metadata": {},
                "nickname": None,
                "product": self.product_id,
                "recurring": None,
                "tax_behavior": "unspecified",
                "tiers_mode": None,
                "transform_quantity": None,
                "type": "one_time",
                "unit_amount": self.unit_amount,
                "unit_amount_decimal": str(self.unit_amount),
            },
            "quantity": self.quantity,
        }


@dataclass
class CheckoutSession:
    id: str
    created: int
    expires_at: int
    currency: str
    line_items: list[LineItem]
    success_url: str
    cancel_url: str | None
    customer_email: str | None
    client_reference_id: str | None
    metadata: dict[str, str]
    payment_intent_data: dict[str, Any]
    locale: str | None
    payment_method_types: list[str]
    submit_type: str | None
    customer: str | None = None  # a Customer the card is paid as (and saved to, with setup_future_usage)
    status: str = "open"
    payment_status: str = "unpaid"
    payment_intent: str | None = None
    customer_details: dict[str, Any] | None = None
    # A PaymentIntent waiting for 3D Secure: {"id", "client_secret"}.
    pending_action: dict[str, str] | None = None
    attempts: list[dict[str, Any]] = field(default_factory=list)

    @property
    def amount_total(self) -> int:
        return sum(li.amount for li in self.line_items)

    def success_redirect(self) -> str:
        return self.success_url.replace("{CHECKOUT_SESSION_ID}", self.id)

    def to_dict(self, public_url: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "checkout.session",
            "adaptive_pricing": None,
            "after_expiration": None,
            "allow_promotion_codes": None,
            "amount_subtotal": self.amount_total,
            "amount_total": self.amount_total,
            "automatic_tax": {"enabled": False, "liability": None, "status": None},
            "billing_address_collection": None,
            "cancel_url": self.cancel_url,
            "client_reference_id": self.client_reference_id,
            "client_secret": None,
            "consent": None,
            "consent_collection": None,
            "created": self.created,
            "currency": self.currency,
            "custom_fields": [],
            "custom_text": {
                "after_submit": None,
                "shipping_address": None,
                "submit": None,
                "terms_of_service_acceptance": None,
            },
            "customer": self.customer,
            "customer_creation": "if_required",
            "customer_details": self.customer_details,
            "customer_email": self.customer_email,
            "expires_at": self.expires_at,
            "invoice": None,
            "invoice_creation": None,
            "livemode": False,
            "locale": self.locale,
            "metadata": dict(self.metadata),
            "mode": "payment",
            "payment_intent": self.payment_intent,
            "payment_link": None,
            "payment_method_collection": "if_required",
            "payment_method_options": {},
            "payment_method_types": list(self.payment_method_types),
            "payment_status": self.payment_status,
            "phone_number_collection": {"enabled": False},
            "recovered_from": None,
            "setup_intent": None,
            "shipping_address_collection": None,
            "shipping_cost": None,
            "shipping_details": None,
            "shipping_options": [],
            "status": self.status,
            "submit_type": self.submit_type,
            "subscription": None,
            "success_url": self.success_url,
            "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
            "ui_mode": "hosted",
            # Stripe only gives the page URL while the session can still be paid.
            "url": f"{public_url}/pay/{self.id}" if self.status == "open" else None,
        }

    def line_items_list(self) -> list[dict[str, Any]]:
        return [li.to_dict(self.created) for li in self.line_items]


# --- validation ----------------------------------------------------------


def _check_keys(obj: Any, allowed: set[str], prefix: str) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise invalid(prefix, f"Invalid object: {prefix} must be a hash")
    for key in obj:
        if key not in allowed:
            raise unknown(f"{prefix}[{key}]" if prefix else key)
    return obj


def _string(value: Any, param: str, max_len: int = 5000) -> str:
    if not isinstance(value, str):
        raise invalid(param, f"Invalid string: {value!r}")
    if len(value) > max_len:
        raise invalid(param, f"Invalid string: {value[:20]}...; must be at most {max_len} characters")
    return value


def _int(value: Any, param: str, minimum: int | None = None) -> int:
    try:
        n = int(value) if not isinstance(value, bool) else None
    except (TypeError, ValueError):
        n = None
    if n is None or str(value).strip() not in (str(n), f"+{n}"):
        raise StripeError(f"Invalid integer: {value}", param=param, code="parameter_invalid_integer")
    if minimum is not None and n < minimum:
        raise StripeError(
            f"This value must be greater than or equal to {minimum}.",
            param=param,
            code="parameter_invalid_integer",
        )
    return n


def _url(value: Any, param: str) -> str:
    url = _string(value, param, 5000)
    if not re.match(r"^https?://[^\s/]+", url):
        raise StripeError("Not a valid URL", param=param, code="url_invalid")
    return url


def _email(value: Any, param: str) -> str:
    email = _string(value, param, 512)
    if not _EMAIL.match(email):
        raise StripeError(f"Invalid email address: {email}", param=param, code="email_invalid")
    return email


def parse_metadata(value: Any, param: str) -> dict[str, str]:
    if value in (None, ""):
        return {}
    if isinstance(value, list):  # `metadata[0]=x` parses as a list
        value = {str(i): v for i, v in enumerate(value)}
    if not isinstance(value, dict):
        raise invalid(param, f"Invalid object: {param} must be a hash")
    out: dict[str, str] = {}
    for k, v in value.items():
        if len(k) > 40:
            raise invalid(f"{param}[{k}]", "Metadata keys can be at most 40 characters long.")
        if isinstance(v, (dict, list)):
            raise invalid(f"{param}[{k}]", "Metadata values must be strings.")
        v = "" if v is None else str(v)
        if len(v) > 500:
            raise invalid(f"{param}[{k}]", "Metadata values can be at most 500 characters long.")
        if v != "":  # an empty value means "unset"
            out[k] = v
    if len(out) > 50:
        raise invalid(param, "Metadata can have at most 50 keys.")
    return out


def _currency(value: Any, param: str) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z]{3}", value):
        raise StripeError(f"Invalid currency: {value}.", param=param, code="parameter_invalid_string")
    if value.lower() not in SUPPORTED:
        # Stripe's own answer names every currency it takes, and has no code.
        raise StripeError(
            f"Invalid currency: {value.lower()}. Stripe currently supports these currencies: "
            + ", ".join(sorted(SUPPORTED)),
            param=param,
        )
    return value.lower()


def format_amount(amount: int, currency: str) -> str:
    symbols = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥", "aud": "A$", "cad": "CA$"}
    value = f"{amount:,}" if currency in ZERO_DECIMAL else f"{amount / 100:,.2f}"
    sym = symbols.get(currency)
    return f"{sym}{value}" if sym else f"{value} {currency.upper()}"


def parse_line_item(raw: Any, i: int, now: int) -> LineItem:
    p = f"line_items[{i}]"
    item = _check_keys(raw, _LINE, p)
    if "price" in item:
        # localstripe has no Prices and we do not invent catalog objects.
        raise StripeError(f"No such price: '{item['price']}'", param=f"{p}[price]", code="resource_missing")
    if "price_data" not in item:
        raise missing(f"{p}[price_data]")
    if "quantity" not in item:
        raise missing(f"{p}[quantity]")
    pd = _check_keys(item["price_data"], _PRICE_DATA, f"{p}[price_data]")
    if "product" in pd:
        raise StripeError(
            f"No such product: '{pd['product']}'",
            param=f"{p}[price_data][product]",
            code="resource_missing",
        )
    if "currency" not in pd:
        raise missing(f"{p}[price_data][currency]")
    currency = _currency(pd["currency"], f"{p}[price_data][currency]")
    if "unit_amount" in pd:
        unit = _int(pd["unit_amount"], f"{p}[price_data][unit_amount]", 0)
    elif "unit_amount_decimal" in pd:
        unit = _int(pd["unit_amount_decimal"], f"{p}[price_data][unit_amount_decimal]", 0)
    else:
        raise missing(f"{p}[price_data][unit_amount]")
    if unit > MAX_AMOUNT:
        raise invalid(
            f"{p}[price_data][unit_amount]", f"This value must be less than or equal to {MAX_AMOUNT}."
        )
    if "product_data" not in pd:
        raise missing(f"{p}[price_data][product_data]")
    prod = _check_keys(pd["product_data"], _PRODUCT_DATA, f"{p}[price_data][product_data]")
    if not prod.get("name"):
        raise missing(f"{p}[price_data][product_data][name]")
    name = _string(prod["name"], f"{p}[price_data][product_data][name]", 250)
    description = None
    if prod.get("description") not in (None, ""):
        description = _string(prod["description"], f"{p}[price_data][product_data][description]")
    images = prod.get("images") or []
    if not isinstance(images, list) or not all(isinstance(x, str) for x in images):
        raise invalid(f"{p}[price_data][product_data][images]", "Invalid array")
    quantity = _int(item["quantity"], f"{p}[quantity]", 1)
    if quantity > 999_999:
        raise invalid(f"{p}[quantity]", "This value must be less than or equal to 999999.")
    return LineItem(
        id=new_id("li_"),
        price_id=new_id("price_"),
        product_id=new_id("prod_", 14),
        name=name,
        description=description,
        images=images,
        product_metadata=parse_metadata(prod.get("metadata"), f"{p}[price_data][product_data][metadata]"),
        currency=currency,
        unit_amount=unit,
        quantity=quantity,
    )


def parse_create(params: dict[str, Any], now: int | None = None) -> CheckoutSession:
    """Validate like Stripe (unknown params first, then required ones) and build a session."""
    now = int(time.time()) if now is None else now
    _check_keys(params, _TOP, "")
    pi_data = _check_keys(params.get("payment_intent_data") or {}, _PI_DATA, "payment_intent_data")

    mode = params.get("mode")
    if not mode:
        raise missing("mode")
    if mode != "payment":
        raise invalid("mode", f"Invalid mode: {mode}. This sandbox supports only mode=payment.")
    ui_mode = params.get("ui_mode", "hosted")
    if ui_mode != "hosted":
        raise invalid("ui_mode", f"Invalid ui_mode: {ui_mode}. This sandbox supports only hosted.")

    raw_items = params.get("line_items")
    if not raw_items:
        raise missing("line_items")
    if isinstance(raw_items, dict):
        raise invalid("line_items", "Invalid array")
    if len(raw_items) > 100:
        raise invalid("line_items", "You may only specify up to 100 line items.")
    items = [parse_line_item(raw, i, now) for i, raw in enumerate(raw_items)]
    currencies = {li.currency for li in items}
    if len(currencies) > 1:
        raise invalid("line_items", "All line items must have the same currency.")
    currency = items[0].currency

    if "success_url" not in params or params["success_url"] == "":
        raise missing("success_url")
    success_url = _url(params["success_url"], "success_url")
    cancel_url = _url(params["cancel_url"], "cancel_url") if params.get("cancel_url") else None

    customer_email = None
    if params.get("customer_email"):
        customer_email = _email(params["customer_email"], "customer_email")
    customer = None
    if params.get("customer"):
        if customer_email:
            raise invalid(
                "customer_email", "You may only specify one of these parameters: customer, customer_email."
            )
        customer = _string(params["customer"], "customer", 255)
    client_reference_id = None
    if params.get("client_reference_id") not in (None, ""):
        client_reference_id = _string(params["client_reference_id"], "client_reference_id", 200)

    expires_at = now + MAX_EXPIRY
    if params.get("expires_at") not in (None, ""):
        expires_at = _int(params["expires_at"], "expires_at")
        if expires_at < now + MIN_EXPIRY:
            raise invalid(
                "expires_at",
                "The `expires_at` timestamp must be at least 30 minutes from Checkout Session creation.",
            )
        if expires_at > now + MAX_EXPIRY:
            raise invalid(
                "expires_at",
                "The `expires_at` timestamp must be less than 24 hours from Checkout Session creation.",
            )

    locale = params.get("locale") or None
    if locale is not None and locale not in LOCALES:
        raise invalid("locale", f"Invalid locale: must be one of {', '.join(sorted(LOCALES))}")

    pmt = params.get("payment_method_types") or ["card"]
    if isinstance(pmt, str):
        pmt = [pmt]
    for i, t in enumerate(pmt):
        if t != "card":
            raise invalid(
                f"payment_method_types[{i}]",
                f'The payment method type "{t}" is invalid. This sandbox supports only "card".',
            )

    submit_type = params.get("submit_type") or None
    if submit_type is not None and submit_type not in ("auto", "book", "donate", "pay"):
        raise invalid("submit_type", f"Invalid submit_type: {submit_type}")

    if pi_data.get("capture_method") not in (None, "", "automatic", "automatic_async"):
        raise invalid(
            "payment_intent_data[capture_method]",
            "This sandbox supports only automatic capture in Checkout.",
        )
    if pi_data.get("setup_future_usage") not in (None, "", "on_session", "off_session"):
        raise invalid(
            "payment_intent_data[setup_future_usage]",
            f"Invalid payment_intent_data[setup_future_usage]: {pi_data['setup_future_usage']}",
        )
    if pi_data.get("receipt_email"):
        _email(pi_data["receipt_email"], "payment_intent_data[receipt_email]")
    pi_clean: dict[str, Any] = {
        "metadata": parse_metadata(pi_data.get("metadata"), "payment_intent_data[metadata]"),
        **{k: v for k, v in pi_data.items() if k != "metadata" and v not in (None, "")},
    }

    session = CheckoutSession(
        id=new_id("cs_test_", 58),
        created=now,
        expires_at=expires_at,
        currency=currency,
        line_items=items,
        success_url=success_url,
        cancel_url=cancel_url,
        customer_email=customer_email,
        client_reference_id=client_reference_id,
        metadata=parse_metadata(params.get("metadata"), "metadata"),
        payment_intent_data=pi_clean,
        locale=locale,
        payment_method_types=list(pmt),
        submit_type=submit_type,
        customer=customer,
    )
    if session.amount_total > MAX_AMOUNT:
        raise StripeError(
            f"Amount must be no more than {format_amount(MAX_AMOUNT, currency)}",
            param="line_items",
            code="amount_too_large",
        )
    minimum = MIN_AMOUNT.get(currency, 1)
    if session.amount_total < minimum:
        raise StripeError(
            "The Checkout Session's total amount due must add up to at least "
            f"{format_amount(minimum, currency)} {currency}",
            param="line_items",
            code="amount_too_small",
        )
    return session
