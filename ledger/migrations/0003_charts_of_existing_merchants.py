"""Open the chart of accounts of merchants created before the ledger existed."""

from django.db import migrations

from ledger.chart_of_accounts import starting_chart


def open_charts(apps, schema_editor):
    Merchant = apps.get_model("cynco", "Merchant")
    Account = apps.get_model("ledger", "Account")
    for merchant_id in Merchant.objects.values_list("id", flat=True):
        for environment in ("live", "test"):
            codes = {}
            for spec in starting_chart():
                account, _ = Account.objects.get_or_create(
                    merchant_id=merchant_id,
                    environment=environment,
                    code=spec.code,
                    defaults={
                        "name": spec.name,
                        "type": spec.type,
                        "normal_balance": spec.normal_balance,
                        "parent_id": codes.get(spec.parent_code),
                    },
                )
                codes[spec.code] = account.pk


class Migration(migrations.Migration):
    dependencies = [("ledger", "0002_ledger_invariants"), ("cynco", "0001_initial")]

    operations = [migrations.RunPython(open_charts, migrations.RunPython.noop)]
