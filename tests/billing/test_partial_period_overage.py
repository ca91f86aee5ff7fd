"""A period cut short is still billed: a subscription that ends before its period does (an
upgrade now, a cancellation now) bills its usage above the allowance so far, once, on a
period-close invoice charged to the saved card; and an invoice issued mid-period (a quantity
increase) is collected from the saved card rather than left open."""

import pytest

from cynco.tenancy import Scope
from ledger.selectors.statements import trial_balance
from tests.billing.catalog import define, metered, monthly
from tests.billing.subscribing import (
    CANCEL, DAY, LATER_DECLINED_CARD, SUBSCRIBE, UPDATE, advance, current, customer, invoices,
    now, subscribe, subscribe_paid,
)
from tests.factories import data_of

pytestmark = pytest.mark.django_db(transaction=True)


def plan(slug, amount, allowance, **extra):
    return {
        "name": slug.title(), "slug": slug, "groupSlug": "main", "prices": [monthly(amount)],
        "features": [{"slug": "notifications", "name": "Notifications", "type": "metered",
                      "allowanceType": "fixed", "allowance": allowance,
                      "overageAllowed": True, "overagePrice": 10}],
        **extra,
    }


def overage_invoices(api):
    return [invoice for invoice in invoices(api)
            if any(line["type"] == "overage" for line in invoice["lines"])]


def overage_lines(api):
    return [(line["quantity"], line["unitAmount"], line["amount"])
            for invoice in overage_invoices(api) for line in invoice["lines"]
            if line["type"] == "overage"]


def track(api, amount):
    return data_of(api.post("/api/v1/pay/track", {"customer": "user_1",
                                                  "feature": "notifications",
                                                  "amount": amount}))


def balance(api):
    return data_of(api.get("/api/v1/pay/customers?id=user_1"))["balances"]["notifications"]


def revenue_4002(api, merchant):
    book = trial_balance(scope=Scope(merchant.merchant.id, "test"),
                         as_of=now(api).date())["currencies"]["MYR"]
    assert book["totalDebit"] == book["totalCredit"]
    return {row["accountCode"]: row for row in book["rows"]}.get("4002", {}).get("credit", 0)


@pytest.fixture
def over_by_fifty(api, merchant):
    define(api, plan("basic", 1000, 100))
    define(api, plan("bigger", 3000, 1000))
    customer(api)
    subscribe_paid(api, "basic")
    advance(api, 10 * DAY)
    assert track(api, 150)["balance"] == -50
    return api


def test_an_upgrade_now_bills_the_old_plans_overage_so_far_and_collects_it(over_by_fifty,
                                                                         merchant):
    api = over_by_fifty
    assert subscribe(api, "bigger")["action"] == "activated"
    assert overage_lines(api) == [(50, 10, 500)]
    bill = overage_invoices(api)[0]
    assert (bill["status"], bill["total"], bill["amountPaid"]) == ("paid", 500, 500)
    assert bill["subscriptionId"] != current(api)["bigger"]["id"]  # the old plan's
    # The new plan starts its period with nothing used, and its period end bills no more of it.
    assert balance(api)["usage"] == 0 and balance(api)["granted"] == 1000
    advance(api, 40 * DAY)
    assert overage_lines(api) == [(50, 10, 500)]
    assert revenue_4002(api, merchant) == 500


def test_an_upgrade_within_the_allowance_makes_no_overage_invoice(api, merchant):
    define(api, plan("basic", 1000, 100))
    define(api, plan("bigger", 3000, 1000))
    customer(api)
    subscribe_paid(api, "basic")
    track(api, 80)
    subscribe(api, "bigger")
    assert overage_invoices(api) == []
    assert len(invoices(api)) == 2


def test_carried_over_usage_counts_on_the_new_plan_instead_of_being_billed_on_the_old(
        over_by_fifty):
    api = over_by_fifty
    assert subscribe(api, "bigger", carryOverUsages={"enabled": True})["action"] == "activated"
    assert overage_lines(api) == []
    assert (balance(api)["usage"], balance(api)["granted"]) == (150, 1000)
    track(api, 900)  # 1,050 on the new plan: its own period end bills 50 at its price
    advance(api, 31 * DAY)
    assert overage_lines(api) == [(50, 10, 500)]


def test_a_cancellation_now_bills_the_overage_so_far(over_by_fifty, merchant):
    api = over_by_fifty
    data_of(api.post(CANCEL, {"customer": "user_1", "product": "basic", "immediate": True}))
    assert overage_lines(api) == [(50, 10, 500)]
    assert overage_invoices(api)[0]["status"] == "paid"
    advance(api, 40 * DAY)
    assert overage_lines(api) == [(50, 10, 500)]
    assert revenue_4002(api, merchant) == 500


def test_cancel_immediately_through_update_bills_it_once_too(over_by_fifty):
    api = over_by_fifty
    data_of(api.post(UPDATE, {"customer": "user_1", "product": "basic",
                              "cancelAction": "cancel_immediately"}))
    data_of(api.post(CANCEL, {"customer": "user_1", "product": "basic", "immediate": True}))
    assert overage_lines(api) == [(50, 10, 500)]


def test_a_declined_overage_charge_leaves_the_invoice_open_for_the_merchant(api, merchant):
    define(api, plan("basic", 1000, 100))
    customer(api)
    subscribe_paid(api, "basic", card=LATER_DECLINED_CARD)
    track(api, 130)
    data_of(api.post(CANCEL, {"customer": "user_1", "immediate": True}))
    bill = overage_invoices(api)[0]
    assert (bill["status"], bill["amountDue"]) == ("open", 300)


def test_a_quantity_increase_invoice_is_charged_to_the_saved_card(api, merchant):
    define(api, {"name": "Seats", "slug": "seat", "prices": [monthly(1000)],
                 "features": [metered("members", 1)]})
    customer(api)
    subscribe_paid(api, "seat", quantity=2)
    advance(api, 10 * DAY)
    result = data_of(api.post(UPDATE, {"customer": "user_1", "product": "seat",
                                       "quantity": 4}))
    increase = invoices(api)[0]
    assert increase["total"] == result["total"] > 0
    assert (increase["status"], increase["amountPaid"]) == ("paid", result["total"])


def test_a_declined_quantity_increase_puts_the_subscription_past_due(api, merchant):
    define(api, {"name": "Seats", "slug": "seat", "prices": [monthly(1000)],
                 "features": [metered("members", 1)]})
    customer(api)
    subscribe_paid(api, "seat", quantity=2, card=LATER_DECLINED_CARD)
    advance(api, 10 * DAY)
    data_of(api.post(UPDATE, {"customer": "user_1", "product": "seat", "quantity": 4}))
    assert invoices(api)[0]["status"] == "open"
    assert current(api)["seat"]["status"] == "past_due"


def test_subscribe_body_is_unchanged_by_this(api, merchant):
    """The subscribe contract stays as API.md: no new field is needed to bill the overage."""
    define(api, plan("basic", 1000, 100))
    customer(api)
    assert data_of(api.post(SUBSCRIBE, {"customer": "user_1", "product": "basic",
                                        "successUrl": "https://example.com"}))["action"] == \
        "checkout"


def test_a_paid_upgrade_carries_the_unused_balance_over_when_asked(api, merchant):
    """The upgrade is charged (a checkout paid with the saved card), and carryOverBalances
    still applies: the old plan's unused 70 becomes a once-only grant on the new plan."""
    define(api, plan("basic", 1000, 100))
    define(api, plan("bigger", 3000, 1000))
    customer(api)
    subscribe_paid(api, "basic")
    track(api, 30)
    assert subscribe(api, "bigger", carryOverBalances={"enabled": True})["action"] == \
        "activated"
    assert (balance(api)["granted"], balance(api)["usage"]) == (1070, 0)
