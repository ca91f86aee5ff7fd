"""UsageEvent keeps only its primary key, timeline and idempotency indexes: the six indexes of
its foreign keys (a btree and a LIKE one each for merchant, customer and feature) and the LIKE
index of its id cost every check and track an insert each and serve no query. The constraints
themselves stay: only the indexes are dropped (AlterField alone would drop and re-validate the
constraints over the whole table)."""

from django.db import migrations, models
import django.db.models.deletion

INDEXES = {
    "customer": ("billing_usageevent_customer_id_c3fb6c00", "customer_id"),
    "feature": ("billing_usageevent_feature_id_c283003d", "feature_id"),
    "merchant": ("billing_usageevent_merchant_id_ae06832a", "merchant_id"),
}
DROP = [f'DROP INDEX IF EXISTS "{name}"; DROP INDEX IF EXISTS "{name}_like";'
        for name, _ in INDEXES.values()]
CREATE = [
    f'CREATE INDEX IF NOT EXISTS "{name}" ON "billing_usageevent" ("{column}"); '
    f'CREATE INDEX IF NOT EXISTS "{name}_like" ON "billing_usageevent" '
    f'("{column}" varchar_pattern_ops);'
    for name, column in INDEXES.values()
]
# Django's LIKE index of the primary key: not part of the migration state.
ID_LIKE = "billing_usageevent_id_e7ed939c_like"
DROP_ID_LIKE = f'DROP INDEX IF EXISTS "{ID_LIKE}";'
CREATE_ID_LIKE = (f'CREATE INDEX IF NOT EXISTS "{ID_LIKE}" ON "billing_usageevent" '
                  '("id" varchar_pattern_ops);')


def unindexed(to: str) -> models.ForeignKey:
    return models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE,
                             related_name="+", to=to)


class Migration(migrations.Migration):

    dependencies = [
        ("billing", "0009_usage_record_function"),
        ("cynco", "0002_customer_lock_key_function"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(model_name="usageevent", name="customer",
                                      field=unindexed("billing.customer")),
                migrations.AlterField(model_name="usageevent", name="feature",
                                      field=unindexed("billing.feature")),
                migrations.AlterField(model_name="usageevent", name="merchant",
                                      field=unindexed("cynco.merchant")),
            ],
            database_operations=[
                migrations.RunSQL(drop, create) for drop, create in zip(DROP, CREATE)
            ],
        ),
        migrations.RunSQL(DROP_ID_LIKE, CREATE_ID_LIKE),
    ]
