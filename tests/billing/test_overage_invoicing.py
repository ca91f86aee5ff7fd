"""Overage is billed in arrears: usage above the allowance, where overage is allowed, goes on
the period-end invoice at overagePrice per unit, once, and into 4002 in the ledger."""

import pytest

from cynco.tenancy import Scope
from ledger.selectors.statements import trial_balance
from tests.billing.catalog import define, monthly
from tests.billing.subscribing import (
    DAY, advance, customer, invoices, now, subscribe_paid,
)
from tests.factories import data_of

pytestmark = pytest.mark.django_db(transaction=True)

PAYG = {
    "name": "Pay as you go", "slug": "payg", "groupSlug": "main",
    "prices": [monthly(1000)],
    "features": [{"slug": "notifications", "name": "Notifications", "type": "metered",
                  "allowanceType": "fixed", "allowance": 100, "overageAllowed": True,
                  "overagePrice": 10}],
}


def track(api, amount):
    return data_of(api.post("/api/v1/pay/track", {"customer": "user_1",
                                                  "feature": "notifications",
                                                  "amount": amount}))


def test_fifty_units_over_at_ten_sen_is_a_500_line_on_the_period_end_invoice(api, merchant):
    define(api, PAYG)
    customer(api)
    subscribe_paid(api, "payg")
    result = track(api, 150)
    assert result["recorded"] and result["balance"] == -50

    ran = advance(api, 31 * DAY)["ran"]
    assert ran["renewals"] == 1
    renewal = [i for i in invoices(api) if any(l["type"] == "overage" for l in i["lines"])]
    assert len(renewal) == 1
    overage = [l for l in renewal[0]["lines"] if l["type"] == "overage"]
    assert [(l["quantity"], l["unitAmount"], l["amount"]) for l in overage] == [(50, 10, 500)]
    assert renewal[0]["total"] == 1000 + 500

    # The new period starts fresh, and advancing further bills the overage only once.
    assert track(api, 1)["balance"] == 99
    advance(api, 31 * DAY)
    assert sum(1 for i in invoices(api)
               for l in i["lines"] if l["type"] == "overage") == 1

    scope = Scope(merchant.merchant.id, "test")
    book = trial_balance(scope=scope, as_of=now(api).date())["currencies"]["MYR"]
    rows = {row["accountCode"]: row for row in book["rows"]}
    assert rows["4002"]["credit"] == 500
    assert book["totalDebit"] == book["totalCredit"]


def test_the_test_clock_releases_locks_that_expire_on_its_way(api, merchant):
    define(api, PAYG)
    customer(api)
    subscribe_paid(api, "payg")
    expires = int((now(api).timestamp() + 60) * 1000)
    held = data_of(api.post("/api/v1/pay/check", {
        "customer": "user_1", "feature": "notifications", "requiredBalance": 40,
        "lock": {"enabled": True, "expiresAt": expires},
    }))
    assert held["allowed"] and held["lockId"]
    ran = advance(api, 3600)["ran"]
    assert ran["lockReleases"] == 1
    balance = data_of(api.get("/api/v1/pay/customers?id=user_1"))["balances"]["notifications"]
    assert balance["balance"] == 100
