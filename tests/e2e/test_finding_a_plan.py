"""Finding the right plan on a phone, counting taps (issue 10).

Each journey pins how many taps it takes; typing is not a tap, tapping into a
text box is. Before issue 10 (commit 534a468) the same journeys took:
- Japan, 10 days, 5 GB: 7 taps (Japan, validity, "8–15 days", data, "5 GB+",
  "Show plans", then a plan) and the filter hid the best plan (5 GB / 21 days);
- France + Italy + Spain: no answer to the query; 4 taps by way of the France
  page, its link to Europe after all 153 plans, and a plan;
- a phone check: the link was hidden in the phone header; 3 taps from the
  footer, with a wrong "yes" for "Moto G" and "Pixel 3a".
"""

from __future__ import annotations

import re

import pytest

from catalog import planner
from catalog.models import CompatibleDevice, Package
from catalog.tests.factories import DestinationFactory, PackageFactory
from conftest import screenshot
from sandboxes.roamify.data import DEVICES

PHONE_HEIGHT = 844


class Taps:
    """Taps a locator on a touch screen and counts it."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, locator) -> None:
        locator.scroll_into_view_if_needed()
        locator.tap()
        self.count += 1


def on_screen(page, locator) -> bool:
    box = locator.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= PHONE_HEIGHT


def fits_the_screen(page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth") - page.viewport_size["width"]
    assert overflow <= 0, f"{page.url} is {overflow}px wider than the screen"


@pytest.mark.e2e
@pytest.mark.xdist_group("catalog-sync")
def test_japan_trip_and_france_italy_spain_in_three_taps(
    synced_catalog,
    live_server,
    settings,
    clear_cache,
    phone,
    chromium_browser,
):
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]
    base, page = live_server.url, phone

    # -- Japan, 10 days, 5 GB: Japan, "10", "5 GB". The pick is on screen.
    taps = Taps()
    page.goto(base + "/")
    assert page.evaluate("document.documentElement.scrollHeight") <= 4 * PHONE_HEIGHT
    taps(page.locator(".grid-dest a", has_text="Japan"))
    page.wait_for_url(base + "/esim/japan/")
    taps(page.locator("label[for=days-10]"))
    taps(page.locator("label[for=data-5]"))
    pick = page.locator("#planner-result .pick .package-card")
    pick.wait_for()
    cards = planner.collapse(list(Package.objects.filter(destination__slug="japan", active=True)))
    advice = planner.recommend(cards, planner.Trip(10, "5"))
    best = advice.best
    assert pick.get_attribute("href").endswith(f"/{best.package_id}/")
    assert best.days >= 10 and (best.is_unlimited or best.data_mb >= 5 * 1024)
    assert on_screen(page, pick)
    assert taps.count == 3
    alternatives = page.locator("#planner-result .alternatives .package-card")
    assert alternatives.count() == (advice.cheaper is not None) + (advice.unlimited is not None) >= 1
    # No card repeats its title ("1 GB · 1 day" above "1 GB - 1 Day").
    assert page.locator(".package-card", has_text=re.compile(r"\d+ GB - \d+ Days?")).count() == 0
    screenshot(page, "plan-japan-10-days-5gb")
    fits_the_screen(page)
    taps(pick)
    page.wait_for_url(re.compile(rf"/esim/japan/{best.package_id}/$"))
    assert page.get_by_role("link", name="Not installed? Full refund.").first.is_visible()
    assert taps.count == 4

    # -- Without JavaScript the planner still answers (one more tap: "Show my plan").
    nojs = chromium_browser.new_context(
        viewport={"width": 390, "height": PHONE_HEIGHT}, java_script_enabled=False
    )
    try:
        plain = nojs.new_page()
        plain.goto(base + "/esim/japan/")
        plain.locator("label[for=days-10]").click()
        plain.locator("label[for=data-5]").click()
        plain.get_by_role("button", name="Show my plan").click()
        plain.wait_for_url(re.compile(r"days=10&data=5"))
        assert (
            plain.locator("#planner-result .pick .package-card")
            .get_attribute("href")
            .endswith(f"/{best.package_id}/")
        )
    finally:
        nojs.close()

    # -- France, Italy and Spain: the search box, the region that covers all three, a plan.
    taps = Taps()
    page.goto(base + "/")
    search = page.locator("#site-search")
    taps(search)
    search.press_sequentially("France Italy Spain", delay=30)
    # The list for the whole query (on a busy machine one for "France Italy" can show first).
    first = page.locator('#search-suggestions[data-query="France Italy Spain"] [role=option]').first
    first.wait_for(state="visible")
    assert "Europe" in first.inner_text() and "Covers all 3" in first.inner_text()
    screenshot(page, "search-france-italy-spain")
    taps(first)
    page.wait_for_url(base + "/esim/europe/")
    assert "countries" in page.locator(".dest-head").inner_text()
    taps(page.locator(".package-list .package-card").first)
    page.wait_for_url(re.compile(r"/esim/europe/esim-europe-[^/]+/$"))
    assert taps.count == 3

    # -- On the France page the multi-country plans sit above the planner and the list.
    page.goto(base + "/esim/france/")
    offers = page.locator("#region-offers")
    assert "Europe" in offers.inner_text()
    assert offers.bounding_box()["y"] < page.locator("form[data-planner]").bounding_box()["y"]
    assert on_screen(page, offers.locator("summary"))
    screenshot(page, "plan-france")

    # -- Typing: "UK" is never Ukraine; a typo still suggests.
    page.goto(base + "/")
    page.locator("#site-search").fill("")
    page.locator("#site-search").press_sequentially("UK", delay=30)
    option = page.locator('#search-suggestions[data-query="UK"] [role=option]').first
    option.wait_for(state="visible")
    assert "United Kingdom" in option.inner_text()
    assert "Ukraine" not in page.locator("#search-suggestions").inner_text()
    page.locator("#site-search").fill("")
    page.locator("#site-search").press_sequentially("japn", delay=30)
    page.locator("#search-suggestions [role=option]", has_text="Japan").wait_for(state="visible")


@pytest.fixture
def phones_and_a_plan(transactional_db):
    CompatibleDevice.objects.bulk_create(
        [
            CompatibleDevice(model=m, device_type=t, os=o, brand=b, name=n, search_text=m.lower())
            for m, t, o, b, n in DEVICES
        ]
    )
    japan = DestinationFactory(name="Japan", code="JP", slug="japan", popularity=50)
    return PackageFactory(
        destination=japan,
        package_id="esim-japan-10days-5gb-all",
        days=10,
        data_mb=5120,
        name="5 GB - 10 Days",
        retail_cents=1299,
    )


@pytest.mark.e2e
def test_three_phone_checks(phones_and_a_plan, live_server, settings, clear_cache, phone):
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]
    base, page = live_server.url, phone
    plan = phones_and_a_plan

    # -- From a plan page: "Check your phone", the box, "Check my phone": yes, and back to the plan.
    taps = Taps()
    page.goto(base + plan.get_absolute_url())
    taps(page.get_by_role("link", name="Check your phone").first)
    box = page.get_by_label("Your phone or tablet model")
    taps(box)
    box.fill("pixel7")
    taps(page.get_by_role("button", name="Check my phone"))
    answer = page.locator(".answer")
    assert answer.inner_text().startswith("Yes: the Google Pixel 7 supports eSIM.")
    assert taps.count == 3
    fits_the_screen(page)
    screenshot(page, "device-yes-back-to-plan")
    taps(page.get_by_role("link", name="Back to your plan"))
    page.wait_for_url(base + plan.get_absolute_url())
    assert taps.count == 4

    # -- From the phone header: "Moto G" is a question, never a yes for another phone.
    taps = Taps()
    page.goto(base + "/")
    header_link = page.locator(".site-header").get_by_role("link", name="Phone check")
    assert on_screen(page, header_link)
    taps(header_link)
    box = page.get_by_label("Your phone or tablet model")
    taps(box)
    box.fill("Moto G")
    taps(page.get_by_role("button", name="Check my phone"))
    text = page.locator(".answer").inner_text()
    assert "Yes" not in text and "Most Moto G phones do not support eSIM" in text
    assert taps.count == 3
    screenshot(page, "device-moto-g")

    # -- Browse by brand: the Galaxy A phones without eSIM are named.
    taps = Taps()
    page.goto(base + "/")
    taps(page.locator(".site-header").get_by_role("link", name="Phone check"))
    taps(page.get_by_role("link", name=re.compile(r"^Samsung")))
    page.wait_for_url(base + "/devices/samsung/")
    body = page.locator("main").inner_text()
    assert "Samsung Galaxy A54" in body and "Samsung Galaxy A14" in body
    assert "Most Galaxy A phones do not support eSIM" in body
    assert taps.count == 2
    fits_the_screen(page)
    screenshot(page, "device-brand-samsung")
