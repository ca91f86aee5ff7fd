"""Currencies never mix (docs/accounting.md): moving between plans priced in two currencies
charges the new plan in full in its own currency and refunds the unused part of the old one in
the old currency, through the gateway that took it; /preview shows the same."""

from datetime import datetime

import pytest

from billing.models import CustomerCredit, Invoice, Refund, Subscription
from billing.proration import unused_credit
from tests.billing.catalog import define, monthly
from tests.billing.money import balances
from tests.billing.subscribing import (
    PREVIEW, advance, current, customer, invoices, subscribe, subscribe_paid,
)
from tests.factories import data_of

pytestmark = pytest.mark.django_db(transaction=True)

HOURS = 3600
PRO = {"name": "Pro", "slug": "pro", "groupSlug": "main", "prices": [monthly(5000)],
       "features": []}
ULTRA = {"name": "Ultra", "slug": "ultra", "groupSlug": "main",
         "prices": [monthly(9000, currency="USD")], "features": []}
STARTER = {"name": "Starter", "slug": "starter", "groupSlug": "main",
           "prices": [monthly(3000, currency="USD")], "features": []}
ATTACH = "/api/v1/pay/multi-attach"


@pytest.fixture
def shop(api):
    for body in (PRO, ULTRA, STARTER):
        define(api, body)
    customer(api)


def refunded_share(refund: Refund, paid: int) -> int:
    """The unused part of the old period at the moment the refund was decided."""
    held = refund.subscription
    return unused_credit(paid, held.current_period_start, held.current_period_end,
                         refund.created_at)


def test_pro_in_myr_to_ultra_in_usd_charges_usd_9000_and_refunds_the_unused_myr(api, shop):
    subscribe_paid(api, "pro")  # MYR 5000 paid on the checkout page; the card is saved
    advance(api, 5 * HOURS)
    preview = data_of(api.post(PREVIEW, {"customer": "user_1", "product": "ultra"}))
    assert preview["lineItems"][0]["amount"] == 9000
    assert [line["amount"] for line in preview["lineItems"]] == [9000]  # no MYR credit line
    assert (preview["total"], preview["amountDue"]) == (9000, 9000)
    assert preview["proration"]["creditAmount"] == 0
    assert preview["proration"]["refundCurrency"] == "MYR"
    assert 4900 < preview["proration"]["refundAmount"] < 5000

    result = subscribe(api, "ultra")
    assert result["action"] == "activated" and result["prorationAmount"] == 9000
    ultra = Invoice.objects.get(subscription__product__slug="ultra")
    assert ultra.currency == "USD"
    assert [(line.type, line.amount) for line in ultra.lines.all()] == [("subscription", 9000)]
    assert (ultra.total, ultra.amount_paid, ultra.status) == (9000, 9000, "paid")

    refund = Refund.objects.get()
    assert (refund.currency, refund.status) == ("MYR", "succeeded")
    assert refund.amount == refunded_share(refund, 5000)
    assert refund.invoice.currency == "MYR"
    assert Subscription.objects.get(product__slug="pro").status == "canceled"
    assert set(current(api)) == {"ultra"}

    usd, myr = balances(api, "USD"), balances(api, "MYR")
    assert usd["4001"] == -9000  # the full USD price, nothing taken off in MYR sen
    assert usd.get("2100", 0) == 0 and usd.get("4910", 0) == 0
    assert myr["4001"] == -5000  # MYR revenue stays what was billed in MYR
    assert myr["4910"] == refund.amount  # and the MYR refund reduces MYR revenue
    assert myr.get("2100", 0) == 0
    assert myr["1100-sandbox"] == 5000 - refund.amount and usd["1100-sandbox"] == 9000


def test_starter_in_usd_to_pro_in_myr_charges_myr_5000_and_refunds_the_unused_usd(api, shop):
    subscribe_paid(api, "starter")  # USD 3000
    advance(api, 48 * HOURS)
    result = subscribe(api, "pro")
    assert result["action"] == "activated" and result["prorationAmount"] == 5000
    pro = Invoice.objects.get(subscription__product__slug="pro")
    assert pro.currency == "MYR"
    assert [(line.type, line.amount) for line in pro.lines.all()] == [("subscription", 5000)]
    refund = Refund.objects.get()
    assert (refund.currency, refund.status) == ("USD", "succeeded")
    assert refund.amount == refunded_share(refund, 3000)
    usd, myr = balances(api, "USD"), balances(api, "MYR")
    assert (myr["4001"], myr.get("2100", 0)) == (-5000, 0)
    assert (usd["4001"], usd["4910"]) == (-3000, refund.amount)


def test_the_plans_list_quotes_a_change_of_currency_at_the_full_new_price(api, shop):
    subscribe_paid(api, "pro")
    advance(api, 5 * HOURS)
    plans = data_of(api.get("/api/v1/pay/plans?customer=user_1"))
    ultra = next(plan for plan in plans if plan["slug"] == "ultra")
    assert ultra["customerEligibility"]["scenario"] == "upgrade"
    assert ultra["customerEligibility"]["prorationAmount"] == 9000


def test_multi_attach_in_usd_leaves_the_customers_myr_credit_alone(api, shop):
    define(api, {"name": "Seats", "slug": "seat", "isAddOn": True,
                 "prices": [monthly(1000, currency="USD")], "features": []})
    subscribe_paid(api, "pro")
    holder = Subscription.objects.get(product__slug="pro").customer
    CustomerCredit.objects.create(  # MYR credit left from an earlier change
        merchant_id=holder.merchant_id, environment=holder.environment, customer=holder,
        amount=700, remaining=700, currency="MYR", source=CustomerCredit.Source.UPGRADE,
        source_id="earlier", description="earlier", created_at=datetime.now().astimezone())
    result = data_of(api.post(ATTACH, {"customer": "user_1", "products": [
        {"product": "seat", "quantity": 2}], "successUrl": "https://shop.example/ok",
        "cancelUrl": "https://shop.example/back"}))
    assert result["action"] == "activated"
    seats = [i for i in invoices(api) if i["currency"] == "USD"]
    assert [(i["total"], i["amountPaid"]) for i in seats] == [(2000, 2000)]
    assert CustomerCredit.objects.get().remaining == 700
    assert not Refund.objects.exists()
