"""A plain connection to the test database as the tables' owner role (settings.DATABASE_OWNER):
what an operator holding the migration credentials could do around the application."""

import psycopg
from django.conf import settings
from django.db import connection


def owner_connection() -> psycopg.Connection:
    owner = settings.DATABASE_OWNER
    params = {k: v for k, v in connection.get_connection_params().items()
              if k != "cursor_factory"}
    params["user"] = owner["USER"]
    if owner.get("PASSWORD"):
        params["password"] = owner["PASSWORD"]
    return psycopg.connect(**params)
