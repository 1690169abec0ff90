#!/usr/bin/env python
"""Edge benchmark: catalog pages from nginx's cache against the bare Django view, in one run.

    python bench/edge_bench.py            (or: make bench-edge)

1. Drops and creates the PostgreSQL database `bench_edge`, migrates it and syncs the Roamify
   sandbox's 28,000 packages into it (as bench/catalog_bench.py does; same Redis DB 14 and a
   key prefix of the run's own, deleted at the end).
2. Serves the shop with gunicorn (DEBUG=0) and, beside it, the bare view
   (bench/bare_settings.py: the same settings and middleware, one view returning "ok"), and
   puts nginx in front of the shop: deploy/nginx/nginx.conf.template rendered as the
   container's entrypoint renders it, cache in a temporary directory.
3. wrk, 64 connections, `Accept-Encoding: gzip` as browsers send it: the bare view, then
   home, a destination and a package page through nginx (each a cache HIT) for each language
   (`--languages en,es`) and currency (`--currencies USD,EUR`, the `currency` cookie), the same pages
   from gunicorn directly, and the bare view again. Prints requests/s, p50, p99 and the
   ratio to the bare view (the mean of its two runs).

Targets: a page from nginx's cache >= 5 x the bare view's throughput, with p99 < 20 ms.
Results also go to bench/results/edge-<timestamp>.json. Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import baseline  # noqa: E402
from bench._common import RESULTS, database_url, fresh_database, log, prepare_run, write_result  # noqa: E402
from bench.catalog_bench import (  # noqa: E402
    Gunicorn,
    drop_cache_keys,
    ensure_wrk,
    parse_wrk,
    site_env,
    time_syncs,
)
from deploy.local import LocalNginx  # noqa: E402

DB_NAME = "bench_edge"
TARGETS = {"edge_ratio": 5.0, "edge_p99_ms": 20.0}
BROWSER = {"Accept-Encoding": "gzip"}


def wrk_load(
    wrk: str, url: str, connections: int, seconds: int, warmup: int, headers: dict | None = None
) -> dict:
    threads = str(min(2, os.cpu_count() or 1))
    common = [wrk, "-t", threads, "-c", str(connections), "--timeout", "5s"]
    for name, value in {**BROWSER, **(headers or {})}.items():
        common += ["-H", f"{name}: {value}"]
    subprocess.run([*common, "-d", f"{warmup}s", url], check=True, capture_output=True)
    done = subprocess.run(
        [*common, "-d", f"{seconds}s", "--latency", url], check=True, capture_output=True, text=True
    )
    return parse_wrk(done.stdout)


def cache_state(url: str, header: str, headers: dict | None = None) -> str:
    """The page answers 200 and, asked twice, comes from the cache the second time."""
    import httpx

    with httpx.Client(timeout=10, headers={**BROWSER, **(headers or {})}) as client:
        client.get(url)
        response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}")
    return response.headers.get(header, "-").lower()


def report(result: dict) -> bool:
    cfg = result["config"]
    print()
    print(
        f"wrk {cfg['connections']} connections, {cfg['seconds']} s each after {cfg['warmup']} s "
        f"warm-up, Accept-Encoding: gzip; gunicorn {cfg['workers']} sync workers; nginx "
        f"{cfg['nginx']}; {cfg['cpus']} CPUs shared by all"
    )
    header = f"  {'what':<60} {'cache':>6} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'vs bare':>8}  verdict"
    print(header)
    print("  " + "-" * (len(header) - 2))
    rows = result["rows"]
    bare = (rows["bare-before"]["rps"] + rows["bare-after"]["rps"]) / 2
    result["bare_rps"] = round(bare, 1)
    ok = True
    for name, row in rows.items():
        row["ratio"] = round(row["rps"] / bare, 2) if bare else 0.0
        verdict = ""
        if name.startswith("nginx"):
            passed = (
                row["ratio"] >= TARGETS["edge_ratio"]
                and row["p99_ms"] < TARGETS["edge_p99_ms"]
                and row["non_2xx"] == 0
                and row["cache"] == "hit"
            )
            row["ok"] = passed
            ok &= passed
            verdict = "ok" if passed else "MISSED"
        label = f"{name} {row['path']}"
        print(
            f"  {label[:60]:<60} {row['cache']:>6} {row['rps']:>8.0f} {row['p50_ms']:>7.1f} "
            f"{row['p99_ms']:>7.1f} {row['ratio']:>8.2f}  {verdict}"
            f"{'  (' + str(row['non_2xx']) + ' non-2xx)' if row['non_2xx'] else ''}"
        )
    print(f"\n'vs bare' is against the mean of the two bare runs ({bare:.0f} req/s).")
    print(
        f"Targets (nginx rows): >= {TARGETS['edge_ratio']:.0f} x bare, "
        f"p99 < {TARGETS['edge_p99_ms']:.0f} ms.  Overall: {'all met' if ok else 'MISSED'}"
    )
    return ok


def main() -> int:
    cpus = os.cpu_count() or 1
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--seconds", type=int, default=10, help="measured seconds per URL")
    parser.add_argument("--warmup", type=int, default=2, help="warm-up seconds per URL")
    parser.add_argument("--workers", type=int, default=2 * cpus + 1, help="gunicorn sync workers")
    # Pages are cached per language (in the URL: /es/… once i18n URLs are in) and per currency
    # (the `currency` cookie): the nginx rows are measured for each pair.
    parser.add_argument("--languages", default="en", help="comma-separated, e.g. en,es (en has no prefix)")
    parser.add_argument("--currencies", default="USD,EUR", help="comma-separated, sent as the cookie")
    baseline.add_arguments(parser)
    args = parser.parse_args()

    from sandboxes.roamify.testing import RoamifySandbox

    wrk = ensure_wrk()
    nginx_bin = shutil.which("nginx")
    if not nginx_bin:
        sys.exit("nginx is required: sudo apt-get install nginx")
    prepare_run()
    RESULTS.mkdir(parents=True, exist_ok=True)
    sandbox = RoamifySandbox(
        seed=1, extra_args=["--latency", "zero"], log_path=RESULTS / "edge-roamify-sandbox.log"
    )
    workdir = Path(tempfile.mkdtemp(prefix="edge-bench-"))
    servers: list[Gunicorn] = []
    nginx: LocalNginx | None = None
    try:
        log(f"fresh database {DB_NAME}")
        fresh_database(DB_NAME)
        sandbox.start()
        env = {**site_env(sandbox), "DATABASE_URL": database_url(DB_NAME)}
        os.environ.update(env)
        sync = time_syncs()
        from catalog.rates import refresh_exchange_rates

        refresh_exchange_rates()  # the currencies' rates, as the sync command does

        shop = Gunicorn("edge-shop", env, args.workers, 1)
        bare = Gunicorn(
            "edge-bare", {**env, "DJANGO_SETTINGS_MODULE": "bench.bare_settings"}, args.workers, 1
        )
        servers += [shop, bare]
        shop.wait_ready()
        bare.wait_ready()
        (workdir / "static").mkdir()
        nginx = LocalNginx(f"127.0.0.1:{shop.port}", workdir / "static", workdir)
        nginx.start()
        version = subprocess.run([nginx_bin, "-v"], capture_output=True, text=True).stderr.strip()

        pages = [("home", "/"), ("destination", "/esim/japan/"), ("package", sync["package_url"])]
        languages = [code.strip() for code in args.languages.split(",") if code.strip()]
        currencies = [code.strip().upper() for code in args.currencies.split(",") if code.strip()]
        targets = [("bare-before", bare.url, "/", "", {})]
        for language in languages:
            prefix = "" if language == "en" else f"/{language}"
            for currency in currencies:
                cookie = {"Cookie": f"currency={currency}"}
                targets += [
                    (
                        f"nginx {name} {language} {currency}",
                        nginx.url,
                        prefix + path,
                        "x-cache-status",
                        cookie,
                    )
                    for name, path in pages
                ]
        targets += [(f"django {name}", shop.url, path, "x-page-cache", {}) for name, path in pages]
        targets += [("bare-after", bare.url, "/", "", {})]
        rows = {}
        for name, base, path, header, headers in targets:
            state = cache_state(base + path, header, headers) if header else "-"
            log(f"loading {name} {path} ({state}) ...")
            rows[name] = {
                "path": path,
                "cache": state,
                **wrk_load(wrk, base + path, args.connections, args.seconds, args.warmup, headers),
            }
        result = {
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "config": {
                "connections": args.connections,
                "seconds": args.seconds,
                "warmup": args.warmup,
                "workers": args.workers,
                "cpus": cpus,
                "languages": args.languages,
                "currencies": args.currencies,
                "nginx": version.split("/")[-1],
                "python": platform.python_version(),
                "machine": platform.machine(),
            },
            "targets": TARGETS,
            "rows": rows,
        }
        ok = report(result)
        result["all_targets_met"] = ok
        write_result("edge", result)
        baseline.after_run("edge", result, args)
        return 0 if ok else 1
    except KeyboardInterrupt:
        log("interrupted; cleaning up")
        return 130
    finally:
        if nginx:
            nginx.stop()
        for server in servers:
            server.stop()
        sandbox.stop()
        with contextlib.suppress(Exception):
            drop_cache_keys()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
