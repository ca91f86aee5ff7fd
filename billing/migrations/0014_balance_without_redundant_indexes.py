"""Balance keeps its primary key, balance_unique and the btree indexes of feature, merchant and
subscription: every track updates a balance row, and an update that cannot stay on its page
(not HOT) inserts into every index of the table. The customer's own btree (balance_unique
starts with customer_id) and the LIKE indexes of the ids (no query matches ids by pattern)
go: 11 indexes become 5, and an UPDATE of 1,000 balances took 2.2 x less time
(docs/entitlements.md, Batch ingestion). Only indexes are dropped, never the constraints.
"""

from django.db import migrations, models
import django.db.models.deletion

CUSTOMER = "billing_balance_customer_id_73b9a95e"
LIKE = ["billing_balance_feature_id_1f84d055_like", "billing_balance_id_430e4c92_like",
        "billing_balance_merchant_id_9866a152_like",
        "billing_balance_subscription_id_61e834f4_like"]
LIKE_COLUMNS = ["feature_id", "id", "merchant_id", "subscription_id"]


class Migration(migrations.Migration):

    dependencies = [
        ("billing", "0013_usage_track_batch_function"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="balance", name="customer",
                    field=models.ForeignKey(db_index=False,
                                            on_delete=django.db.models.deletion.CASCADE,
                                            related_name="+", to="billing.customer")),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{CUSTOMER}"; DROP INDEX IF EXISTS "{CUSTOMER}_like";',
                    f'CREATE INDEX IF NOT EXISTS "{CUSTOMER}" ON "billing_balance" '
                    f'("customer_id"); CREATE INDEX IF NOT EXISTS "{CUSTOMER}_like" ON '
                    f'"billing_balance" ("customer_id" varchar_pattern_ops);'),
            ],
        ),
        # Django's LIKE indexes of the other ids: not part of the migration state.
        migrations.RunSQL(
            "".join(f'DROP INDEX IF EXISTS "{name}";' for name in LIKE),
            "".join(f'CREATE INDEX IF NOT EXISTS "{name}" ON "billing_balance" '
                    f'("{column}" varchar_pattern_ops);' for name, column in zip(LIKE, LIKE_COLUMNS))),
    ]
