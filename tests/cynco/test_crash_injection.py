"""kill -9 at every phase boundary of a charge, then restart and recover: nothing lost or doubled.

A customer on Pro with a saved card upgrades to Enterprise (a charge of the saved card) through
a real gunicorn server started with CRASH_POINT (cynco/crash_points.py): the worker dies with
SIGKILL at that boundary, the request gets no answer. Then, as an operator would: the server is
restarted without the crash point, the recovery sweeper runs, and the customer retries with the
same Idempotency-Key. Afterwards:

- the gateway charged the card exactly once, and our books hold exactly one succeeded charge;
- the upgrade happened and its invoice is paid; every paid invoice has its payment posted once;
- the trial balance is zero in every currency;
- the retry answered success, and answering it again gives the same answer (a replay).

`make test` runs each point once; `make crash` runs each CRASH_RUNS times (default 5).
"""

from __future__ import annotations

import os
from datetime import date, timedelta

import pytest
import requests

from billing.models import Invoice
from cynco.crash_points import POINTS
from cynco.tenancy import Scope
from gateways.models import PaymentAttempt
from gateways.sandbox.models import SandboxPayment
from gateways.services.recovery import recover_pending_attempts
from ledger.models import EntryKind, JournalEntry
from ledger.selectors.statements import trial_balance
from tests.billing.subscribing import customer, main_catalog, subscribe_paid
from tests.factories import Api, make_merchant
from tests.live_gunicorn import start_gunicorn

pytestmark = pytest.mark.django_db(transaction=True)

UPGRADE = {"customer": "user_1", "product": "enterprise"}


def _upgrade(server, key: str, idempotency_key: str) -> requests.Response:
    return requests.post(f"{server.url}/api/v1/pay/subscribe", json=UPGRADE, timeout=120,
                         headers={"Authorization": f"Bearer {key}",
                                  "Idempotency-Key": idempotency_key})


@pytest.mark.parametrize("run", range(int(os.environ.get("CRASH_RUNS", "1"))))
@pytest.mark.parametrize("point", POINTS)
def test_a_charge_killed_at_a_phase_boundary_is_neither_lost_nor_doubled(point, run, settings):
    keys = make_merchant()
    api = Api(keys.secret_test)
    main_catalog(api)
    customer(api)
    subscribe_paid(api, "pro")
    scope = Scope(keys.merchant.id, "test")
    idempotency_key = f"upgrade-{point}-{run}"

    crashing = start_gunicorn(env={"CRASH_POINT": point}, threads=1)
    try:
        with pytest.raises(requests.ConnectionError):
            _upgrade(crashing, keys.secret_test, idempotency_key)
    finally:
        crashing.stop()
    assert "SIGKILL" in crashing.log(), crashing.log()  # gunicorn saw its worker killed

    settings.GATEWAY_RECOVERY_AFTER_SECONDS = 0
    recover_pending_attempts(older_than=timedelta(0))

    restarted = start_gunicorn()
    try:
        retry = _upgrade(restarted, keys.secret_test, idempotency_key)
        again = _upgrade(restarted, keys.secret_test, idempotency_key)
    finally:
        restarted.stop()
    assert retry.status_code == 200, retry.content[:500]
    assert again.status_code == 200 and again.json() == retry.json()
    assert again.headers.get("Idempotent-Replayed") == "true"

    charged = sorted(PaymentAttempt.objects.for_scope(scope).filter(
        kind=PaymentAttempt.Kind.CHARGE, status=PaymentAttempt.Status.SUCCEEDED
    ).values_list("amount", flat=True))
    assert len(charged) == 2, charged  # the first plan's, and one for the upgrade
    # The gateway's own records agree: it took the upgrade's money once.
    assert sorted(SandboxPayment.objects.values_list("amount", flat=True)) == charged

    state = api.get("/api/v1/pay/customers?id=user_1").json()["data"]
    assert {s["productSlug"] for s in state["subscriptions"]
            if s["status"] == "active"} == {"enterprise"}
    paid = Invoice.objects.for_scope(scope).filter(status=Invoice.Status.PAID)
    assert sorted(i.amount_paid for i in paid) == charged
    for invoice in paid:
        posted = JournalEntry.objects.for_scope(scope).filter(
            invoice_id=invoice.id, kind=EntryKind.PAYMENT_CAPTURED)
        assert posted.count() == 1, (invoice.id, list(posted.values("memo")))
    books = trial_balance(scope=scope, as_of=date(9999, 12, 31))
    for currency, book in books["currencies"].items():
        assert book["totalDebit"] == book["totalCredit"], (currency, book)
