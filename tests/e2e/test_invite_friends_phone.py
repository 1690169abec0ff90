"""The referral share link on a phone: the account's "Invite friends" link leads to the block on the
store credit page, its copy button copies the link, and both pages fit the screen. Chromium against
the live shop, PostgreSQL."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.test import Client

from conftest import screenshot
from discounts.services import share_code_for

from .test_checkout_journey import fits_the_screen

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("postgres")]


@pytest.fixture
def shop(transactional_db, live_server, settings):
    settings.SITE_URL = live_server.url
    return live_server.url


def test_invite_friends_from_the_account_on_a_phone(shop, phone):
    ann = get_user_model().objects.create_user("ann", "ann@example.com", "pw-ann-12345")
    EmailAddress.objects.create(user=ann, email=ann.email, primary=True, verified=True)
    client = Client()
    client.force_login(ann)
    name = django_settings.SESSION_COOKIE_NAME
    phone.context.add_cookies([{"name": name, "url": shop, "value": client.cookies[name].value}])
    phone.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=shop)
    phone.goto(f"{shop}/account/orders/")
    link = phone.get_by_role("link", name="Invite friends, get $5.00")
    assert link.is_visible()
    fits_the_screen(phone)
    link.click()
    phone.wait_for_url("**/account/credit/#invite")
    block = phone.locator("#invite")
    assert block.is_visible() and "10% off their first order" in block.inner_text()
    url = f"{shop}/r/{share_code_for(ann).code}/"
    assert block.locator("[data-share-link]").inner_text() == url
    fits_the_screen(phone)
    screenshot(phone, "invite-friends")
    block.get_by_role("button", name="Copy your link").click()
    phone.wait_for_function("document.querySelector('#invite .copy-status').textContent === 'Copied'")
    assert phone.evaluate("navigator.clipboard.readText()") == url
