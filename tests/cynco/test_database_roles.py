"""Issue 13, part 3: the application connects as its own least-privilege role — not a superuser,
not the tables' owner — so the ways around the database's guards are closed to it; migrations
ran as the owner role."""

import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction

from cynco.database import APP_ROLE, OWNER_ROLE

pytestmark = pytest.mark.django_db


def _fetch(statement: str, params=()):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall()


def test_the_suite_runs_as_the_application_role_which_is_no_superuser():
    ((user, superuser, create_role, create_db, replication, bypass_rls),) = _fetch(
        "SELECT current_user, rolsuper, rolcreaterole, rolcreatedb, rolreplication,"
        " rolbypassrls FROM pg_roles WHERE rolname = current_user")
    assert user == settings.DATABASES["default"]["USER"] == APP_ROLE
    assert (superuser, create_role, create_db, replication, bypass_rls) == (
        False, False, False, False, False)


def test_the_owner_role_ran_the_migrations_and_owns_every_table():
    owners = {owner for (owner,) in _fetch(
        "SELECT DISTINCT pg_get_userbyid(c.relowner) FROM pg_class c"
        " JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'S', 'v')")}
    assert owners == {OWNER_ROLE}
    assert _fetch("SELECT count(*) FROM django_migrations WHERE app = 'ledger'")[0][0] >= 4


@pytest.mark.parametrize("statement", [
    "TRUNCATE ledger_journalline CASCADE",
    "TRUNCATE billing_invoice CASCADE",
    "ALTER TABLE ledger_journalline DISABLE TRIGGER ledger_line_immutable",
    "ALTER TABLE ledger_journalline DISABLE TRIGGER USER",
    "ALTER TABLE billing_invoice DISABLE TRIGGER ALL",
    "DROP TRIGGER ledger_entry_immutable ON ledger_journalentry",
    "CREATE OR REPLACE FUNCTION ledger_posted_is_immutable() RETURNS trigger"
    " LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$",
    "SET session_replication_role = replica",
    "CREATE TABLE sneaked (id int)",
    "ALTER TABLE ledger_account OWNER TO cynco_app",
    "SET ROLE cynco_owner",
])
def test_the_application_role_cannot_get_past_the_guards(statement):
    with pytest.raises(DatabaseError, match="permission denied|must be owner|must be a member"):
        with transaction.atomic():
            _fetch(statement.replace("cynco_app", APP_ROLE).replace("cynco_owner", OWNER_ROLE)
                   + "; SELECT 1")


def test_a_database_a_superuser_made_is_handed_to_the_owner_role():
    # `make run` on an embedded database from before the roles: its tables, sequences and
    # functions are the superuser's until prepare_roles hands them over.
    import psycopg
    from urllib.parse import urlsplit, urlunsplit

    from cynco.database import prepare_roles, resolve_superuser_url

    superuser = resolve_superuser_url(prefer_local=True)
    name = f"{settings.DATABASES['default']['NAME']}_handover"
    admin = urlunsplit(urlsplit(superuser)._replace(path="/postgres"))
    target = urlunsplit(urlsplit(superuser)._replace(path=f"/{name}"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        with psycopg.connect(target, autocommit=True) as conn:
            conn.execute("CREATE TABLE old_rows (id serial PRIMARY KEY, n int)")
            conn.execute("CREATE FUNCTION old_fn() RETURNS int LANGUAGE sql AS 'SELECT 1'")
        prepare_roles(target, hand_over=True)
        with psycopg.connect(target, autocommit=True) as conn:
            owners = {row[0] for row in conn.execute(
                "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE relname IN"
                " ('old_rows', 'old_rows_id_seq') UNION SELECT pg_get_userbyid(proowner)"
                " FROM pg_proc WHERE proname = 'old_fn' UNION SELECT pg_get_userbyid(datdba)"
                " FROM pg_database WHERE datname = current_database()")}
            assert owners == {OWNER_ROLE}
            grants = conn.execute(
                "SELECT has_table_privilege(%s, 'old_rows', 'INSERT'),"
                " has_table_privilege(%s, 'old_rows', 'TRUNCATE')", [APP_ROLE, APP_ROLE]
            ).fetchone()
            assert grants == (True, False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
