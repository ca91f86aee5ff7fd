"""`couponCode` on subscribe and preview: the first invoice's discount, the discount on later
renewals while the coupon lasts, the books, and codes that cannot be used."""

import pytest

from billing.models import Checkout, CouponRedemption, Subscription
from gateways.models import PaymentAttempt
from tests.billing.money import balances, entries
from tests.billing.subscribing import (
    DAY, PREVIEW, SUBSCRIBE, advance, customer, invoices, main_catalog, pay_checkout, subscribe,
    subscribe_paid,
)
from tests.factories import data_of, error_of

pytestmark = pytest.mark.django_db(transaction=True)
COUPONS = "/api/v1/pay/coupons"


@pytest.fixture
def shop(api):
    main_catalog(api)
    customer(api)


def coupon(api, code="SAVE20", value=20, duration="once", **extra):
    return data_of(api.post(COUPONS, {"code": code, "type": "percentage", "value": value,
                                      "duration": duration, **extra}), 201)


def totals(api) -> list[int]:
    """Invoice totals, oldest first."""
    return [invoice["total"] for invoice in reversed(invoices(api))]


def test_save20_on_pro_makes_the_first_invoice_1600(api, shop):
    coupon(api)
    result = subscribe(api, "pro", couponCode="SAVE20")
    assert (result["action"], result["discountAmount"]) == ("checkout", 400)
    assert Checkout.objects.get().amount == 1600
    pay_checkout(api, result)

    (invoice,) = invoices(api)
    assert (invoice["subtotal"], invoice["discountAmount"], invoice["total"],
            invoice["amountPaid"]) == (2000, 400, 1600, 1600)
    assert [(line["type"], line["amount"]) for line in invoice["lines"]] == [
        ("subscription", 2000), ("discount", -400)]
    assert entries("invoice_finalized") == [[("DR", "1200", 1600), ("DR", "4900", 400),
                                             ("CR", "4001", 2000)]]
    assert balances(api) == {"1100-sandbox": 1600, "4900": 400, "4001": -2000}


def test_a_once_coupon_discounts_only_the_first_invoice(api, shop):
    coupon(api)
    subscribe_paid(api, "pro", couponCode="SAVE20")
    advance(api, 65 * DAY)
    assert totals(api) == [1600, 2000, 2000]


def test_a_repeating_coupon_discounts_its_months_then_stops(api, shop):
    coupon(api, "HALF2", value=50, duration="repeating", durationMonths=2)
    subscribe_paid(api, "pro", couponCode="HALF2")
    advance(api, 95 * DAY)
    assert totals(api) == [1000, 1000, 2000, 2000]
    assert CouponRedemption.objects.get().cycles_applied == 2
    books = balances(api)
    assert books["4900"] == 2000 and books["4001"] == -8000 and "1200" not in books


def test_a_forever_coupon_discounts_every_renewal(api, shop):
    coupon(api, "TENOFF", value=10, duration="forever")
    subscribe_paid(api, "pro", couponCode="TENOFF")
    advance(api, 65 * DAY)
    assert totals(api) == [1800, 1800, 1800]
    assert [len(entry) for entry in entries("invoice_finalized")] == [3, 3, 3]


def test_a_saved_card_upgrade_with_a_coupon_charges_the_discounted_amount(api, shop):
    subscribe_paid(api, "pro")
    coupon(api, "BIG", value=20)
    result = subscribe(api, "enterprise", couponCode="BIG")
    assert (result["action"], result["discountAmount"]) == ("activated", 1000)
    upgrade = invoices(api)[0]
    assert upgrade["discountAmount"] == 1000 and upgrade["total"] == result["prorationAmount"]
    off_session = PaymentAttempt.objects.filter(kind="charge").exclude(
        idempotency_key__startswith="checkout:")
    assert [charge.amount for charge in off_session] == [upgrade["total"]]


def test_preview_shows_the_discount_subscribe_gives(api, shop):
    coupon(api)
    preview = data_of(api.post(PREVIEW, {"customer": "user_1", "product": "pro",
                                         "couponCode": "save20"}))
    assert preview["discountAmount"] == 400 and preview["amountDue"] == 1600
    assert preview["lineItems"][-1]["amount"] == -400
    assert subscribe(api, "pro", couponCode="save20")["discountAmount"] == 400


@pytest.mark.parametrize("code,message", [
    ("NOPE", "Coupon not found"),
    ("OLD", "Coupon is no longer active"),
])
def test_an_unusable_code_is_422_on_coupon_code_and_nothing_happens(api, shop, code, message):
    subscribe_paid(api, "pro")  # a saved card that would otherwise be charged
    coupon(api, "OLD")
    api.delete(f"{COUPONS}/{data_of(api.get(COUPONS))[0]['id']}")
    before = (Subscription.objects.count(), Checkout.objects.count(),
              PaymentAttempt.objects.count())

    error = error_of(api.post(SUBSCRIBE, {"customer": "user_1", "product": "enterprise",
                                          "couponCode": code}))

    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"] == [{"field": "couponCode", "message": message}]
    assert (Subscription.objects.count(), Checkout.objects.count(),
            PaymentAttempt.objects.count()) == before
    assert not CouponRedemption.objects.exists()
    preview = error_of(api.post(PREVIEW, {"customer": "user_1", "product": "enterprise",
                                          "couponCode": code}))
    assert preview["details"][0]["field"] == "couponCode"


def test_coupon_code_must_be_a_string(api, shop):
    error = error_of(api.post(SUBSCRIBE, {"customer": "user_1", "product": "pro",
                                          "couponCode": 20}))
    assert error["details"][0]["field"] == "couponCode"
    error = error_of(api.post(PREVIEW, {"customer": "user_1", "product": "pro",
                                        "couponCode": ["SAVE20"]}))
    assert error["details"][0]["field"] == "couponCode"


def test_an_upgrade_credits_what_the_discounted_plan_cost_not_its_list_price(api, shop):
    coupon(api)
    subscribe_paid(api, "pro", couponCode="SAVE20")  # 1600 paid for the month
    preview = data_of(api.post(PREVIEW, {"customer": "user_1", "product": "enterprise"}))
    assert preview["proration"]["creditAmount"] <= 1600
    result = subscribe(api, "enterprise")
    assert result["prorationAmount"] == preview["amountDue"] == 5000 - preview["proration"][
        "creditAmount"]
