"""`python -m sandboxes.roamify --port 8100 --seed 1 --token TOKEN`."""

from __future__ import annotations

import argparse
import logging
import time

from aiohttp import web

from . import catalog
from .app import create_app
from .config import DEFAULT_SMDP, DEFAULT_TOKEN, Config


def parse_args(argv: list[str] | None = None) -> Config:
    p = argparse.ArgumentParser(
        prog="python -m sandboxes.roamify", description="Offline emulator of the Roamify partner API."
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8100)
    p.add_argument(
        "--public-url", default=None, help="base URL put in image/QR/link URLs (default http://HOST:PORT)"
    )
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--token", default=DEFAULT_TOKEN)
    p.add_argument("--latency", choices=("zero", "realistic"), default="zero")
    p.add_argument("--page-mode", choices=("group", "package"), default="group")
    p.add_argument(
        "--unique-reference-ids", action="store_true", help="duplicate referenceId on eSIM orders -> 409"
    )
    p.add_argument(
        "--usage-unit",
        choices=("MB", "KB"),
        default="MB",
        help="unit of allowedData/remainingData in usage responses",
    )
    p.add_argument("--balance", type=float, default=100_000.0, help="starting USD balance")
    p.add_argument("--low-balance-threshold", type=float, default=100.0)
    p.add_argument("--webhook-url", default=None)
    p.add_argument("--webhook-secret", default="")
    p.add_argument(
        "--allow-bare-token",
        action="store_true",
        help="also accept 'Authorization: <token>' without 'Bearer'",
    )
    p.add_argument("--unknown-package-status", type=int, choices=(500, 400), default=500)
    p.add_argument("--smdp-address", default=DEFAULT_SMDP)
    a = p.parse_args(argv)
    return Config(
        seed=a.seed,
        token=a.token,
        host=a.host,
        port=a.port,
        public_url=a.public_url,
        latency=a.latency,
        page_mode=a.page_mode,
        unique_reference_ids=a.unique_reference_ids,
        usage_unit=a.usage_unit,
        balance=a.balance,
        webhook_url=a.webhook_url,
        webhook_secret=a.webhook_secret,
        allow_bare_token=a.allow_bare_token,
        unknown_package_status=a.unknown_package_status,
        smdp_address=a.smdp_address,
        low_balance_threshold=a.low_balance_threshold,
    )


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    config = parse_args(argv)
    started = time.perf_counter()
    cat = catalog.build(config.seed, config.base_url)  # build before binding: first call is fast
    logging.getLogger("sandboxes.roamify").info(
        "catalog seed=%d: %d packages in %d destinations (%.2fs); serving %s",
        config.seed,
        cat.package_count(),
        len(cat.groups),
        time.perf_counter() - started,
        config.base_url,
    )
    web.run_app(create_app(config), host=config.host, port=config.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
