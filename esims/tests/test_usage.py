"""The usage snapshot's arithmetic: data left, the projection at the recent pace, the chart."""

from __future__ import annotations

import datetime as dt

from esims.usage import DayUse, UsageSnapshot, chart, format_mb, from_webhook

NOW = dt.datetime(2026, 12, 10, 12, tzinfo=dt.UTC)
TODAY = NOW.date()


def snap(**kw) -> UsageSnapshot:
    return UsageSnapshot(fetched_at=NOW, **{"allowed_mb": 3072, "remaining_mb": 2048, **kw})


def days(*mbs: float) -> tuple[DayUse, ...]:
    return tuple(DayUse(TODAY - dt.timedelta(days=len(mbs) - 1 - i), mb) for i, mb in enumerate(mbs))


def test_used_and_percent():
    s = snap()
    assert s.used_mb == 1024 and s.percent_used == 33 and s.percent_left == 67


def test_projection_at_the_recent_pace():
    s = snap(daily=days(900, 100, 200, 300), expires_at=NOW + dt.timedelta(days=30))
    p = s.projection(TODAY)
    assert p.mb_per_day == 200  # the last three days
    assert p.runs_out_on == TODAY + dt.timedelta(days=10)


def test_projection_past_the_plan_end_says_so():
    s = snap(daily=days(10, 10, 10), expires_at=NOW + dt.timedelta(days=5))
    p = s.projection(TODAY)
    assert p.runs_out_on is None and p.mb_per_day == 10


def test_idle_days_slow_the_pace():
    s = snap(daily=(DayUse(TODAY - dt.timedelta(days=3), 300),))
    assert s.projection(TODAY).mb_per_day == 75


def test_no_projection_without_use_or_for_unlimited():
    assert snap().projection(TODAY) is None
    assert snap(unlimited=True, allowed_mb=None, remaining_mb=None, daily=days(5)).projection(TODAY) is None


def test_chart_bars_and_a_week_at_least():
    c = chart(snap(daily=days(100, 0, 50)), TODAY)
    assert len(c["bars"]) == 7
    tallest = max(c["bars"], key=lambda b: b["h"])
    assert tallest["mb"] == 100 and tallest["y"] >= 0
    assert chart(snap(), TODAY) is None


def test_webhook_payload_in_mb_and_kb():
    data = {
        "status": "INSTALLED",
        "data_units": "KB",
        "start": 1,
        "end": 2,
        "usage_data": {"isUnlimited": False, "allowed_data": 1024 * 1024, "remaining_data": 512 * 1024},
        "usage_list": [
            {"date": "2026-12-09", "data_used": 1024},
            {"date": "20261210", "data_used": 2048},
            {"date": "garbage", "data_used": 1},
        ],
    }
    s = from_webhook(data, NOW, None)
    assert s.allowed_mb == 1024 and s.remaining_mb == 512 and s.percent_used == 50
    assert [d.mb for d in s.daily] == [1, 2]


def test_format():
    assert [format_mb(x) for x in (0, 5.25, 300, 1024, 1536, 102400)] == [
        "0 MB",
        "5.2 MB",
        "300 MB",
        "1 GB",
        "1.5 GB",
        "100 GB",
    ]


def test_an_unlimited_plan_always_has_a_used_figure():
    # "Used —" on an unlimited plan: upstream answered, so what it counted is the use.
    assert snap(unlimited=True, allowed_mb=None, remaining_mb=None).used_mb == 0
    assert snap(unlimited=True, allowed_mb=None, remaining_mb=None, used_total_mb=300).used_mb == 300
    assert snap(unlimited=True, allowed_mb=None, remaining_mb=None, daily=days(100, 200)).used_mb == 300
    assert snap(allowed_mb=None, remaining_mb=None).used_mb is None  # a limited plan upstream left blank


def test_use_of_one_day():
    s = snap(daily=days(100, 250))
    assert s.used_on(TODAY) == 250 and s.used_on(TODAY - dt.timedelta(days=5)) == 0


def test_read_ago_says_when_upstream_was_read():
    from esims.usage import read_ago

    assert read_ago(NOW, NOW + dt.timedelta(seconds=40)) == "Read from the network just now"
    assert read_ago(NOW, NOW + dt.timedelta(minutes=3, seconds=5)) == "Read from the network 3 min ago"
    assert read_ago(NOW, NOW + dt.timedelta(hours=1, minutes=1)) == "Read from the network 1 hour ago"
    assert read_ago(NOW, NOW + dt.timedelta(days=2)) == "Read from the network 2 days ago"
