"""The shop's settings with a one-view URLconf: the baseline for bench/catalog_bench.py."""

from storefront.settings import *  # noqa: F403

ROOT_URLCONF = "bench.bare_urls"
