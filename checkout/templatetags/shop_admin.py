from __future__ import annotations

from django import template
from django.utils.html import format_html, format_html_join

from checkout.admin.dashboard import dashboard_context
from core.money import format_money

register = template.Library()

BAR = '<rect x="{}" y="{}" width="{}" height="{}" fill="#417690"><title>{}</title></rect>'
LABEL = '<text x="{}" y="{}" font-size="11" fill="#4f5863" text-anchor="{}">{}</text>'


@register.simple_tag(takes_context=True)
def shop_dashboard(context) -> dict:
    return dashboard_context(context.get("request"))


@register.simple_tag
def sales_chart(days, currency: str = "USD") -> str:
    """Revenue by day as an SVG bar chart, drawn here (no JavaScript), with a text alternative."""
    width, height, top, bottom = 600, 180, 18, 24
    peak = max((total for _, total in days), default=0) or 1
    slot = width / max(len(days), 1)
    bars = []
    for i, (day, total) in enumerate(days):
        h = round((height - top - bottom) * total / peak, 1)
        bars.append(
            (
                round(i * slot + 2, 1),
                round(height - bottom - h, 1),
                round(slot - 4, 1),
                h,
                f"{day:%a %-d %b}: {format_money(total, currency)}",
            )
        )
    # A label a week, the last day's at the right edge (anchored so none is cut off).
    marks = [i for i in range(len(days)) if (len(days) - 1 - i) % 7 == 0]
    last = len(days) - 1

    def label(i: int) -> tuple:
        if i in (0, last):
            x, anchor = (0, "start") if i == 0 else (width, "end")
        else:
            x, anchor = round(i * slot + slot / 2, 1), "middle"
        return x, height - 6, anchor, f"{days[i][0]:%-d %b}"

    labels = [label(i) for i in marks]
    total = sum(t for _, t in days)
    summary = "No sales yet."
    if days:
        first, last = days[0][0], days[-1][0]
        summary = (
            f"Sales by day, {first:%-d %b} to {last:%-d %b}: {format_money(total, currency)} in all; "
            f"best day {format_money(peak if total else 0, currency)}."
        )
    return format_html(
        '<svg viewBox="0 0 {w} {h}" role="img" aria-labelledby="chart-title" xmlns="http://www.w3.org/2000/svg">'
        '<title id="chart-title">{summary}</title>'
        '<line x1="0" y1="{base}" x2="{w}" y2="{base}" stroke="#8a949e" stroke-width="1"/>'
        '<text x="0" y="12" font-size="11" fill="#4f5863">{peak}</text>{bars}{labels}</svg>',
        w=width,
        h=height,
        base=height - bottom,
        summary=summary,
        peak=format_money(peak, currency),
        bars=format_html_join("", BAR, bars),
        labels=format_html_join("", LABEL, labels),
    )
