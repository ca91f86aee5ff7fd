"""`/multi-attach`: a plan and add-ons bought together with one payment, all or nothing."""

import pytest

from billing.models import Checkout, CouponRedemption, Invoice, Subscription
from gateways.models import PaymentAttempt
from tests.billing.catalog import define, monthly
from tests.billing.money import balances, entries
from tests.billing.subscribing import (
    OK_CARD, complete_path, current, customer, invoices, main_catalog, subscribe_paid,
)
from tests.factories import Api, data_of, error_of

pytestmark = pytest.mark.django_db(transaction=True)
ATTACH = "/api/v1/pay/multi-attach"
URLS = {"successUrl": "https://shop.example/ok", "cancelUrl": "https://shop.example/back"}


@pytest.fixture
def shop(api):
    main_catalog(api)
    define(api, {"name": "Seats", "slug": "seat", "isAddOn": True, "prices": [monthly(1000)],
                 "features": []})
    define(api, {"name": "Storage", "slug": "storage", "isAddOn": True,
                 "prices": [monthly(500)], "features": []})
    customer(api)


def attach(api, products, status=200, **extra):
    return data_of(api.post(ATTACH, {"customer": "user_1", "products": products, **URLS,
                                     **extra}), status)


def refused(api, products, **extra) -> dict:
    before = (Subscription.objects.count(), Checkout.objects.count(),
              PaymentAttempt.objects.count(), Invoice.objects.count())
    error = error_of(api.post(ATTACH, {"customer": "user_1", "products": products, **URLS,
                                       **extra}))
    assert error["code"] == "VALIDATION_ERROR", error
    assert (Subscription.objects.count(), Checkout.objects.count(),
            PaymentAttempt.objects.count(), Invoice.objects.count()) == before
    return error["details"][0]


def test_a_plan_and_two_add_ons_are_paid_with_one_checkout(api, shop):
    result = attach(api, [{"product": "pro"}, {"product": "seat", "quantity": 3},
                          {"product": "storage"}])
    assert result["action"] == "checkout" and result["url"]
    assert Checkout.objects.get().amount == 2000 + 3000 + 500
    waiting = current(api)  # no access until it is paid
    assert {slug: waiting[slug]["status"] for slug in ("pro", "seat", "storage")} == {
        "pro": "checkout", "seat": "checkout", "storage": "checkout"}

    data_of(api.post(complete_path(result["checkoutId"]), {"card": OK_CARD}))

    assert set(current(api)) == {"pro", "seat", "storage"}  # the free plan was replaced
    assert current(api)["seat"]["quantity"] == 3
    (invoice,) = invoices(api)
    assert (invoice["total"], invoice["status"]) == (5500, "paid")
    assert [line["amount"] for line in invoice["lines"]] == [2000, 3000, 500]
    assert entries("invoice_finalized") == [[("DR", "1200", 5500), ("CR", "4001", 5500)]]
    assert balances(api) == {"1100-sandbox": 5500, "4001": -5500}


def test_with_a_saved_card_and_a_coupon_it_is_one_discounted_charge(api, shop):
    subscribe_paid(api, "storage")  # saves a card
    data_of(api.post("/api/v1/pay/coupons", {"code": "SAVE20", "type": "percentage",
                                             "value": 20, "duration": "once"}), 201)
    result = attach(api, [{"product": "pro"}, {"product": "seat"}], couponCode="SAVE20")
    assert (result["action"], result["discountAmount"]) == ("activated", 600)
    off_session = PaymentAttempt.objects.filter(kind="charge").exclude(
        idempotency_key__startswith="checkout:")
    assert [charge.amount for charge in off_session] == [2400]
    assert invoices(api)[0]["discountAmount"] == 600
    assert CouponRedemption.objects.get().subscription_id == current(api)["pro"]["id"]


def test_nothing_happens_when_any_product_is_invalid(api, shop):
    assert refused(api, [{"product": "pro"}, {"product": "nope"}]) == {
        "field": "products[1].product", "message": "No such product."}
    assert refused(api, [{"product": "seat"}, {"product": "seat"}])["field"] == \
        "products[1].product"
    assert refused(api, [{"product": "pro"}, {"product": "enterprise"}])["field"] == \
        "products[1].product"  # two plans of one group
    assert refused(api, [{"product": "pro", "priceId": "ppri_nope"}])["field"] == \
        "products[0].priceId"
    subscribe_paid(api, "pro")
    assert refused(api, [{"product": "seat"}, {"product": "pro"}])["field"] == \
        "products[1].product"  # already subscribed
    assert refused(api, [{"product": "seat"}], couponCode="NOPE")["field"] == "couponCode"


@pytest.mark.parametrize("body,field", [
    ({"products": [{"product": "pro"}]}, "customer"),
    ({"customer": "user_1", **URLS}, "products"),
    ({"customer": "user_1", "products": [], **URLS}, "products"),
    ({"customer": "user_1", "products": "pro", **URLS}, "products"),
    ({"customer": "user_1", "products": [{"product": 7}], **URLS}, "products"),
    ({"customer": "user_1", "products": [{"product": "pro", "quantity": 0}], **URLS},
     "products"),
    ({"customer": "user_1", "products": [{"product": "pro", "quantity": "2"}], **URLS},
     "products"),
    ({"customer": "user_1", "products": [{"product": "pro"}],
      "cancelUrl": URLS["cancelUrl"]}, "successUrl"),
    ({"customer": "user_1", "products": [{"product": "pro"}], **URLS, "successUrl": 5},
     "successUrl"),
    ({"customer": "user_1", "products": [{"product": "pro"}], **URLS, "couponCode": 5},
     "couponCode"),
    ({"customer": "user_1", "products": [{"product": "pro"}], **URLS, "metadata": []},
     "metadata"),
])
def test_bad_input_is_422_naming_the_field(api, shop, body, field):
    error = error_of(api.post(ATTACH, body))
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"][0]["field"].startswith(field), error
    assert Subscription.objects.filter(product__slug="pro").count() == 0


def test_keys_customers_and_environments(api, public_api, live_api, shop, other_merchant):
    body = {"customer": "user_1", "products": [{"product": "pro"}], **URLS}
    assert Api(None).post(ATTACH, body).status_code == 401
    assert live_api.post(ATTACH, body).status_code == 404  # user_1 is a test-mode customer
    assert Api(other_merchant.secret_test).post(ATTACH, body).status_code == 404
    inline = {**body, "customer": {"id": "new", "email": "n@example.com", "name": "N"}}
    assert public_api.post(ATTACH, inline).status_code == 403
    # Not on API.md's list of what a publishable key may do.
    assert public_api.post(ATTACH, body).status_code == 403
