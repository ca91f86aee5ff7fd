"""Customer credit: an upgrade's credit larger than the new plan is kept and pays the next
invoices; a referral credit discounts them. Checked on the invoices and in the books."""

import pytest

from billing.models import CustomerCredit
from tests.billing.catalog import define, monthly
from tests.billing.money import balances, entries
from tests.billing.subscribing import (
    DAY, advance, customer, invoices, main_catalog, subscribe, subscribe_paid,
)
from tests.factories import data_of

pytestmark = pytest.mark.django_db(transaction=True)
REWARDS = "/api/v1/pay/rewards"


@pytest.fixture
def shop(api):
    main_catalog(api)
    define(api, {"name": "Team Yearly", "slug": "team-yearly", "groupSlug": "team",
                 "sortOrder": 1, "prices": [{"type": "recurring", "billingInterval": "year",
                                             "amount": 24000}], "features": []})
    define(api, {"name": "Scale", "slug": "scale", "groupSlug": "team", "sortOrder": 2,
                 "prices": [monthly(5000)], "features": []})
    customer(api)


def test_an_upgrade_credit_larger_than_the_new_plan_pays_the_next_invoices(api, shop):
    subscribe_paid(api, "team-yearly")  # 24000 paid for the year
    result = subscribe(api, "scale")  # the first day: almost all of the year is unused
    assert (result["action"], result["prorationAmount"]) == ("activated", 0)

    upgrade = invoices(api)[0]
    credit = -next(line["amount"] for line in upgrade["lines"] if line["type"] == "proration")
    carried = credit - 5000
    assert upgrade["amountDue"] == 0 and upgrade["status"] == "paid"
    kept = CustomerCredit.objects.get()
    assert (kept.source, kept.amount, kept.remaining) == ("upgrade", carried, carried)
    assert entries("upgrade_credit") == [[("DR", "4001", credit), ("CR", "2100", credit)]]
    assert entries("credit_applied") == [[("DR", "2100", 5000), ("CR", "1200", 5000)]]
    assert balances(api)["2100"] == -carried

    advance(api, 32 * DAY)  # Scale renews: the kept credit pays it

    renewal = invoices(api)[0]
    assert (renewal["total"], renewal["amountDue"], renewal["amountPaid"],
            renewal["status"]) == (5000, 0, 0, "paid")
    assert CustomerCredit.objects.get().remaining == carried - 5000
    assert entries("credit_applied")[-1] == [("DR", "2100", 5000), ("CR", "1200", 5000)]
    books = balances(api)
    assert books["2100"] == -(carried - 5000) and "1200" not in books


def test_a_credit_smaller_than_the_renewal_lowers_what_the_card_is_charged(api, shop):
    subscribe_paid(api, "pro")
    # A quantity decrease of a per-seat add-on leaves an upgrade credit (2100) behind.
    define(api, {"name": "Seats", "slug": "seat", "isAddOn": True, "prices": [monthly(1000)],
                 "features": []})
    assert subscribe(api, "seat", quantity=3)["action"] == "activated"  # the saved card
    advance(api, 15 * DAY)
    change = data_of(api.post("/api/v1/pay/subscriptions/update",
                              {"customer": "user_1", "product": "seat", "quantity": 1}))
    kept = CustomerCredit.objects.get()
    assert (kept.source, kept.amount) == ("upgrade", -change["total"]) and kept.amount > 0

    advance(api, 20 * DAY)  # Pro and Seats renew; the first renewal invoiced takes the credit

    paid = [i for i in invoices(api) if i["status"] == "paid" and i["total"] > 0]
    assert len(paid) == 4  # two first invoices, two renewals
    used = sum(i["total"] - i["amountPaid"] for i in paid)
    assert used == kept.amount and CustomerCredit.objects.get().remaining == 0
    books = balances(api)
    assert "2100" not in books and "1200" not in books


def test_a_referral_credit_discounts_the_next_invoice(api, shop):
    customer(api, "friend")
    program = data_of(api.post(REWARDS, {"name": "Refer", "rewardType": "credit",
                                         "rewardValue": 500}), 201)
    data_of(api.post(f"{REWARDS}?action=code", {"programId": program["id"],
                                                "customer": "friend", "code": "FRIEND"}), 201)
    data_of(api.post(f"{REWARDS}?action=redeem", {"programId": program["id"],
                                                  "code": "FRIEND", "customer": "user_1"}))
    subscribe_paid(api, "pro")
    advance(api, 32 * DAY)

    renewal = invoices(api)[0]
    assert [(line["type"], line["description"], line["amount"])
            for line in renewal["lines"] if line["type"] == "discount"] == [
        ("discount", "Referral credit", -500)]
    assert (renewal["total"], renewal["amountPaid"]) == (1500, 1500)
    assert CustomerCredit.objects.get(customer__external_id="user_1").remaining == 0
    assert balances(api)["4900"] == 500
