"""Updating many rows of one model with one statement, for batch jobs.

Django's `bulk_update` writes one `CASE WHEN id = … THEN …` chain per field, which costs
quadratic time to build and to run for a few hundred rows; `update_rows` sends
`UPDATE … FROM (VALUES …)` instead: one row of values per object.
"""

from __future__ import annotations

from django.db import connection, transaction
from simple_history.utils import get_history_manager_for_model


def update_rows(objs: list, fields: list[str]) -> int:
    """Write `fields` of each of `objs` (saved instances of one model) to its row, in one
    UPDATE; returns how many rows were updated. No signals, no auto_now: set them yourself."""
    if not objs:
        return 0
    meta = type(objs[0])._meta
    quote = connection.ops.quote_name
    columns = [meta.pk] + [meta.get_field(name) for name in fields]
    row = "(" + ", ".join(f"%s::{column.db_type(connection)}" for column in columns) + ")"
    params = [
        column.get_db_prep_save(getattr(obj, column.attname), connection)
        for obj in objs
        for column in columns
    ]
    names = ", ".join(quote(column.column) for column in columns)
    assignments = ", ".join(f"{quote(c.column)} = v.{quote(c.column)}" for c in columns[1:])
    pk = quote(meta.pk.column)
    sql = (f"UPDATE {quote(meta.db_table)} AS t SET {assignments} "
           f"FROM (VALUES {', '.join([row] * len(objs))}) AS v({names}) WHERE t.{pk} = v.{pk}")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def update_rows_with_history(objs: list, fields: list[str]) -> int:
    """`update_rows`, plus one django-simple-history row per object (as `save()` writes)."""
    if not objs:
        return 0
    with transaction.atomic(savepoint=False):
        updated = update_rows(objs, fields)
        get_history_manager_for_model(type(objs[0])).bulk_history_create(objs, update=True)
    return updated
