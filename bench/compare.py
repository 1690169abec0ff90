#!/usr/bin/env python
"""Run the checkout and edge benchmarks and compare their figures with bench/baseline.json.

    python bench/compare.py                  (or: make bench-compare)
    python bench/compare.py --write-baseline (or: make bench-baseline; on a quiet machine only)
    python bench/compare.py --only checkout

Each benchmark runs as it would alone (bench/checkout_bench.py, bench/edge_bench.py, their default
arguments), one after the other, the checkout three times (each figure's median is taken). Then
every figure is printed with its baseline and the ratio now / baseline, and flagged when more than
15 % worse: a time above 1.15 x its baseline, a throughput below 0.85 x; a figure the baseline has
and this run lacks is flagged too. Exits 1 when any figure is flagged or a benchmark gave no
result, 0 otherwise. Timings are not tests: this is
not part of `make test`; run it on a quiet machine before calling a change to checkout, fulfilment
or the page cache done.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import baseline  # noqa: E402

BENCHES = {"checkout": "bench/checkout_bench.py", "edge": "bench/edge_bench.py"}


# Runs of each benchmark whose figures' median is compared (and written as the baseline): one
# checkout burst's p50 moved ±30 % from run to run on a quiet machine, more than the 15 %; the edge
# benchmark measures 10 s per URL in slices already, and starts with a 28,000-package sync.
RUNS = {"checkout": 3, "edge": 1}


def run(bench: str, result_file: Path) -> dict | None:
    command = [sys.executable, BENCHES[bench], "--result-file", str(result_file)]
    print(f"\n== {' '.join(command[1:])}", flush=True)
    done = subprocess.run(command, cwd=ROOT)
    if not result_file.exists():
        print(f"{bench}: no result (exit {done.returncode})")
        return None
    if done.returncode:
        print(f"{bench} exited {done.returncode} (its own targets); its figures are compared all the same")
    return json.loads(result_file.read_text())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write-baseline", action="store_true", help="make this run the baseline instead")
    parser.add_argument("--only", default=",".join(BENCHES), help="comma-separated: checkout,edge")
    parser.add_argument("--baseline", type=Path, default=baseline.BASELINE)
    parser.add_argument(
        "--runs",
        type=int,
        default=None,
        help="runs of each benchmark, their median compared (checkout 3, edge 1)",
    )
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = set(names) - set(BENCHES)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")

    saved = baseline.load(args.baseline)
    failed = False
    tables = []
    with tempfile.TemporaryDirectory(prefix="bench-compare-") as tmp:
        for name in names:
            results = [run(name, Path(tmp) / f"{name}-{n}.json") for n in range(args.runs or RUNS[name])]
            if None in results:
                failed = True
                continue
            found = baseline.median_figures([baseline.figures(name, result) for result in results])
            if args.write_baseline:
                baseline.write_figures(name, results[0].get("config", {}), found, args.baseline, len(results))
                continue
            base = baseline.baseline_figures(saved, name)
            if base is None:
                print(f"{name}: bench/baseline.json has no figures for it; run `make bench-baseline`")
                failed = True
                continue
            rows = baseline.compare(base, found)
            tables.append((name, rows, baseline.machine_differences(saved, name)))

    for name, rows, differences in tables:
        baseline.print_table(name, rows)
        for difference in differences:
            print(f"  note: another machine ({difference}); ratios compare poorly")
        bad = baseline.flagged(rows)
        failed |= bool(bad)
        print(f"  {len(bad)} flagged" if bad else "  nothing flagged")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
