"""The committed baseline of the benchmarks, and a run compared against it.

`bench/baseline.json` keeps, per benchmark (checkout, edge), the figures of one run on a quiet
machine and that machine: CPU model and count, Python, the commit and the date (and the load
average, to show it was quiet). `python bench/compare.py` (`make bench-compare`) runs the benchmarks
again and prints every figure as a ratio to the baseline; a figure more than TOLERANCE worse is
flagged: a latency above (1 + TOLERANCE) x its baseline, a throughput below (1 - TOLERANCE) x. A
figure the baseline has and the run lacks is flagged too (a bench that stopped measuring something
hides a regression as well as a slow one would).

The figures are taken from a benchmark's result JSON (what it writes to bench/results/) by
`figures(name, result)`; each knows whether lower or higher is better.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench._common import print_table_start

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "bench" / "baseline.json"
TOLERANCE = 0.15
LOWER, HIGHER = "lower", "higher"  # which way is better


@dataclass(frozen=True)
class Figure:
    value: float
    better: str  # LOWER (a time) or HIGHER (a throughput)
    unit: str = ""


@dataclass(frozen=True)
class Compared:
    name: str
    unit: str
    baseline: float | None
    now: float | None
    ratio: float | None  # now / baseline
    flag: str  # "" (fine), "WORSE", "MISSING"; "new" when the baseline has no such figure


# -- figures of each benchmark ------------------------------------------------------------


def figures(bench: str, result: dict) -> dict[str, Figure]:
    """The comparable figures of one run's result JSON."""
    return {"checkout": checkout_figures, "edge": edge_figures}[bench](result)


def checkout_figures(result: dict) -> dict[str, Figure]:
    m, placing = result["metrics"], result["checkout_ms"]
    out = {
        "placing an order, 8 at once, p50": Figure(placing["p50"], LOWER, "ms"),
        "placing an order, 8 at once, p95": Figure(placing["p95"], LOWER, "ms"),
        "webhook -> eSIM email p50": Figure(m["webhook_to_email_s"]["p50"], LOWER, "s"),
        "webhook -> eSIM email p95": Figure(m["webhook_to_email_s"]["p95"], LOWER, "s"),
        "eSIMs emailed per minute": Figure(m["orders_per_minute"], HIGHER, "/min"),
    }
    if "machine_cpu_ms_per_order" in result:
        out["machine CPU per delivered eSIM"] = Figure(result["machine_cpu_ms_per_order"], LOWER, "ms")
    steps = result.get("steps")
    if steps:
        for step, row in steps["http"]["steps"].items():
            out[f"{step}, alone"] = Figure(row["ms"], LOWER, "ms")
            out[f"{step}, alone, x bare view"] = Figure(row["vs_bare"], LOWER, "x")
        whole = steps["in_process"]["parts_ms"]["POST /checkout/ (whole view, in process)"]
        out["POST /checkout/ in process"] = Figure(whole, LOWER, "ms")
    return out


def edge_figures(result: dict) -> dict[str, Figure]:
    out = {}
    for name, row in result["rows"].items():
        out[f"{name} throughput"] = Figure(row["rps"], HIGHER, "req/s")
        out[f"{name} p99"] = Figure(row["p99_ms"], LOWER, "ms")
    return out


# -- the comparison -----------------------------------------------------------------------


def compare(
    baseline: dict[str, Figure], now: dict[str, Figure], tolerance: float = TOLERANCE
) -> list[Compared]:
    """Every figure of the baseline (and any new one) with its ratio and whether it got worse."""
    rows = []
    for name, base in baseline.items():
        current = now.get(name)
        if current is None:
            rows.append(Compared(name, base.unit, base.value, None, None, "MISSING"))
            continue
        ratio = current.value / base.value if base.value else None
        worse = ratio is not None and (
            ratio > 1 + tolerance if base.better == LOWER else ratio < 1 - tolerance
        )
        rows.append(Compared(name, base.unit, base.value, current.value, ratio, "WORSE" if worse else ""))
    for name, current in now.items():
        if name not in baseline:
            rows.append(Compared(name, current.unit, None, current.value, None, "new"))
    return rows


def flagged(rows: list[Compared]) -> list[Compared]:
    return [r for r in rows if r.flag in ("WORSE", "MISSING")]


def print_table(bench: str, rows: list[Compared], tolerance: float = TOLERANCE) -> None:
    print_table_start(
        f"{bench}: this run against bench/baseline.json (flagged: more than {tolerance:.0%} worse)",
        f"  {'figure':<48} {'baseline':>10} {'now':>10} {'ratio':>7}  flag",
    )
    for r in rows:
        base = f"{r.baseline:g}" if r.baseline is not None else "-"
        now = f"{r.now:g}" if r.now is not None else "-"
        ratio = f"{r.ratio:.2f}" if r.ratio is not None else "-"
        label = f"{r.name} ({r.unit})" if r.unit else r.name
        print(f"  {label[:48]:<48} {base:>10} {now:>10} {ratio:>7}  {r.flag}")


# -- the baseline file --------------------------------------------------------------------


def machine() -> dict:
    """Where figures come from: figures of another machine are not comparable."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass

    def git(*args: str) -> str:
        try:
            return subprocess.run(
                ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True
            ).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return ""

    return {
        "cpu_model": model,
        "cpus": os.cpu_count() or 1,
        "python": platform.python_version(),
        "commit": git("rev-parse", "HEAD"),
        "uncommitted_changes": bool(git("status", "--porcelain", "--untracked-files=no")),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()],
    }


def load(path: Path = BASELINE) -> dict:
    return json.loads(path.read_text()) if path.exists() else {"benches": {}}


def baseline_figures(data: dict, bench: str) -> dict[str, Figure] | None:
    section = data.get("benches", {}).get(bench)
    if section is None:
        return None
    return {name: Figure(**fig) for name, fig in section["figures"].items()}


def median_figures(runs: list[dict[str, Figure]]) -> dict[str, Figure]:
    """Each figure's median over several runs of one benchmark (over the runs that have it): on a
    quiet machine one burst's p50 still moved ±30 % from run to run, more than the tolerance."""
    names = dict.fromkeys(name for run in runs for name in run)
    out = {}
    for name in names:
        values = sorted(run[name].value for run in runs if name in run)
        middle = len(values) // 2
        value = values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2
        first = next(run[name] for run in runs if name in run)
        out[name] = Figure(round(value, 3), first.better, first.unit)
    return out


def write(bench: str, result: dict, path: Path = BASELINE) -> None:
    """This run's figures become `bench`'s baseline (the other benchmarks' are kept)."""
    write_figures(bench, result.get("config", {}), figures(bench, result), path)


def write_figures(
    bench: str, config: dict, found: dict[str, Figure], path: Path = BASELINE, runs: int = 1
) -> None:
    data = load(path)
    data["tolerance"] = TOLERANCE
    data.setdefault("benches", {})[bench] = {
        "machine": machine(),
        "config": config,
        "runs": runs,
        "figures": {name: vars(fig) for name, fig in found.items()},
    }
    path.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")
    print(f"Baseline of {bench} written to {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


def machine_differences(data: dict, bench: str) -> list[str]:
    """What differs between the baseline's machine and this one (figures then compare poorly)."""
    then = data.get("benches", {}).get(bench, {}).get("machine", {})
    now = machine()
    return [
        f"{key}: baseline {then.get(key)!r}, now {now[key]!r}"
        for key in ("cpu_model", "cpus", "python")
        if then.get(key) != now[key]
    ]


# -- what every benchmark with a baseline does ---------------------------------------------


def add_arguments(parser) -> None:
    parser.add_argument(
        "--write-baseline",
        action="store_true",
        help="make this run's figures the committed baseline (bench/baseline.json): on a quiet machine only",
    )
    parser.add_argument(
        "--result-file", type=Path, default=None, help="also write the result JSON here (bench/compare.py)"
    )


def after_run(bench: str, result: dict, args) -> None:
    if args.result_file:
        args.result_file.write_text(json.dumps(result, indent=2, default=str) + "\n")
    if args.write_baseline:
        write(bench, result)
