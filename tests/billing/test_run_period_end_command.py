"""`manage.py run_period_end`: the period-end jobs run on demand, with progress printed."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from billing.models import Invoice
from cynco import clock
from cynco.tenancy import Scope
from tests.billing.due_renewals import due_subscriptions

pytestmark = pytest.mark.django_db(transaction=True)


def run(**options) -> str:
    out = StringIO()
    call_command("run_period_end", stdout=out, **options)
    return out.getvalue()


def test_due_renewals_are_renewed_once_with_progress(merchant):
    scope = Scope(merchant.merchant.id, "test")
    due_subscriptions(scope, 30)
    printed = run(merchant=merchant.merchant.id, workers=3)
    assert f"{merchant.merchant.id} test: 30 subscription(s) due" in printed
    assert "renewals 30" in printed and printed.rstrip().splitlines()[-1].startswith("Done:")
    assert Invoice.objects.for_scope(scope).filter(status="paid").count() == 30
    assert "nothing was due" in run(merchant=merchant.merchant.id)  # a second run: nothing
    assert Invoice.objects.for_scope(scope).count() == 30


def test_nothing_to_run_says_so(merchant):
    assert "Nothing to run" in run(merchant="mer_none")


def test_workers_must_be_positive():
    with pytest.raises(CommandError):
        run(workers=0)


def test_each_environment_runs_at_its_own_clock(merchant):
    scope = Scope(merchant.merchant.id, "test")
    due_subscriptions(scope, 2)
    clock.advance(scope=scope, seconds=40 * 24 * 3600)  # over a month on: renewed again
    printed = run(environment="test")
    renewals = int(printed.split("renewals ")[-1].split()[0].rstrip(","))
    assert renewals > 2 and renewals % 2 == 0  # each subscription, once per period passed
