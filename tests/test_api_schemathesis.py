"""Schemathesis against the gift card API's own OpenAPI document (/api/v1/openapi.json): every
operation, with no token, a wrong one, and tokens of each scope. Every answer is a documented
status with a body matching its schema, and never a 500. Fixed seed, bounded examples."""

from __future__ import annotations

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance

from giftcards import codes
from giftcards import services as giftcards
from giftcards.models import ApiToken, GiftCard

pytestmark = pytest.mark.django_db

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())

TOKENS = {
    "none": None,
    "wrong": ["gct_wrong_token"],
    "read": [ApiToken.READ],
    "write": [ApiToken.WRITE],
    "read+write": [ApiToken.READ, ApiToken.WRITE],
}


def _token(scopes: list[str] | None) -> dict[str, str]:
    if scopes is None:
        return {}
    if scopes == ["gct_wrong_token"]:
        return {"Authorization": "Bearer gct_nope_nope"}
    prefix, token = codes.new_api_token()
    ApiToken.objects.create(name="fuzz", prefix=prefix, token_hash=codes.token_hash(token), scopes=scopes)
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def in_test_transaction():
    """The WSGI app closes the database connection after each request (request_finished), which
    would end the test's transaction: Django's own test client disconnects it the same way."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture(params=list(TOKENS), ids=list(TOKENS))
def auth(request, db, clear_cache, in_test_transaction):
    giftcards.issue(5000, actor="test")  # something to read, disable or revoke (ids 1.. are tried)
    return request.param, _token(TOKENS[request.param])


@schema.parametrize()
@settings(
    max_examples=15, derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)
def test_api(case, auth):
    name, headers = auth
    # positive_data_acceptance is off: what the API accepts also depends on the shop's settings
    # (the amount limits) and on today (expires_on and send_on must be in the future), which a JSON
    # Schema cannot state; every other check runs (schema and status conformance, no 500...).
    response = case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])
    assert response.status_code < 500
    if case.method.upper() != case.operation.method.upper():  # schemathesis tries undocumented methods
        assert response.status_code == 405
    elif name in ("none", "wrong"):
        assert response.status_code == 401, (response.status_code, response.text[:200], case.method)
    if name == "read":  # a read-only token changes nothing
        assert case.method.upper() == "GET" or response.status_code in (400, 401, 403, 404, 405, 422)
    assert all(c.balance_cents >= 0 for c in GiftCard.objects.all())
