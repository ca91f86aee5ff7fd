"""Canceling now one product of a multi-attach refunds that product's share of the one
payment, never the others' (the combined first invoice attributes each line to its
subscription)."""

import pytest

from billing.models import InvoiceLine, Refund
from tests.billing.catalog import define, monthly
from tests.billing.subscribing import (
    DAY, OK_CARD, UPDATE, advance, complete_path, current, customer, main_catalog,
)
from tests.factories import data_of

pytestmark = pytest.mark.django_db(transaction=True)
ATTACH = "/api/v1/pay/multi-attach"
URLS = {"successUrl": "https://shop.example/ok", "cancelUrl": "https://shop.example/back"}


@pytest.fixture
def bought(api):
    """Pro (2000) and 3 seats (3000) paid together: one invoice of 5000, paid on day 0."""
    main_catalog(api)
    define(api, {"name": "Seats", "slug": "seat", "isAddOn": True, "prices": [monthly(1000)],
                 "features": []})
    customer(api)
    result = data_of(api.post(ATTACH, {"customer": "user_1", **URLS, "products": [
        {"product": "pro"}, {"product": "seat", "quantity": 3}]}))
    data_of(api.post(complete_path(result["checkoutId"]), {"card": OK_CARD}))
    advance(api, 15 * DAY)
    return api


def cancel_now(api, product):
    return data_of(api.post(UPDATE, {"customer": "user_1", "product": product,
                                     "cancelAction": "cancel_immediately"}))


def test_each_line_names_the_subscription_it_bills(bought):
    subscriptions = current(bought)
    lines = {line.description: line.subscription_id for line in InvoiceLine.objects.all()}
    assert lines == {"Pro": subscriptions["pro"]["id"], "Seats": subscriptions["seat"]["id"]}


def test_canceling_the_first_product_refunds_only_its_own_share(bought):
    refund = cancel_now(bought, "pro")["refundAmount"]
    assert 900 <= refund <= 1100  # about half of Pro's 2000, not half of the 5000 paid
    assert "seat" in current(bought)


def test_canceling_the_second_product_refunds_its_share_too(bought):
    refund = cancel_now(bought, "seat")["refundAmount"]
    assert 1400 <= refund <= 1600  # about half of the seats' 3000
    assert Refund.objects.get().status == "succeeded"


def test_both_refunds_together_stay_within_what_was_paid(bought):
    total = cancel_now(bought, "pro")["refundAmount"] + cancel_now(bought, "seat")["refundAmount"]
    assert total <= 5000
    assert sorted(Refund.objects.values_list("status", flat=True)) == ["succeeded"] * 2
