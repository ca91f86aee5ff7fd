"""`cynco_customer_lock_key(customer_id)`: the key of a customer's advisory lock, computed in SQL
exactly as `cynco.locks.customer_lock_key` computes it in Python (first 8 bytes of SHA-256 of
`cynco.customer:<id>`, as a signed 64-bit integer)."""

from django.db import migrations

CREATE = r"""
CREATE OR REPLACE FUNCTION cynco_customer_lock_key(customer_id text) RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT ('x' || left(encode(sha256(convert_to('cynco.customer:' || customer_id, 'UTF8')),
                             'hex'), 16))::bit(64)::bigint
$$;
"""

DROP = "DROP FUNCTION IF EXISTS cynco_customer_lock_key(text);"


class Migration(migrations.Migration):
    dependencies = [("cynco", "0001_initial")]

    operations = [migrations.RunSQL(CREATE, DROP)]
