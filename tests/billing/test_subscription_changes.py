"""`/cancel`, `/subscriptions/update` and `/subscriptions/preview-update`, `/subscriptions`,
`/invoices`: changing a subscription in place, and the validation of every endpoint."""

import threading

import pytest
from django.db import connections

from billing.models import Invoice
from gateways.models import PaymentAttempt
from tests.billing.catalog import define, metered, monthly
from tests.billing.subscribing import (
    CANCEL, DAY, INVOICES, PREVIEW, PREVIEW_UPDATE, SUBSCRIBE, SUBSCRIPTIONS, UPDATE, advance,
    current, customer, invoices, main_catalog, state, subscribe, subscribe_paid,
)
from tests.factories import Api, data_of, error_of

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def shop(api):
    main_catalog(api)
    customer(api)
    define(api, {"name": "Seats", "slug": "seat", "isAddOn": True,
                 "prices": [monthly(1000)], "features": [metered("members", 1)]})


def update(api, product="pro", status=200, **change):
    return data_of(api.post(UPDATE, {"customer": "user_1", "product": product, **change}),
                   status)


def test_cancel_end_of_cycle_then_uncancel(api, shop):
    subscribe_paid(api, "pro")
    result = update(api, cancelAction="cancel_end_of_cycle")
    assert (result["updated"], result["action"]) == (True, "canceled")
    assert result["subscription"]["status"] == "active"
    assert current(api)["pro"]["cancelAtPeriodEnd"] is True
    assert update(api, cancelAction="uncancel")["action"] == "uncanceled"
    assert current(api)["pro"]["cancelAtPeriodEnd"] is False
    assert error_of(api.post(UPDATE, {"customer": "user_1", "product": "pro",
                                      "cancelAction": "uncancel"}))["code"] == "CONFLICT"


def test_cancel_immediately_ends_access_and_reports_the_unused_part(api, shop):
    subscribe_paid(api, "pro")
    preview = data_of(api.post(PREVIEW_UPDATE, {"customer": "user_1", "product": "pro",
                                                "cancelAction": "cancel_immediately"}))
    assert (preview["updated"], preview["action"]) == (False, "preview")
    result = update(api, cancelAction="cancel_immediately")
    assert result["action"] == "canceled_immediately"
    assert result["refundAmount"] == preview["refundAmount"]
    assert 1990 <= result["refundAmount"] <= 2000
    assert "pro" not in current(api)
    assert state(api)["flags"].get("premium_support") is None


def test_cancel_with_immediate_and_without_a_product(api, shop):
    subscribe_paid(api, "pro")
    assert data_of(api.post(CANCEL, {"customer": "user_1", "immediate": True}))["canceled"]
    assert current(api) == {}
    assert data_of(api.post(CANCEL, {"customer": "user_1"})) == {"canceled": False,
                                                                  "effectiveAt": None}


def test_pause_gives_no_access_and_resume_gives_the_paused_time_back(api, shop):
    subscribe_paid(api, "pro")
    end_before = current(api)["pro"]["currentPeriodEnd"]
    assert update(api, pauseAction="pause")["action"] == "paused"
    assert current(api)["pro"]["status"] == "paused"
    assert state(api)["flags"].get("premium_support") is None
    ran = advance(api, 40 * DAY)["ran"]
    assert ran["renewals"] == 0 and len(invoices(api)) == 1  # no charge while paused
    assert update(api, pauseAction="resume")["action"] == "resumed"
    pro = current(api)["pro"]
    assert pro["status"] == "active" and pro["currentPeriodEnd"] > end_before


def test_a_quantity_increase_mid_period_is_prorated_and_preview_equals_it(api, shop):
    subscribe_paid(api, "seat", quantity=2)
    advance(api, 10 * DAY)
    body = {"customer": "user_1", "product": "seat", "quantity": 4}
    preview = data_of(api.post(PREVIEW_UPDATE, body))
    result = update(api, "seat", quantity=4)
    assert result["action"] == "quantity_updated"
    assert result["total"] == preview["total"] and 0 < result["total"] < 2000
    assert current(api)["seat"]["quantity"] == 4
    assert invoices(api)[0]["total"] == result["total"]


def test_proration_behavior_none_changes_the_quantity_without_an_invoice(api, shop):
    subscribe_paid(api, "seat", quantity=2)
    result = update(api, "seat", quantity=3, prorationBehavior="none")
    assert result["total"] == 0 and len(invoices(api)) == 1


def test_update_refuses_bad_input(api, public_api, shop):
    subscribe_paid(api, "pro")
    for body, field in (
        ({"product": "pro", "cancelAction": "uncancel"}, "customer"),
        ({"customer": "user_1", "cancelAction": "uncancel"}, "product"),
        ({"customer": "user_1", "product": "pro", "cancelAction": "stop"}, "cancelAction"),
        ({"customer": "user_1", "product": "pro", "pauseAction": 1}, "pauseAction"),
        ({"customer": "user_1", "product": "pro", "quantity": "2"}, "quantity"),
        ({"customer": "user_1", "product": "pro", "quantity": 0}, "quantity"),
        ({"customer": "user_1", "product": "pro", "quantity": 2,
          "prorationBehavior": "later"}, "prorationBehavior"),
        ({"customer": "user_1", "product": "pro"}, "body"),
        ({"customer": "user_1", "product": "pro", "quantity": 2, "pauseAction": "pause"}, "body"),
        ({"customer": "user_1", "product": "pro", "pauseAction": "resume",
          "resumeAt": "2030-01-01T00:00:00Z"}, "resumeAt"),
    ):
        for path in (UPDATE, PREVIEW_UPDATE):
            error = error_of(api.post(path, body))
            assert error["code"] == "VALIDATION_ERROR", (path, body)
            assert error["details"][0]["field"] == field, (path, body, error)
    assert public_api.post(UPDATE, {"customer": "user_1", "product": "pro",
                                    "cancelAction": "uncancel"}).status_code == 403
    assert public_api.post(CANCEL, {"customer": "user_1"}).status_code == 403
    assert Api(None).post(UPDATE, {}).status_code == 401
    assert error_of(api.post(UPDATE, {"customer": "nobody", "product": "pro",
                                      "quantity": 2}))["code"] == "CUSTOMER_NOT_FOUND"
    assert error_of(api.post(UPDATE, {"customer": "user_1", "product": "enterprise",
                                      "quantity": 2}))["code"] == "NOT_FOUND"


def test_subscribe_and_preview_refuse_bad_input(api, shop):
    for body, field in (
        ({"product": "pro"}, "customer"),
        ({"customer": "user_1"}, "product"),
        ({"customer": 5, "product": "pro"}, "customer"),
        ({"customer": {"id": "u2", "name": "A"}, "product": "pro"}, "customer.email"),
        ({"customer": "user_1", "product": {"slug": "pro"}}, "product"),
        ({"customer": "user_1", "product": "pro", "quantity": 0}, "quantity"),
        ({"customer": "user_1", "product": "pro", "quantity": 1.5}, "quantity"),
        ({"customer": "user_1", "product": "pro", "billingAnchorDay": 29}, "billingAnchorDay"),
        ({"customer": "user_1", "product": "pro", "successUrl": "nope"}, "successUrl"),
        ({"customer": "user_1", "product": "pro", "metadata": []}, "metadata"),
        ({"customer": "user_1", "product": "pro", "couponCode": 20}, "couponCode"),
        ({"customer": "user_1", "product": "pro", "carryOverBalances": {"enabled": 1}},
         "carryOverBalances.enabled"),
        ({"customer": "user_1", "product": "pro", "redirectMode": "never"}, "redirectMode"),
    ):
        error = error_of(api.post(SUBSCRIBE, body))
        assert error["code"] == "VALIDATION_ERROR", body
        assert error["details"][0]["field"] == field, (body, error)
    assert error_of(api.post(SUBSCRIBE, {"customer": "nobody", "product": "pro"})
                    )["code"] == "CUSTOMER_NOT_FOUND"
    assert error_of(api.post(SUBSCRIBE, {"customer": "user_1", "product": "nope"})
                    )["code"] == "PRODUCT_NOT_FOUND"
    # A price that is not the product's is a reference to nothing, like an unknown product.
    unknown_price = api.post(SUBSCRIBE, {"customer": "user_1", "product": "pro",
                                         "priceId": "ppri_other"})
    assert unknown_price.status_code == 404
    assert error_of(unknown_price)["details"][0]["field"] == "priceId"
    assert error_of(api.post(PREVIEW, {"customer": "user_1"}))["details"][0]["field"] == \
        "product"
    assert Api(None).post(SUBSCRIBE, {}).status_code == 401
    # Unknown keys of older clients are ignored.
    assert subscribe(api, "pro", carryOverBalances={"enabled": True, "featureIds": ["x"]},
                     fingerprint="fp_abc")["action"] == "checkout"


def test_another_merchants_and_live_objects_are_not_found(api, live_api, shop, other_merchant):
    subscribe_paid(api, "pro")
    other = Api(other_merchant.secret_test)
    invoice_id = invoices(api)[0]["id"]
    assert error_of(other.get(f"{INVOICES}/{invoice_id}"))["code"] == "NOT_FOUND"
    assert error_of(live_api.get(f"{INVOICES}/{invoice_id}"))["code"] == "NOT_FOUND"
    assert error_of(other.post(SUBSCRIBE, {"customer": "user_1", "product": "pro"})
                    )["code"] == "CUSTOMER_NOT_FOUND"
    assert data_of(other.get(SUBSCRIPTIONS)) == []
    assert data_of(live_api.get(SUBSCRIPTIONS)) == []
    checkout_id = subscribe(api, "enterprise", redirectMode="always")["checkoutId"]
    assert other.post(f"/api/v1/pay/test/checkouts/{checkout_id}/complete",
                      {"card": "4242424242424242"}).status_code == 404
    assert live_api.post(f"/api/v1/pay/test/checkouts/{checkout_id}/complete",
                         {"card": "4242424242424242"}).status_code == 403


def test_subscriptions_and_invoices_list_with_filters(api, shop):
    subscribe_paid(api, "pro")
    listed = data_of(api.get(SUBSCRIPTIONS + "?status=active%2Ctrialing"))
    assert [(s["productSlug"], s["customerId"].startswith("pcm_")) for s in listed] == [
        ("pro", True)]
    assert len(data_of(api.get(SUBSCRIPTIONS))) == 2  # free (canceled) and pro
    assert error_of(api.get(SUBSCRIPTIONS + "?status=gone"))["details"][0]["field"] == "status"
    (invoice,) = data_of(api.get(INVOICES + "?customer=user_1&status=paid"))
    assert set(invoice) == {
        "id", "number", "status", "customerId", "subscriptionId", "currency", "lines",
        "subtotal", "discountAmount", "taxAmount", "total", "amountPaid", "amountDue",
        "periodStart", "periodEnd", "createdAt", "dueAt", "paidAt", "hostedUrl"}
    assert data_of(api.get(f"{INVOICES}/{invoice['id']}"))["id"] == invoice["id"]
    assert data_of(api.get(INVOICES + "?customer=user_1&status=open")) == []
    assert error_of(api.get(INVOICES + "?status=late"))["code"] == "VALIDATION_ERROR"
    assert error_of(api.get(INVOICES + "?customer=nobody"))["code"] == "CUSTOMER_NOT_FOUND"


def test_concurrent_identical_subscribes_charge_once(api, shop):
    subscribe_paid(api, "pro")  # saves a card
    answers = []

    def call():
        try:
            answers.append(Api(api.key).post(SUBSCRIBE, {"customer": "user_1",
                                                         "product": "enterprise"}))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(a.status_code in (200, 429) for a in answers)
    assert set(current(api)) == {"enterprise"}
    # The hosted checkout's payment is recorded as a charge attempt `checkout:<session>` too.
    charges = PaymentAttempt.objects.filter(kind="charge", status="succeeded").exclude(
        idempotency_key__startswith="checkout:")
    assert charges.count() == 1
    assert Invoice.objects.filter(subscription__product__slug="enterprise").count() == 1


def test_the_same_idempotency_key_replays_without_charging_again(api, shop):
    subscribe_paid(api, "pro")
    body = {"customer": "user_1", "product": "enterprise"}
    first = api.post(SUBSCRIBE, body, headers={"Idempotency-Key": "upgrade-1"})
    again = api.post(SUBSCRIBE, body, headers={"Idempotency-Key": "upgrade-1"})
    assert first.content == again.content
    assert again["Idempotent-Replayed"] == "true"
    off_session = PaymentAttempt.objects.filter(kind="charge").exclude(
        idempotency_key__startswith="checkout:")
    assert [a.idempotency_key for a in off_session] == ["subscribe:upgrade-1"]
