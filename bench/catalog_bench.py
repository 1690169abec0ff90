#!/usr/bin/env python
"""Catalog benchmark: sync speed, and page throughput against a bare Django view.

    python bench/catalog_bench.py            (or: make bench-catalog)

1. Drops and creates the PostgreSQL database `bench_catalog` (127.0.0.1:5432, user
   postgres) and migrates it. The cache is Redis DB 14 under a key prefix of this run's own,
   deleted at the end (nothing else there is touched: the test suite caches there too).
2. Starts the Roamify sandbox (no latency) and times a full first sync of its
   28,000 packages, then an unchanged re-sync.
3. Serves the shop with gunicorn (DEBUG=0), and beside it the same settings and
   middleware with a one-view URLconf (bench/bare_settings.py) as the baseline.
4. Loads home, a destination page, a package page and a conditional GET of the destination
   page (If-None-Match: what a shared cache sends to revalidate) with wrk (32 connections,
   `Accept-Encoding: gzip` as browsers send it, `--identity` for plain bodies): after a
   warm-up, 10 s each in 5 slices alternating with slices of the bare view, so each ratio
   compares two measurements of the same moments. Prints requests/s, p50 and p99.

Targets: full sync <= 60 s, unchanged re-sync <= 20 s, page/bare throughput >= 0.8,
p99 < 100 ms. Results also go to bench/results/catalog-<timestamp>.json. Exits 1 when
a target is missed. Every process started here is stopped at the end, also on Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import (  # noqa: E402
    RESULTS,
    database_url,
    free_port,
    fresh_database,
    log,
    prepare_run,
    stop_process_group,
    write_result,
)

DB_NAME = "bench_catalog"
DATABASE_URL = database_url(DB_NAME)
REDIS_URL = "redis://127.0.0.1:6379/14"

TARGETS = {"full_sync_s": 60.0, "unchanged_sync_s": 20.0, "ratio": 0.8, "p99_ms": 100.0}


# -- setup ------------------------------------------------------------------------------


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        log("wrk is missing; installing the Debian package")
        subprocess.run(
            ["apt-get", "install", "-y", "-q", "wrk"],
            check=False,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )
        found = shutil.which("wrk")
    if not found:
        sys.exit("wrk is required: sudo apt-get install wrk")
    return found


CACHE_PREFIX = f"bench-catalog-{os.getpid()}"


def drop_cache_keys() -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"{CACHE_PREFIX}:*", count=1000))
    if keys:
        client.delete(*keys)


def site_env(sandbox) -> dict[str, str]:
    return {
        "DEBUG": "0",
        "SECRET_KEY": "bench",
        "ALLOW_SANDBOX_SECRETS": "1",  # the sandboxes' public keys
        "DATABASE_URL": DATABASE_URL,
        "REDIS_URL": REDIS_URL,
        "CACHE_REDIS_URL": REDIS_URL,
        "CACHE_KEY_PREFIX": CACHE_PREFIX,
        "CELERY_BROKER_URL": REDIS_URL,
        "STATIC_MANIFEST": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "ROAMIFY_BASE_URL": sandbox.base_url,
        "ROAMIFY_API_TOKEN": sandbox.token,
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "storefront.settings",
    }


def time_syncs() -> dict:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    from catalog.models import Package
    from catalog.services import sync_catalog

    log("migrating")
    call_command("migrate", verbosity=0)
    out = {}
    for label in ("full", "unchanged"):
        log(f"{label} sync ...")
        started = time.monotonic()
        run = sync_catalog(trigger="bench").run
        seconds = time.monotonic() - started
        if run.status != run.Status.SUCCEEDED:
            raise RuntimeError(f"{label} sync failed: {run.error}")
        out[label] = {
            "seconds": round(seconds, 2),
            "upstream_packages": run.upstream_packages,
            "added": run.added,
            "changed": run.changed,
            "deactivated": run.deactivated,
            "pages": run.pages,
        }
        log(
            f"{label} sync: {seconds:.1f} s ({run.added} added, {run.changed} changed, "
            f"{run.deactivated} deactivated)"
        )
    package = (
        Package.objects.active()
        .select_related("destination")
        .filter(destination__slug="japan")
        .order_by("retail_cents", "id")
        .first()
    )
    out["package_url"] = package.get_absolute_url()
    connections.close_all()
    return out


# -- servers ----------------------------------------------------------------------------


class Gunicorn:
    def __init__(self, name: str, env: dict[str, str], workers: int, threads: int) -> None:
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = RESULTS / f"catalog-gunicorn-{name}.log"
        args = [
            sys.executable,
            "-m",
            "gunicorn",
            "storefront.wsgi:application",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(workers),
            "--backlog",
            "2048",
            "--log-level",
            "warning",
            "--chdir",
            str(ROOT),
        ]
        if threads > 1:
            args += ["--worker-class", "gthread", "--threads", str(threads)]
        RESULTS.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "wb")
        # Its own session, so Ctrl-C reaches us (and the cleanup) rather than killing it half-way.
        self.proc = subprocess.Popen(
            args,
            env={**os.environ, **env},
            cwd=ROOT,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, path: str = "/", timeout: float = 30) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn {self.name} exited; see {self.log_path}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + path, timeout=5).status_code == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn {self.name} not ready in {timeout} s; see {self.log_path}")

    def stop(self) -> None:
        stop_process_group(self.proc, 10)
        self._log.close()


# -- load -------------------------------------------------------------------------------

_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return round(float(number) * _UNIT_MS[unit], 3)


def parse_wrk(output: str) -> dict:
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.M)
    total = re.search(r"(\d+) requests in", output)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if not (rps and p50 and p99 and total):
        raise RuntimeError(f"could not read wrk's output:\n{output}")
    return {
        "rps": float(rps.group(1)),
        "p50_ms": _ms(p50.group(1)),
        "p99_ms": _ms(p99.group(1)),
        "requests": int(total.group(1)),
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": dict(
            zip(("connect", "read", "write", "timeout"), map(int, errors.groups()), strict=True)
        )
        if errors
        else {},
    }


def wrk_command(wrk: str, connections: int, headers: dict[str, str]) -> list[str]:
    threads = str(min(2, os.cpu_count() or 1))
    command = [wrk, "-t", threads, "-c", str(connections), "--timeout", "5s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    return command


def run_wrk(command: list[str], url: str, seconds: int) -> dict:
    done = subprocess.run(
        [*command, "-d", f"{seconds}s", "--latency", url], check=True, capture_output=True, text=True
    )
    return parse_wrk(done.stdout)


def combine(slices: list[dict]) -> dict:
    """Slices of one URL as one measurement: mean req/s, median p50, worst p99."""
    return {
        "rps": round(statistics.fmean(s["rps"] for s in slices), 1),
        "p50_ms": statistics.median(s["p50_ms"] for s in slices),
        "p99_ms": max(s["p99_ms"] for s in slices),
        "requests": sum(s["requests"] for s in slices),
        "non_2xx": sum(s["non_2xx"] for s in slices),
        "slices_rps": [s["rps"] for s in slices],
    }


def load(wrk: str, url: str, bare_url: str, args: argparse.Namespace, headers: dict[str, str]) -> dict:
    """The page and the bare view in alternating slices, so both see the same machine.

    On a shared machine the load changes within seconds; measuring the bare view right
    beside each page, slice by slice, keeps the ratio honest where one bare run before
    and one after could not.
    """
    page_cmd = wrk_command(wrk, args.connections, headers)
    bare_cmd = wrk_command(wrk, args.connections, {k: v for k, v in headers.items() if k != "If-None-Match"})
    for command, target in ((bare_cmd, bare_url), (page_cmd, url)):
        subprocess.run([*command, "-d", f"{args.warmup}s", target], check=True, capture_output=True)
    slice_seconds = max(1, round(args.seconds / args.rounds))
    page_slices, bare_slices = [], []
    for _ in range(args.rounds):
        bare_slices.append(run_wrk(bare_cmd, bare_url, slice_seconds))
        page_slices.append(run_wrk(page_cmd, url, slice_seconds))
    bare = combine(bare_slices)
    return {**combine(page_slices), "bare": bare}


def check_page(url: str, headers: dict[str, str]) -> dict:
    """The page answers as expected and, for catalog pages, comes from the cache the second time.

    Returns what the table shows: the cache state, the body's size on the wire and the ETag.
    """
    import httpx

    # httpx asks for gzip unless told otherwise; wrk asks for nothing it is not given.
    with httpx.Client(timeout=10, headers={"Accept-Encoding": "identity", **headers}) as client:
        client.get(url)
        response = client.get(url)
    expected = 304 if "If-None-Match" in headers else 200
    if response.status_code != expected:
        raise RuntimeError(f"{url} answered {response.status_code}, not {expected}")
    if response.headers.get("set-cookie"):
        log(f"warning: {url} sets a cookie ({response.headers['set-cookie'][:60]}...)")
    cache_state = response.headers.get("x-page-cache", "-")
    if cache_state != "-" and "s-maxage" not in response.headers.get("cache-control", ""):
        log(f"warning: {url} is cached but not for shared caches: {response.headers.get('cache-control')}")
    size = int(response.headers.get("content-length", len(response.content)))  # on the wire
    return {
        "cache": cache_state,
        "bytes": size,
        "etag": response.headers.get("etag"),
        "encoding": response.headers.get("content-encoding", "-"),
    }


# -- report -----------------------------------------------------------------------------


def report(result: dict) -> bool:
    ok = True
    sync = result["sync"]
    print()
    print("Catalog sync (28,000 packages, sandbox without latency, PostgreSQL)")
    for label, key in (("full first sync", "full_sync_s"), ("unchanged re-sync", "unchanged_sync_s")):
        seconds = sync["full" if key == "full_sync_s" else "unchanged"]["seconds"]
        passed = seconds <= TARGETS[key]
        ok &= passed
        print(
            f"  {label:<20} {seconds:>7.1f} s   target <= {TARGETS[key]:.0f} s   "
            f"{'ok' if passed else 'MISSED'}"
        )
    cfg = result["config"]
    print()
    print(
        f"Pages: wrk {cfg['connections']} connections, {cfg['seconds']} s each after "
        f"{cfg['warmup']} s warm-up; gunicorn {cfg['workers']} workers"
        f"{' x ' + str(cfg['threads']) + ' threads' if cfg['threads'] > 1 else ''}, {cfg['cpus']} CPUs"
    )
    header = (
        f"  {'page':<44} {'cache':>5} {'bytes':>7} {'bare/s':>7} {'req/s':>7} {'p50 ms':>7} "
        f"{'p99 ms':>7} {'vs bare':>7}  verdict"
    )
    print(header)
    print("  " + "-" * (len(header) - 2))
    pages = result["pages"]
    bare_all = [p["bare"] for p in pages.values()]
    result["bare_rps"] = round(statistics.fmean(b["rps"] for b in bare_all), 1)
    result["bare_p99_ms"] = max(b["p99_ms"] for b in bare_all)
    for name, page in pages.items():
        bare = page["bare"]["rps"]
        ratio = page["rps"] / bare if bare else 0.0
        page["ratio"] = round(ratio, 3)
        passed = page["p99_ms"] < TARGETS["p99_ms"] and page["non_2xx"] == 0 and ratio >= TARGETS["ratio"]
        page["ok"] = passed
        ok &= passed
        label = f"{name} {page['path']}"
        print(
            f"  {label[:44]:<44} {page['cache']:>5} {page['bytes']:>7} {bare:>7.0f} {page['rps']:>7.0f} "
            f"{page['p50_ms']:>7.1f} {page['p99_ms']:>7.1f} {ratio:>7.2f}  {'ok' if passed else 'MISSED'}"
            f"{'  (' + str(page['non_2xx']) + ' non-2xx)' if page['non_2xx'] else ''}"
        )
    print(
        f"\n'bare/s' is the bare view measured in slices alternating with each page's "
        f"({cfg['rounds']} x {cfg['slice_seconds']} s each); over the run it averaged "
        f"{result['bare_rps']:.0f} req/s, p99 at worst {result['bare_p99_ms']:.1f} ms."
    )
    print(
        f"Targets: page/bare >= {TARGETS['ratio']}, p99 < {TARGETS['p99_ms']:.0f} ms.  "
        f"Overall: {'all met' if ok else 'MISSED'}"
    )
    return ok


def main() -> int:
    cpus = os.cpu_count() or 1
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=int, default=10, help="measured seconds per URL")
    parser.add_argument(
        "--rounds",
        type=int,
        default=5,
        help="slices each URL's seconds are cut into, alternating with the bare view",
    )
    parser.add_argument("--warmup", type=int, default=2, help="warm-up seconds per URL")
    parser.add_argument(
        "--workers",
        type=int,
        default=2 * cpus + 1,
        help="gunicorn sync workers (default: 2 x CPUs + 1, gunicorn's advice; more "
        "workers than CPUs keep the CPUs busy while others wait on Redis)",
    )
    parser.add_argument(
        "--threads", type=int, default=1, help="threads per worker; more than 1 uses gthread workers"
    )
    parser.add_argument(
        "--identity",
        action="store_true",
        help="ask for plain bodies (default: Accept-Encoding: gzip, as browsers do)",
    )
    args = parser.parse_args()

    from sandboxes.roamify.testing import RoamifySandbox

    wrk = ensure_wrk()
    prepare_run()
    RESULTS.mkdir(parents=True, exist_ok=True)
    sandbox = RoamifySandbox(
        seed=1, extra_args=["--latency", "zero"], log_path=RESULTS / "catalog-roamify-sandbox.log"
    )
    servers: list[Gunicorn] = []
    try:
        log(f"fresh database {DB_NAME}; cache in Redis DB 14 under {CACHE_PREFIX}")
        fresh_database(DB_NAME)
        sandbox.start()
        env = site_env(sandbox)
        os.environ.update(env)
        sync = time_syncs()

        shop = Gunicorn("shop", env, args.workers, args.threads)
        bare = Gunicorn(
            "bare", {**env, "DJANGO_SETTINGS_MODULE": "bench.bare_settings"}, args.workers, args.threads
        )
        servers += [shop, bare]
        shop.wait_ready()
        bare.wait_ready()

        # Each page is measured in slices alternating with the bare view (see load()).
        # The 304 row is what revalidating a page costs a shared cache in front (nginx).
        targets = [
            ("home", "/"),
            ("destination", "/esim/japan/"),
            ("package", sync["package_url"]),
            ("destination-304", "/esim/japan/"),
        ]
        browser = {} if args.identity else {"Accept-Encoding": "gzip, deflate, br"}
        check_page(bare.url + "/", browser)
        pages = {}
        etags: dict[str, str] = {}
        for name, path in targets:
            url = shop.url + path
            headers = dict(browser)
            if name.endswith("-304"):
                headers["If-None-Match"] = etags[path]
            seen = check_page(url, headers)
            if seen["etag"]:
                etags.setdefault(path, seen["etag"])
            log(f"loading {name} {path} against the bare view ...")
            pages[name] = {"path": path, **seen, **load(wrk, url, bare.url + "/", args, headers)}
        result = {
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "config": {
                "connections": args.connections,
                "seconds": args.seconds,
                "warmup": args.warmup,
                "workers": args.workers,
                "threads": args.threads,
                "cpus": cpus,
                "rounds": args.rounds,
                "slice_seconds": max(1, round(args.seconds / args.rounds)),
                "accept_encoding": "identity" if args.identity else "gzip",
                "python": platform.python_version(),
                "machine": platform.machine(),
            },
            "targets": TARGETS,
            "sync": sync,
            "pages": pages,
        }
        ok = report(result)
        result["all_targets_met"] = ok
        write_result("catalog", result)
        return 0 if ok else 1
    except KeyboardInterrupt:
        log("interrupted; cleaning up")
        return 130
    finally:
        for server in servers:
            server.stop()
        sandbox.stop()
        with contextlib.suppress(Exception):
            drop_cache_keys()


if __name__ == "__main__":
    sys.exit(main())
