"""How far the schema is from distribution by merchant (Citus), read off the real catalog.

Citus is not installable here, so this proves what can be proven without it: the database's own
catalog lists every table without `merchant_id`, every primary key, unique constraint and foreign
key that leaves it out, and the SQL of a customer's day (subscribe, pay, check, track, upgrade,
cancel) names every query that does not filter on it and would fan out to every shard. The
lists are written to `var/distribution-readiness.txt`; docs/scale-out.md ("Citus: the work
left") must name every table they contain, so that a new table or a new cross-merchant query
cannot appear without the document saying so.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.billing.subscribing import (
    CANCEL, customer, main_catalog, subscribe, subscribe_paid,
)
from tests.factories import Api, make_merchant

pytestmark = pytest.mark.django_db(transaction=True)

DOC = Path(settings.BASE_DIR) / "docs" / "scale-out.md"
SECTION = "## Citus: the work left"
TABLE_IN_SQL = re.compile(r'(?:FROM|JOIN|UPDATE)\s+"?([a-z_]+)"?', re.I)
NOT_A_TABLE_STATEMENT = ("SAVEPOINT", "RELEASE", "ROLLBACK", "SET", "COMMIT", "BEGIN")


def _rows(sql: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


def tables_without_merchant() -> list[str]:
    return [name for (name,) in _rows("""
        SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
          AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid
                          AND a.attname = 'merchant_id' AND NOT a.attisdropped)
        ORDER BY 1""")]


def constraints_without_merchant() -> list[tuple[str, str, str]]:
    """(table, kind, constraint) for primary keys, unique constraints and foreign keys of tables
    that carry merchant_id but whose columns leave it out. A foreign key to a table without
    merchant_id (users, merchants) is left out: such a table becomes a Citus reference table,
    copied to every node, and may be referenced from any shard."""
    return _rows("""
        SELECT c.relname, CASE k.contype WHEN 'p' THEN 'primary key' WHEN 'u' THEN 'unique'
                                         ELSE 'foreign key' END, k.conname
        FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_attribute m ON m.attrelid = c.oid AND m.attname = 'merchant_id'
        WHERE n.nspname = 'public' AND k.contype IN ('p', 'u', 'f')
          AND NOT (m.attnum = ANY (k.conkey))
          AND (k.contype <> 'f' OR EXISTS (
                SELECT 1 FROM pg_attribute r WHERE r.attrelid = k.confrelid
                AND r.attname = 'merchant_id' AND NOT r.attisdropped))
        ORDER BY 1, 2, 3""")


def unique_indexes_without_merchant() -> list[tuple[str, str]]:
    """Unique indexes that are not constraints (Django's UniqueConstraint with a condition)."""
    return _rows("""
        SELECT c.relname, i.relname FROM pg_index x
        JOIN pg_class c ON c.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_attribute m ON m.attrelid = c.oid AND m.attname = 'merchant_id'
        WHERE n.nspname = 'public' AND x.indisunique AND NOT x.indisprimary
          AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid)
          AND NOT (m.attnum = ANY (x.indkey::int2[]))
        ORDER BY 1, 2""")


def cross_merchant_queries(statements: list[str], distributed: set[str]) -> dict[str, str]:
    """Per table, one statement of the run that reads or changes it without naming merchant_id
    in its WHERE clause (Citus would send it to every shard). INSERTs carry the column."""
    found: dict[str, str] = {}
    for sql in statements:
        verb = sql.split(None, 1)[0].upper()
        if verb in NOT_A_TABLE_STATEMENT or verb == "INSERT":
            continue
        where = sql.split(" WHERE ", 1)[1] if " WHERE " in sql else ""
        if "merchant_id" in where:
            continue
        for table in set(TABLE_IN_SQL.findall(sql)) & distributed:
            found.setdefault(table, sql[:160])
    return found


def a_customers_day() -> list[str]:
    api = Api(make_merchant("Distribution").secret_test)
    main_catalog(api)
    with CaptureQueriesContext(connection) as captured:
        customer(api)
        subscribe_paid(api, "pro")
        api.post("/api/v1/pay/check", {"customer": "user_1", "feature": "messages"})
        api.post("/api/v1/pay/track", {"customer": "user_1", "feature": "messages", "amount": 1})
        subscribe(api, "enterprise")
        api.post(CANCEL, {"customer": "user_1"})
    return [query["sql"] for query in captured.captured_queries]


def documented_tables() -> set[str]:
    text = DOC.read_text()
    assert SECTION in text, f"docs/scale-out.md has no '{SECTION}' section"
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"`([a-z_]+)`", section))


def test_every_gap_on_the_way_to_distribution_by_merchant_is_listed_in_the_docs():
    bare = tables_without_merchant()
    constraints = constraints_without_merchant()
    indexes = unique_indexes_without_merchant()
    all_tables = {name for (name,) in _rows(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    distributed = all_tables - set(bare)
    queries = cross_merchant_queries(a_customers_day(), distributed)

    report = ["tables without merchant_id:", *(f"  {t}" for t in bare),
              "constraints without merchant_id:", *(f"  {t}: {k} {n}" for t, k, n in constraints),
              "unique indexes without merchant_id:", *(f"  {t}: {n}" for t, n in indexes),
              "queries of a customer's day that do not filter on merchant_id:",
              *(f"  {t}: {sql}" for t, sql in sorted(queries.items()))]
    out = Path(settings.BASE_DIR) / "var" / "distribution-readiness.txt"
    out.parent.mkdir(exist_ok=True)
    out.write_text("\n".join(report) + "\n")
    print("\n".join(report[:3]), f"... ({len(report)} lines in {out})")

    named = documented_tables()
    missing = sorted(
        ({*bare} | {t for t, _, _ in constraints} | {t for t, _ in indexes} | set(queries))
        - named)
    assert not missing, (f"docs/scale-out.md ('{SECTION}') does not name: {missing}; "
                         f"the full report is in {out}")
    # The lists are not empty by accident: the primary keys are Django's single `id` column.
    assert any(kind == "primary key" for _, kind, _ in constraints)
