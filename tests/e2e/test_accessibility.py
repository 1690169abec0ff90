"""Every customer-facing page, accessible: axe-core (shipped inside axe-playwright-python) on a
phone, signed out and signed in, in a loop over the URL patterns like the privacy sweep (a page
added later is checked too). 0 violations of WCAG 2.1 A/AA and axe's best practices."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings as django_settings
from django.test import Client

from checkout.tests.conftest import make_package
from tests import urlsweep
from tests.test_url_privacy import make_world

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("axe")]

AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]},
    "resultTypes": ["violations"],
}
# Machine answers (JSON, XML, text) are skipped by their content type below.


def _sweep(page, base: str, paths: list[str]) -> tuple[dict[str, list[str]], int]:
    axe = Axe()
    found: dict[str, list[str]] = {}
    checked: set[str] = set()
    for path in paths:
        # Ask first, without navigating: a POST-only URL (405), a webhook or a JSON/XML answer is
        # not a page (and Chromium shows an error page for an empty 405 instead).
        probe = page.request.get(base + path)
        if probe.status == 405 or "text/html" not in (probe.headers.get("content-type") or ""):
            continue
        response = page.goto(base + path)
        assert response is not None and response.status < 500, (path, response and response.status)
        landed = page.url.split("#")[0]
        if landed in checked:
            continue
        checked.add(landed)
        print("axe", response.status, path, "->", landed.removeprefix(base))
        results = axe.run(page, options=AXE_OPTIONS)
        for violation in results.response["violations"]:
            targets = [" ".join(n["target"]) for n in violation["nodes"]][:3]
            found.setdefault(landed.removeprefix(base), []).append(
                f"{violation['id']} ({violation['impact']}): {violation['help']} at {targets}"
            )
    return found, len(checked)


@pytest.fixture
def shop(transactional_db, roamify, live_server, settings):
    settings.SITE_URL = live_server.url
    package = make_package()
    world = make_world("alice@example.com", package)
    return live_server.url, package, world


def test_every_page_signed_out_and_in(shop, phone):
    base, package, world = shop
    paths = urlsweep.customer_page_paths(package, world)
    signed_out, checked_out = _sweep(phone, base, paths)
    client = Client()
    client.force_login(world.user)
    phone.context.add_cookies(
        [
            {
                "name": django_settings.SESSION_COOKIE_NAME,
                "url": base,
                "value": client.cookies[django_settings.SESSION_COOKIE_NAME].value,
            }
        ]
    )
    signed_in, checked_in = _sweep(phone, base, paths)
    problems = [f"signed out {p}: {v}" for p, vs in signed_out.items() for v in vs]
    problems += [f"signed in {p}: {v}" for p, vs in signed_in.items() for v in vs]
    print(f"axe: {checked_out} pages signed out, {checked_in} signed in")
    # The tool is awake: the search box's old violation is found on a page that has it.
    phone.set_content(
        '<html lang="en"><title>t</title><main><label>Q <input aria-expanded="false"></label></main></html>'
    )
    assert Axe().run(phone, options=AXE_OPTIONS).response["violations"]
    assert checked_out >= 20 and checked_in >= 20
    assert not problems, "\n".join(problems)


def _axe_here(page, label: str, found: list[str]) -> None:
    for violation in Axe().run(page, options=AXE_OPTIONS).response["violations"]:
        targets = [" ".join(n["target"]) for n in violation["nodes"]][:3]
        found.append(f"{label}: {violation['id']} ({violation['impact']}): {violation['help']} at {targets}")


def _submit(page, form_selector: str) -> None:
    """Submit a form as it is, to see the server's error messages: past the browser's own checks and
    the page's script's (checkout.js says a missing email before sending; submit() fires no event)."""
    with page.expect_navigation():
        page.eval_on_selector(form_selector, "f => { f.noValidate = true; f.submit(); }")


def test_pages_in_their_other_states(shop, phone):
    """What the loop over URLs does not reach: a full cart, error messages, a found balance, an
    order waiting for payment."""
    from checkout import cart
    from checkout import services as checkout

    base, package, world = shop
    found: list[str] = []
    page = phone
    page.goto(f"{base}/esim/{package.destination.slug}/{package.package_id}/")
    with page.expect_navigation():
        page.click("form.buy-box button[type=submit]")
    assert page.url.endswith("/cart/")
    _axe_here(page, "cart with a plan", found)
    _submit(page, "form[action='/checkout/']")  # no email
    _axe_here(page, "checkout form with errors", found)
    page.goto(f"{base}/gift-cards/")
    _submit(page, "form[action='/cart/gift-card/']")  # nothing filled in
    _axe_here(page, "gift card form with errors", found)
    page.fill("#id_recipient_name", "Kim")
    page.fill("#id_recipient_email", "kim@example.com")
    page.check("input[name=amount] >> nth=0")
    _submit(page, "form[action='/cart/gift-card/']")
    assert page.url.endswith("/cart/")
    _axe_here(page, "cart with a plan and a gift card", found)
    page.fill("form[action='/cart/gift-code/'] input[name=code]", "NOT-A-CODE")
    _submit(page, "form[action='/cart/gift-code/']")
    _axe_here(page, "cart after a wrong gift code", found)
    page.fill("form[action='/cart/gift-code/'] input[name=code]", world.card_code)
    _submit(page, "form[action='/cart/gift-code/']")
    _axe_here(page, "cart with a gift card applied", found)
    page.goto(f"{base}/gift-cards/balance/")
    page.fill("input[name=code]", "NOT-A-CODE")
    _submit(page, "main form")
    _axe_here(page, "balance check, wrong code", found)
    page.fill("input[name=code]", world.card_code)
    _submit(page, "main form")
    _axe_here(page, "balance check, found", found)
    order = checkout.place_order(cart.PricedCart([cart.CartLine(package, 1)], []), "guest@example.com")
    page.goto(f"{base}{order.access_url()}")
    _axe_here(page, "order waiting for payment", found)
    assert not found, "\n".join(found)
