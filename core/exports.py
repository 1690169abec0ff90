"""CSV exports that stream: rows are written as they are read, a chunk of rows at a time,
so an export of 100,000 rows never holds them all in memory.

An admin offers exports with `CsvExportMixin` (core.admin_tools): each `CsvExport`
gets the change list's queryset, filtered and searched as the list is, and yields
rows. Gift cards plug theirs in the same way (their ledger entries).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone

from .money import cents_to_text

Row = Sequence[object]


@dataclass(frozen=True)
class CsvExport:
    """One CSV an admin list offers: `rows(queryset)` yields rows for `header`."""

    slug: str
    label: str
    header: Sequence[str]
    rows: Callable[[QuerySet], Iterable[Row]]


class _Echo:
    """csv.writer writes into this and gets the line back, to yield it at once."""

    def write(self, value: str) -> str:
        return value


def csv_lines(header: Sequence[str], rows: Iterable[Row]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(header)  # a BOM so spreadsheets read UTF-8
    for row in rows:
        yield writer.writerow([_cell(v) for v in row])


def _cell(value: object) -> object:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def stream_csv(filename: str, header: Sequence[str], rows: Iterable[Row]) -> StreamingHttpResponse:
    response = StreamingHttpResponse(csv_lines(header, rows), content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="{filename}-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response


def in_chunks(queryset: QuerySet, size: int = 2000) -> Iterator[list]:
    """The queryset's rows by primary key, `size` at a time (keyset paging: no OFFSET, no growing cost).

    Each chunk is a list, so the caller can fetch what the rows need (lines,
    payments) with one query per chunk.
    """
    last = None
    base = queryset.order_by("pk")
    while True:
        page = base if last is None else base.filter(pk__gt=last)
        chunk = list(page[:size])
        if not chunk:
            return
        yield chunk
        last = chunk[-1].pk if hasattr(chunk[-1], "pk") else chunk[-1]["pk"]


def money_cell(cents: int | None) -> str:
    return cents_to_text(cents) if cents is not None else ""
