"""Signed links: the low-data email's top-up link and the shared install link work without signing
in, and are refused once expired or tampered with."""

from __future__ import annotations

import time
from html import unescape
from unittest import mock

import pytest
from django.core import signing
from django.urls import reverse

from esims import links

from .conftest import bought_esim, make_package

pytestmark = pytest.mark.django_db


@pytest.fixture
def esim(roamify, alice, clear_cache):
    package = make_package()
    _, esim = bought_esim(package, alice)
    return esim


def test_topup_link_opens_the_topups_without_signing_in(client, esim, settings):
    url = reverse("accounts:signed_topups", args=[links.make_token(esim, links.TOPUP)])
    response = client.get(url)
    html = unescape(response.content.decode())
    assert response.status_code == 200
    assert "Top-ups for this eSIM" in html and "Sign in" in html
    assert esim.iccid not in html and esim.iccid[-4:] in html and esim.email not in html
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_tampered_or_expired_links_are_refused(client, esim, settings):
    token = links.make_token(esim, links.TOPUP)
    tampered = token[:-3] + ("aaa" if token[-3:] != "aaa" else "bbb")
    for bad in (tampered, "x", token.replace(":", ";"), links.make_token(esim, links.INSTALL)):
        response = client.get(reverse("accounts:signed_topups", args=[bad]))
        assert response.status_code == 404 and "This link is not valid." in response.content.decode()
    later = time.time() + settings.ESIM_TOPUP_LINK_DAYS * 86400 + 5
    with mock.patch("django.core.signing.time.time", return_value=later):
        response = client.get(reverse("accounts:signed_topups", args=[token]))
    assert response.status_code == 404 and "This link has expired." in response.content.decode()


def test_owner_shares_an_install_link_that_expires(client, alice, esim, settings):
    client.force_login(alice)
    response = client.post(reverse("accounts:esim_share", args=[esim.pk]))
    html = response.content.decode()
    url = html.split('id="share-url" type="text" value="')[1].split('"')[0]
    client.logout()
    shared = client.get(url.replace("http://testserver", ""))
    page = unescape(shared.content.decode())
    assert shared.status_code == 200
    assert esim.activation_code in page and "data:image/png;base64," in page
    assert esim.iccid not in page and alice.email not in page
    later = time.time() + settings.ESIM_SHARE_LINK_HOURS * 3600 + 5
    with mock.patch("django.core.signing.time.time", return_value=later):
        assert client.get(url.replace("http://testserver", "")).status_code == 404


@pytest.mark.parametrize("kind", [links.TOPUP, links.INSTALL])
@pytest.mark.parametrize(
    "payload",
    [
        {"e": "abc", "f": "x"},
        {"e": "1 OR 1=1", "f": "x"},
        {"e": [1], "f": "x"},
        {"e": {"pk": 1}, "f": "x"},
        {"e": 1.5, "f": "x"},
        {"e": True, "f": "x"},
        {"e": 10**30, "f": "x"},
        {"e": "\x00", "f": "x"},
        {"f": "x"},
        ["e", 1],
        "e",
        None,
    ],
    ids=repr,
)
def test_a_signed_link_whose_payload_is_not_an_esim_id_is_refused(client, settings, kind, payload):
    """Signed with the right key and salt (so only a leaked key makes one), but naming no eSIM id: the
    link's own refusal, never a server error (DEBUG off, as in production)."""
    settings.DEBUG = False
    token = signing.dumps(payload, salt=links._SALTS[kind], compress=True)
    name = "accounts:signed_topups" if kind == links.TOPUP else "accounts:shared_install"
    response = client.get(reverse(name, args=[token]))
    assert response.status_code == 404 and "This link is not valid." in response.content.decode()
