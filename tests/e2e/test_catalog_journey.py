"""A traveller finds a plan on a phone: Chromium against the live site, catalog synced from the sandbox.

One test, because the catalog (a sync, or its copy: `synced_catalog` in tests/e2e/conftest.py) is the
heavy part and a transactional test flushes it afterwards. It walks the JavaScript path
(suggestions), the no-JavaScript path (the plain search form) and the
keyboard path (Tab, ArrowDown, Enter).
"""

from __future__ import annotations

import re

import pytest

from catalog.models import Package
from conftest import screenshot

# Shares the sandbox with catalog/tests/test_sync.py: one worker runs them all.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("catalog-sync")]

PHONE = {"width": 390, "height": 844}


def fits_the_screen(page) -> None:
    """Nothing sticks out sideways: no horizontal scrolling on a phone."""
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page.url} is {overflow}px wider than the screen"


def test_phone_journey_search_filter_and_open_a_package(
    synced_catalog,
    live_server,
    settings,
    clear_cache,
    phone,
    chromium_browser,
):
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]
    base = live_server.url
    page = phone

    # -- Home, then "jap" in the search box: the suggestion appears and leads to Japan.
    page.goto(base + "/")
    assert page.locator("h1").inner_text() == "Stay connected in 190+ destinations"
    assert 8 <= page.locator(".grid-dest .dest-link").count() <= 30  # the A–Z list has its own page
    fits_the_screen(page)
    screenshot(page, "catalog-home")
    search = page.locator("#site-search")
    search.click()
    search.press_sequentially("jap", delay=60)
    suggestion = page.locator("#search-suggestions [role=option]", has_text="Japan")
    suggestion.wait_for(state="visible")
    assert "from $" in suggestion.inner_text()
    assert search.get_attribute("aria-expanded") == "true"
    suggestion.click()
    page.wait_for_url(base + "/esim/japan/")
    assert page.locator("h1").inner_text() == "Japan eSIM"

    # -- Unlimited for a week: the pick and the list are unlimited plans, with no reload.
    page.locator("label[for=days-7]").click()
    page.locator("label[for=data-unlimited]").click()
    page.wait_for_url(re.compile(r"/esim/japan/\?days=7&data=unlimited"))
    page.locator("#planner-result .pick .package-card").wait_for()
    cards = page.locator(".package-list .package-card")
    n = cards.count()
    expected = (
        Package.objects.filter(destination__slug="japan", active=True, is_unlimited=True, days__gte=7)
        .values("days")
        .distinct()
        .count()
    )
    assert n == expected > 0
    assert page.locator(".package-list .package-card .data").all_inner_texts() == ["Unlimited"] * n
    assert page.locator("#plans").inner_text() == f"{n} plans for 7 days, unlimited data"
    assert page.locator("#data-unlimited").is_checked()
    fits_the_screen(page)
    screenshot(page, "catalog-japan-unlimited")

    # -- Open the cheapest one: the price and "Add to cart" are in view.
    cards.first.click()
    page.wait_for_url(re.compile(r"/esim/japan/esim-japan-[^/]+/$"))
    package_id = page.url.rstrip("/").rsplit("/", 1)[1]
    pkg = Package.objects.get(package_id=package_id)
    assert pkg.is_unlimited
    price = page.locator(".buy-box .price")
    add = page.get_by_role("button", name="Add to cart")
    assert price.is_visible() and add.is_visible()
    assert price.inner_text() == f"${pkg.retail_cents // 100}.{pkg.retail_cents % 100:02d}"
    box = add.bounding_box()
    assert box["y"] + box["height"] <= PHONE["height"]  # above the fold
    assert box["height"] < 56  # one line of text, not "Add / to / cart"
    days = f"{pkg.days} day{'' if pkg.days == 1 else 's'}"
    assert page.locator("h1").inner_text().endswith(f"Unlimited for {days}")
    assert page.locator(".breadcrumbs").inner_text().endswith(f"Unlimited, {days}")
    assert page.title().startswith(f"Japan eSIM Unlimited {days} — $")
    fits_the_screen(page)
    screenshot(page, "catalog-package")

    # -- Without JavaScript the search form still takes you there.
    nojs = chromium_browser.new_context(viewport=PHONE, java_script_enabled=False)
    try:
        plain = nojs.new_page()
        plain.set_default_timeout(15_000)
        plain.goto(base + "/")
        plain.locator("#site-search").fill("japan")
        plain.get_by_role("button", name="Search", exact=True).click()
        plain.wait_for_url(base + "/esim/japan/")
        assert plain.locator("h1").inner_text() == "Japan eSIM"
        assert plain.locator("#search-suggestions").is_hidden()
    finally:
        nojs.close()

    # -- Keyboard only: Tab to the search box, type, ArrowDown + Enter.
    keys = chromium_browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        kb = keys.new_page()
        kb.set_default_timeout(15_000)
        kb.goto(base + "/")
        for _ in range(15):
            kb.keyboard.press("Tab")
            if kb.evaluate("document.activeElement.id") == "site-search":
                break
        else:
            pytest.fail("Tab never reached the search box")
        kb.keyboard.type("jap", delay=60)
        # The list for "jap" itself: on a busy machine the one for "ja" can show first and be
        # redrawn under the arrow key.
        option = kb.locator('#search-suggestions[data-query="jap"] [role=option]').first
        option.wait_for(state="visible")
        kb.keyboard.press("ArrowDown")
        assert option.get_attribute("aria-selected") == "true"
        assert "Japan" in option.inner_text()
        kb.keyboard.press("Enter")
        kb.wait_for_url(base + "/esim/japan/")
    finally:
        keys.close()
