"""JSON log lines, the request id and its header, redaction of URL secrets."""

from __future__ import annotations

import io
import json
import logging

import pytest

from core.logs import JsonFormatter, PlainFormatter, accepted_request_id, redact, request_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def lines(settings):
    """The JSON lines the configured handler (settings.LOGGING) writes."""
    handler = next(h for h in logging.getLogger().handlers if isinstance(h.formatter, JsonFormatter))
    out = io.StringIO()
    old = handler.setStream(out)
    yield lambda: [json.loads(line) for line in out.getvalue().splitlines()]
    handler.setStream(old)


def test_a_line_is_one_json_object_with_the_extra_fields_and_the_traceback():
    logger = logging.getLogger("shop.test")
    record = logger.makeRecord(
        "shop.test",
        logging.ERROR,
        __file__,
        1,
        "paid %s",
        ("RE-1",),
        None,
        extra={"order": "RE-1", "cents": 999, "obj": object()},
    )
    try:
        raise ValueError("boom\nsecond line")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    token = request_id.set("abc123")
    try:
        line = JsonFormatter().format(record)
    finally:
        request_id.reset(token)
    assert "\n" not in line  # one line, whatever the message or traceback holds
    entry = json.loads(line)
    assert entry["level"] == "ERROR" and entry["logger"] == "shop.test" and entry["message"] == "paid RE-1"
    assert entry["request_id"] == "abc123" and entry["order"] == "RE-1" and entry["cents"] == 999
    assert entry["obj"].startswith("<object") and "ValueError: boom" in entry["exception"]
    assert entry["time"].endswith("+00:00")


@pytest.mark.parametrize(
    "value, accepted",
    [
        ("0123456789abcdef0123456789abcdef", True),  # nginx's $request_id
        ("5f0e8a9c-1b2d-4e5f-8a9b-0c1d2e3f4a5b", True),
        ("", False),
        ("a" * 101, False),
        ("bad id", False),
        ("x\nforged", False),
        ('x"}', False),
        ("é", False),
    ],
)
def test_a_request_id_from_outside_is_taken_only_when_well_formed(value, accepted):
    assert (accepted_request_id(value) == value) is accepted


def test_each_request_has_an_id_in_its_answer_and_its_log_lines(client, lines):
    given = client.get("/healthz", headers={"X-Request-ID": "lb-0123456789"})
    assert given["X-Request-ID"] == "lb-0123456789"
    forged = client.get("/no/such/page/", headers={"X-Request-ID": 'x" injected'})
    made = forged["X-Request-ID"]
    assert made != 'x" injected' and len(made) == 32
    entries = lines()
    access = [e for e in entries if e["logger"] == "shop.access"]
    assert [(e["path"], e["status"], e["request_id"]) for e in access] == [
        ("/healthz", given.status_code, "lb-0123456789"),
        ("/no/such/page/", 404, made),
    ]
    # Django logs the 404 after the middleware has returned: it still carries the id.
    not_found = [e for e in entries if e["logger"] == "django.request" and "/no/such/page/" in e["message"]]
    assert not_found and all(e["request_id"] == made and e["status"] == 404 for e in not_found)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("GET /orders/RE-1/?t=SeCrEt_-1&session_id=cs_1", "GET /orders/RE-1/?t=[redacted]&session_id=cs_1"),
        ("/orders/RE-1/status/?x=1&t=SeCrEt", "/orders/RE-1/status/?x=1&t=[redacted]"),
        ("https://shop/orders/RE-1/?t%3DSeCrEt", "https://shop/orders/RE-1/?t%3D[redacted]"),
        ("/esim/install/MQ:1x:sig/ 200", "/esim/install/[redacted]/ 200"),
        ("'path': 'esim/top-up/MQ:1x:sig/'", "'path': 'esim/top-up/[redacted]/'"),
        ("/accounts/confirm-email/MQ:1x:k/", "/accounts/confirm-email/[redacted]/"),
        ("GET /es/cart/back/eyJv:1x:sig/ 302", "GET /es/cart/back/[redacted]/ 302"),
        ("POST /offers/unsubscribe/eyJj:1x:sig/ 200", "POST /offers/unsubscribe/[redacted]/ 200"),
        ("/accounts/password/reset/key/1-abc-123/", "/accounts/password/reset/key/[redacted]/"),
        ("/accounts/password/reset/key/1-set-password/", "/accounts/password/reset/key/1-set-password/"),
        ('{"query_string": "t=SeCrEt&x=1"}', '{"query_string": "t=[redacted]&x=1"}'),
        ("/destinations/?to=thailand", "/destinations/?to=thailand"),  # a ?to= is not a ?t=
    ],
)
def test_url_secrets_are_redacted(text, expected):
    assert redact(text) == expected


def test_the_plain_format_also_carries_the_id_and_redacts():
    record = logging.makeLogRecord(
        {"name": "x", "levelno": 20, "levelname": "INFO", "msg": "GET %s", "args": ("/orders/RE-1/?t=abc",)}
    )
    assert PlainFormatter().format(record).endswith("INFO x [-] GET /orders/RE-1/?t=[redacted]")
