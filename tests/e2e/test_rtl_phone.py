"""Arabic on a phone: the pages read right to left and nothing sticks out at 360 px (issue 20).

Chromium at 360×780 against the live site, the catalog synced from the sandbox. The first test
walks the Arabic pages (/ar/…); the second forces `dir="rtl"` on the English ones, so that the
CSS alone is checked: every page lays out mirrored with no overflow, whatever its language.
Screenshots land in test-artifacts/ (rtl-*.png).
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import translation

from catalog.models import Package
from conftest import screenshot

# Shares the sandbox with catalog/tests/test_sync.py: one worker runs them all.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("catalog-sync")]

PHONE = {"width": 360, "height": 780}

# Every element whose box leaves the screen sideways, unless a box around it scrolls or clips
# (the tabs scroll sideways on purpose) or it is off screen on purpose (the skip link until
# focused, text for screen readers only, what a closed <details> holds).
STICKING_OUT = """() => {
  const width = document.documentElement.clientWidth;
  const found = [];
  for (const el of document.body.querySelectorAll("*")) {
    if (el.closest(".visually-hidden, .skip-link, [hidden]")) continue;
    // What a closed <details> holds is not shown (Chromium still lays it out): its summary is.
    const closed = el.closest("details:not([open])");
    if (closed && closed !== el && !el.closest("summary")) continue;
    const box = el.getBoundingClientRect();
    if (!box.width || !box.height || (box.left >= -1 && box.right <= width + 1)) continue;
    let clipped = false;
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
      if (getComputedStyle(up).overflowX !== "visible") { clipped = true; break; }
    }
    if (!clipped) found.push(`${el.tagName.toLowerCase()}.${el.className} ${box.left}..${box.right}`);
  }
  return found;
}"""


@pytest.fixture
def small_phone(chromium_browser):
    context = chromium_browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def lays_out_right_to_left(page, name: str) -> None:
    """The page is right to left, fits the screen, and its header starts on the right."""
    assert page.evaluate("document.documentElement.dir") == "rtl", page.url
    overflow = page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page.url} is {overflow}px wider than the screen"
    assert page.evaluate(STICKING_OUT) == [], page.url
    width = page.evaluate("window.innerWidth")
    brand = page.locator(".site-header .brand").bounding_box()
    assert brand["x"] + brand["width"] >= width - 20, f"the shop's name is not on the right: {brand}"
    # The search button follows the box, so it is on its left.
    search = page.locator("#site-search").bounding_box()
    button = page.locator("form.search button[type=submit]").bounding_box()
    assert button["x"] + button["width"] <= search["x"], (search, button)
    screenshot(page, f"rtl-{name}")


def a_package() -> Package:
    return Package.objects.filter(destination__slug="japan", active=True).order_by("retail_cents")[0]


def test_arabic_pages_on_a_phone(synced_catalog, live_server, settings, clear_cache, small_phone):
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]
    page, base, pkg = small_phone, live_server.url, a_package()
    with translation.override("ar"):
        home, destination = reverse("catalog:home"), pkg.destination.get_absolute_url()
        package, cart = pkg.get_absolute_url(), reverse("checkout:cart_detail")
    assert home == "/ar/", home

    page.goto(base + home)
    lays_out_right_to_left(page, "ar-home")
    # The search box's own strings come from the JavaScript catalog, in Arabic.
    page.locator("#site-search").press_sequentially("japan", delay=40)
    page.locator("#search-suggestions [role=option]").first.wait_for(state="visible")
    status = page.locator("[data-suggest-status]")
    assert re.search("[\u0600-\u06ff]", status.text_content()), status.text_content()

    page.goto(base + destination)
    lays_out_right_to_left(page, "ar-destination")
    page.goto(base + package)
    lays_out_right_to_left(page, "ar-package")
    page.locator(".buy-box button[type=submit]").click()
    page.wait_for_url(base + cart)
    assert page.locator(".package-list .card").count() == 1
    lays_out_right_to_left(page, "ar-cart")


def test_every_page_lays_out_right_to_left(synced_catalog, live_server, settings, clear_cache, small_phone):
    """The CSS alone mirrors a page: the English pages, told they are right to left."""
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]
    page, base, pkg = small_phone, live_server.url, a_package()
    with translation.override("en"):
        pages = {
            "home": reverse("catalog:home"),
            "destination": pkg.destination.get_absolute_url(),
            "package": pkg.get_absolute_url(),
            "cart": reverse("checkout:cart_detail"),
        }
    for name, path in pages.items():
        page.goto(base + path)
        if name == "package":
            page.get_by_role("button", name="Add to cart").click()
            page.wait_for_url(re.compile(r"/cart/"))
            page.goto(base + path)
        if name == "cart":
            assert page.locator(".package-list .card").count() == 1
        page.evaluate("document.documentElement.dir = 'rtl'")
        lays_out_right_to_left(page, f"forced-{name}")
