"""Fast updates of many rows at once.

Django's bulk_update builds one CASE WHEN per field and row, which takes
minutes for a catalog-wide price change of 28,000 packages. On PostgreSQL
this sends `UPDATE … FROM (VALUES …)` instead; elsewhere it falls back to
bulk_update.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection
from django.db.models import Model


def fast_update(
    model: type[Model], objs: Sequence[Model], fields: Sequence[str], batch_size: int = 1000
) -> int:
    if not objs:
        return 0
    if connection.vendor != "postgresql":
        return model.objects.bulk_update(objs, fields, batch_size=batch_size)
    meta = model._meta
    columns = [meta.get_field(name) for name in fields]
    pk = meta.pk
    qn = connection.ops.quote_name
    casts = [f"{pk.db_type(connection)}"] + [f.db_type(connection) for f in columns]
    names = [qn(pk.column)] + [qn(f.column) for f in columns]
    assignments = ", ".join(f"{qn(f.column)} = v.{qn(f.column)}" for f in columns)
    with connection.cursor() as cursor:
        for start in range(0, len(objs), batch_size):
            batch = objs[start : start + batch_size]
            rows, params = [], []
            for i, obj in enumerate(batch):
                values = [pk.get_db_prep_save(obj.pk, connection)] + [
                    f.get_db_prep_save(getattr(obj, f.attname), connection) for f in columns
                ]
                # Types are stated on the first row; Postgres infers the rest from it.
                rows.append("(" + ", ".join(f"%s::{c}" if i == 0 else "%s" for c in casts) + ")")
                params.extend(values)
            # S608: the names come from the model (quoted), the values are parameters.
            cursor.execute(
                f"UPDATE {qn(meta.db_table)} AS t SET {assignments} "  # noqa: S608
                f"FROM (VALUES {', '.join(rows)}) AS v({', '.join(names)}) "
                f"WHERE t.{qn(pk.column)} = v.{qn(pk.column)}",
                params,
            )
    return len(objs)
