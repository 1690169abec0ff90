"""The dashboard on the admin index: its range form (two dates, in the query string) and what the
template gets. The figures are `checkout.reports`'s."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.http import HttpRequest
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, gettext_lazy

from core.forms import PlainTextMixin

from .. import reports

MAX_RANGE_DAYS = 366 * 3
# Days a range may hold: no sale is older, none is in the future; and a date at the calendar's edge
# (9999-12-31) has no next day for the range's end.
FIRST_DAY = dt.date(2000, 1, 1)
LAST_DAY_AHEAD = dt.timedelta(days=366)


class DashboardRangeForm(PlainTextMixin, forms.Form):
    """A range of days to show beside today, 7 and 30 days (a GET form: the URL can be kept)."""

    start = forms.DateField(
        label=gettext_lazy("From"),
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": gettext_lazy("Enter the first day as a date, like 2026-11-01.")},
    )
    end = forms.DateField(
        label=gettext_lazy("To"),
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": gettext_lazy("Enter the last day as a date, like 2026-11-30.")},
    )

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                raise forms.ValidationError(gettext("The last day comes before the first: swap them."))
            if (end - start).days > MAX_RANGE_DAYS:
                raise forms.ValidationError(gettext("Choose at most three years."))
            last = timezone.localdate() + LAST_DAY_AHEAD
            if start < FIRST_DAY or end > last:
                days = {"first": date_format(FIRST_DAY, "j F Y"), "last": date_format(last, "j F Y")}
                raise forms.ValidationError(gettext("Choose days from %(first)s to %(last)s.") % days)
        return data

    @property
    def days(self) -> tuple[dt.date, dt.date] | None:
        if not self.is_bound or not self.is_valid():
            return None
        return self.cleaned_data["start"], self.cleaned_data["end"]


def dashboard_context(request: HttpRequest | None) -> dict:
    """The figures, with the range form as the query string filled it (an invalid one says why)."""
    asked = request is not None and ("start" in request.GET or "end" in request.GET)
    form = DashboardRangeForm(request.GET if asked else None, auto_id="dash-%s")
    return {**reports.admin_dashboard(form.days), "range_form": form}
