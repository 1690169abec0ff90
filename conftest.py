"""Fixtures shared by every app's tests: the sandboxes, services and Chromium.

A test that needs a missing service skips, unless REQUIRE_SERVICES=1 (as on
CI), where it fails instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
ARTIFACTS = ROOT / "test-artifacts"
REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def need(condition: bool, what: str) -> None:
    """Skip (or, under REQUIRE_SERVICES=1, fail) when a service is missing."""
    if condition:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"{what} is required (REQUIRE_SERVICES=1) but missing")
    pytest.skip(f"{what} is not available")


@pytest.fixture
def postgres(db) -> None:
    from django.db import connection

    need(connection.vendor == "postgresql", "PostgreSQL")


@pytest.fixture
def redis_url() -> str:
    from django.conf import settings

    need(bool(settings.REDIS_URL), "Redis")
    return settings.REDIS_URL


@pytest.fixture(scope="session")
def roamify_sandbox(tmp_path_factory) -> Iterator:
    try:
        from sandboxes.roamify.testing import RoamifySandbox

        sandbox = RoamifySandbox(seed=1, log_path=tmp_path_factory.mktemp("roamify") / "sandbox.log")
        sandbox.start()
    except Exception as exc:  # the sandbox is a service like any other here
        need(False, f"Roamify sandbox ({exc})")
    yield sandbox
    sandbox.stop()


@pytest.fixture
def roamify(roamify_sandbox, settings):
    """A fresh Roamify sandbox, and the shop's settings pointing at it."""
    roamify_sandbox.control.reset()
    settings.ROAMIFY_BASE_URL = roamify_sandbox.base_url
    settings.ROAMIFY_API_TOKEN = roamify_sandbox.token
    return roamify_sandbox


@pytest.fixture(scope="session")
def chromium_browser() -> Iterator:
    need(os.path.exists("/usr/bin/chromium"), "Chromium (/usr/bin/chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
        )
        yield browser
        browser.close()


@pytest.fixture
def phone(chromium_browser) -> Iterator:
    """A page in a phone-sized viewport (iPhone 13-like)."""
    context = chromium_browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True,
        user_agent="Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
                   "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
