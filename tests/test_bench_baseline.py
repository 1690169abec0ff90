"""The comparison of a benchmark run with bench/baseline.json (bench/baseline.py): no timings here,
only the arithmetic that decides what `make bench-compare` flags."""

from __future__ import annotations

import json

from bench import baseline
from bench.baseline import HIGHER, LOWER, Figure


def test_ratio_is_now_over_baseline() -> None:
    rows = baseline.compare({"p50": Figure(200, LOWER, "ms")}, {"p50": Figure(100, LOWER, "ms")})
    assert [(r.name, r.baseline, r.now, r.ratio, r.flag) for r in rows] == [("p50", 200, 100, 0.5, "")]


def test_a_time_more_than_15_percent_higher_is_flagged() -> None:
    base = {"p50": Figure(100, LOWER, "ms")}
    assert baseline.compare(base, {"p50": Figure(115, LOWER)})[0].flag == ""
    assert baseline.compare(base, {"p50": Figure(116, LOWER)})[0].flag == "WORSE"
    # Faster is never flagged, however much faster.
    assert baseline.compare(base, {"p50": Figure(10, LOWER)})[0].flag == ""


def test_a_throughput_more_than_15_percent_lower_is_flagged() -> None:
    base = {"req/s": Figure(1000, HIGHER, "req/s")}
    assert baseline.compare(base, {"req/s": Figure(850, HIGHER)})[0].flag == ""
    assert baseline.compare(base, {"req/s": Figure(849, HIGHER)})[0].flag == "WORSE"
    assert baseline.compare(base, {"req/s": Figure(5000, HIGHER)})[0].flag == ""


def test_the_direction_comes_from_the_baseline() -> None:
    # The same ratio, 1.3, is worse for a time and better for a throughput.
    base = {"time": Figure(10, LOWER), "rate": Figure(10, HIGHER)}
    rows = {
        r.name: r.flag
        for r in baseline.compare(base, {"time": Figure(13, LOWER), "rate": Figure(13, HIGHER)})
    }
    assert rows == {"time": "WORSE", "rate": ""}


def test_a_missing_figure_is_flagged_and_a_new_one_is_not() -> None:
    rows = baseline.compare(
        {"gone": Figure(1, LOWER), "kept": Figure(1, LOWER)},
        {"kept": Figure(1, LOWER), "added": Figure(2, HIGHER)},
    )
    assert {r.name: r.flag for r in rows} == {"gone": "MISSING", "kept": "", "added": "new"}
    assert [r.name for r in baseline.flagged(rows)] == ["gone"]


def test_a_baseline_of_zero_gives_no_ratio_and_no_flag() -> None:
    row = baseline.compare({"errors": Figure(0, LOWER)}, {"errors": Figure(3, LOWER)})[0]
    assert (row.ratio, row.flag) == (None, "")


def test_written_baseline_reads_back_with_its_machine(tmp_path) -> None:
    path = tmp_path / "baseline.json"
    result = {
        "config": {"orders": 40},
        "rows": {
            "nginx home": {"rps": 25000.0, "p99_ms": 9.5},
            "bare-before": {"rps": 3800.0, "p99_ms": 30.0},
        },
    }
    baseline.write("edge", result, path)
    data = json.loads(path.read_text())
    section = data["benches"]["edge"]
    assert set(section["machine"]) >= {"cpu_model", "cpus", "python", "commit", "date"}
    assert section["config"] == {"orders": 40}
    figures = baseline.baseline_figures(data, "edge")
    assert figures["nginx home throughput"] == Figure(25000.0, HIGHER, "req/s")
    assert figures["nginx home p99"] == Figure(9.5, LOWER, "ms")
    # Writing another benchmark's baseline keeps this one.
    baseline.write("edge", result, path)
    assert baseline.baseline_figures(baseline.load(path), "checkout") is None
    assert baseline.baseline_figures(baseline.load(path), "edge") == figures


def test_checkout_figures_include_the_steps_when_timed() -> None:
    result = {
        "checkout_ms": {"p50": 300.0, "p95": 500.0, "max": 600.0},
        "metrics": {
            "webhook_to_email_s": {"p50": 1.0, "p95": 1.5},
            "orders_per_minute": 800.0,
        },
        "steps": {
            "http": {"steps": {"POST /checkout/": {"ms": 28.0, "vs_bare": 12.0}}},
            "in_process": {"parts_ms": {"POST /checkout/ (whole view, in process)": 35.0}},
        },
    }
    figures = baseline.checkout_figures(result)
    assert figures["eSIMs emailed per minute"].better == HIGHER
    assert figures["POST /checkout/, alone"] == Figure(28.0, LOWER, "ms")
    assert figures["placing an order, 8 at once, p50"] == Figure(300.0, LOWER, "ms")
    assert "POST /checkout/, alone" not in baseline.checkout_figures({**result, "steps": None})


def test_the_median_of_several_runs_is_compared_per_figure() -> None:
    runs = [
        {"p50": Figure(0.3, LOWER, "s"), "per minute": Figure(1700, HIGHER, "/min")},
        {"p50": Figure(0.9, LOWER, "s"), "per minute": Figure(1200, HIGHER, "/min")},
        {"p50": Figure(0.4, LOWER, "s")},  # a run that lacks a figure: the others decide
    ]
    median = baseline.median_figures(runs)
    assert median == {"p50": Figure(0.4, LOWER, "s"), "per minute": Figure(1450, HIGHER, "/min")}
