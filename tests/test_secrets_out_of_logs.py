"""Links that carry a secret (the order link's ?t= token, the signed eSIM links, allauth's keys)
never write it to a log, the order link trades its token for the session at once, and every
page that shows an eSIM's activation code is kept by no browser or proxy (no-store)."""

from __future__ import annotations

import io
import logging

import pytest
from django.test import Client

from checkout.tests.conftest import make_package
from core.logs import JsonFormatter, PlainFormatter
from esims.models import Esim

from . import urlsweep
from .test_url_privacy import _open, _wrong, make_world

pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("url-sweep")]


@pytest.fixture
def alice(roamify, db):
    return make_world("alice@example.com", make_package())


@pytest.fixture
def log_output(settings):
    """Everything the configured handlers write (settings.LOGGING: the JSON formatter), at DEBUG."""
    handlers = {
        h
        for name in ("", "django", "django.server")
        for h in logging.getLogger(name).handlers
        if isinstance(h.formatter, JsonFormatter | PlainFormatter)
    }  # not pytest's own
    assert handlers, "settings.LOGGING's console handler is missing"
    out = io.StringIO()
    saved = [(h, h.setStream(out)) for h in handlers]
    loggers = [logging.getLogger(name) for name in ("", "django", "django.request", "shop.access")]
    levels = [(lg, lg.level) for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.DEBUG)
    yield out
    for h, stream in saved:
        h.setStream(stream)
    for lg, level in levels:
        lg.setLevel(level)


def _token_urls(world) -> list[str]:
    """Every URL that carries one of the world's secrets: right, wrong and truncated."""
    urls = []
    for route in urlsweep.private_routes():
        secret_params = [p for p in route.params if p in urlsweep.TOKEN_PARAMS]
        for param in secret_params:
            attribute = urlsweep.FILLERS[route.name][param]
            for value in [world(attribute), *_wrong(world(attribute))]:
                urls.append(urlsweep.fill(route, lambda a, at=attribute, v=value: v if a == at else world(a)))
        if route.name.startswith("checkout:order"):
            base = urlsweep.fill(route, world)
            urls += [f"{base}?t={t}&x=1" for t in [world.order_token, *_wrong(world.order_token)]]
    return urls


def test_no_secret_of_a_link_reaches_a_log_line(alice, log_output):
    urls = _token_urls(alice)
    assert len(urls) > 30
    for url in urls:
        _open(Client(), url)
    logged = log_output.getvalue()
    secrets = {alice.order_token, alice.topup_token, alice.install_token, alice.email_key, alice.reset_key}
    for secret in secrets:
        for part in {secret, secret[:-1], secret[: len(secret) // 2]}:
            at = logged.find(part)
            assert at < 0, f"a secret ({part[:6]}…) was logged: {logged[max(0, at - 300) : at + 60]}"
    # The control: the requests were logged, with their secrets redacted.
    assert logged.count("[redacted]") >= len(urls)
    assert "/esim/install/[redacted]/" in logged and "?t=[redacted]&x=1" in logged


def test_the_order_link_trades_its_token_for_the_session(alice):
    number, token = alice.order_number, alice.order_token
    visitor = Client()
    first = visitor.get(f"/orders/{number}/?t={token}&session_id=cs_1&cancelled=1")
    assert first.status_code == 302
    assert first["Location"] == f"/orders/{number}/?session_id=cs_1&cancelled=1"  # no token, the rest kept
    assert visitor.get(f"/orders/{number}/").status_code == 200  # the session sees it now
    assert visitor.get(f"/orders/{number}/status/").status_code == 200
    assert Client().get(f"/orders/{number}/").status_code == 404  # another session, without the token
    assert Client().get(f"/orders/{number}/?t={token[:-1]}").status_code == 404


def test_every_page_showing_an_activation_code_is_no_store(alice):
    esim = Esim.objects.get(pk=alice.esim_pk)
    assert esim.lpa_code
    owner = Client()
    owner.force_login(alice.user)
    showing: dict[str, str] = {}
    for route in urlsweep.private_routes():
        url = urlsweep.fill(route, alice)
        for visitor in (owner, Client()):  # signed in, and by a link's token (follows the redirect)
            response = visitor.get(url, follow=True)
            body = response.content.decode(errors="replace")
            if response.status_code == 200 and (esim.lpa_code in body or esim.activation_code in body):
                showing[route.name] = response.get("Cache-Control", "")
    assert {"checkout:order_detail", "accounts:esim_detail", "accounts:shared_install"} <= set(showing), (
        showing
    )
    cached = {name: value for name, value in showing.items() if "no-store" not in value}
    assert not cached, f"pages showing an activation code without no-store: {cached}"
