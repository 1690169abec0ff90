"""Every page a visitor can GET also answers HEAD (uptime monitors, link checkers) with no body."""

from __future__ import annotations

import pytest

from catalog.tests.factories import PackageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def urls() -> list[str]:
    package = PackageFactory(retail_cents=999)
    return [
        "/",
        "/destinations/",
        "/search/?q=jap",
        "/search/suggest/?q=ja",
        package.destination.get_absolute_url(),
        package.get_absolute_url(),
        "/devices/",
        "/how-it-works/",
        "/terms/",
        "/refund-policy/",
        "/cart/",
        "/robots.txt",
        "/sitemap.xml",
        "/accounts/login/",
    ]


def test_head_answers_like_get_without_a_body(client, urls, clear_cache):
    for url in urls:
        get = client.get(url)
        head = client.head(url)
        assert head.status_code == get.status_code, url
        assert get.status_code in (200, 302), url
        assert head.content == b"", url
