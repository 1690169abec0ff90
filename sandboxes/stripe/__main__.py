"""`python -m sandboxes.stripe --port 8420 [--webhook-url URL --webhook-secret whsec_...]`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from .child import LocalStripeProcess

log = logging.getLogger("sandboxes.stripe")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m sandboxes.stripe", description=__doc__)
    p.add_argument("--port", type=int, default=8420, help="front port (0: any)")
    p.add_argument("--host", default="127.0.0.1", help="front address (loopback unless in a container)")
    p.add_argument("--localstripe-port", type=int, default=0, help="localstripe's port (0: a free one)")
    p.add_argument("--webhook-url", help="register this webhook endpoint at start")
    p.add_argument("--webhook-secret", help="its signing secret (whsec_...)")
    p.add_argument("--public-url", help="base URL of the hosted pages (default http://127.0.0.1:PORT)")
    p.add_argument("--business-name", default="Sandbox Store", help="shown on the hosted page")
    p.add_argument("--webhook-attempts", type=int, default=5, help="tries per delivery")
    p.add_argument("--webhook-backoff", type=float, default=0.5, help="first retry delay, doubled each time")
    p.add_argument(
        "--no-state-file",
        action="store_true",
        help="localstripe keeps its state in memory only, instead of rewriting all of it to a file on "
        "every write (each payment slower than the last: for long runs such as the soak)",
    )
    p.add_argument("--log-level", default="INFO")
    args = p.parse_args(argv)
    if bool(args.webhook_url) != bool(args.webhook_secret):
        p.error("--webhook-url and --webhook-secret go together")
    return args


async def serve(args: argparse.Namespace, process: LocalStripeProcess) -> None:
    from aiohttp import web

    from .app import SANDBOX, create_app
    from .state import Config

    config = Config(
        port=args.port,
        localstripe_port=process.port,
        public_url=args.public_url.rstrip("/") if args.public_url else None,
        webhook_url=args.webhook_url,
        webhook_secret=args.webhook_secret,
        webhook_attempts=args.webhook_attempts,
        webhook_backoff=args.webhook_backoff,
    )
    app = create_app(config, business_name=args.business_name, process=process)
    runner = web.AppRunner(app, access_log=logging.getLogger("aiohttp.access"))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await runner.setup()  # starts localstripe (cleanup_ctx) before we accept requests
    try:
        site = web.TCPSite(runner, args.host, args.port)
        await site.start()
        port = runner.addresses[0][1]
        sb = app[SANDBOX]
        if not config.public_url:
            sb.public_url = f"http://127.0.0.1:{port}"
        print(
            f"Stripe sandbox on http://127.0.0.1:{port} "
            f"(localstripe on {sb.ls.base_url}, pages at {sb.public_url})",
            flush=True,
        )
        await stop.wait()
    finally:
        await runner.cleanup()  # stops localstripe too
        log.info("stopped")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    port = args.localstripe_port
    if not port:
        from sandboxes._process import free_port

        port = free_port()
    # Start localstripe first: its start-up overlaps with importing aiohttp and the app.
    process = LocalStripeProcess(port, state_file=not args.no_state_file)
    process.start()
    try:
        asyncio.run(serve(args, process))
    finally:
        process.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
