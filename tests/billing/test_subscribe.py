"""`/subscribe`: checkout, activated, scheduled and noop, as API.md tells them."""

from urllib.parse import urlsplit

import pytest
from django.test import Client

from billing.models import Checkout, Subscription
from tests.billing.catalog import define, metered, monthly, switch
from tests.billing.subscribing import (
    DECLINED_CARD, OK_CARD, PREVIEW, SUBSCRIBE, THREE_DS_CARD, advance, complete_path,
    current, customer, invoices, main_catalog, pay_checkout, state, subscribe, subscribe_paid,
)
from tests.factories import data_of, error_of

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def shop(api):
    main_catalog(api)
    customer(api)


def test_a_free_customer_subscribing_to_pro_without_a_card_goes_to_checkout(api, shop):
    result = subscribe(api, "pro", successUrl="https://shop.example/ok",
                       cancelUrl="https://shop.example/back")
    assert result["action"] == "checkout"
    assert result["url"] == result["checkoutUrl"]
    assert "/checkout/sandbox/" in result["checkoutUrl"]
    assert result["checkoutId"].startswith("pchk_")
    assert result["subscription"]["status"] == "checkout"
    assert set(current(api)) == {"free", "pro"}
    assert state(api)["flags"].get("premium_support") is None  # no access before paying

    done = pay_checkout(api, result)
    assert done["status"] == "completed"
    assert done["subscription"]["status"] == "active"
    assert set(current(api)) == {"pro"}
    assert state(api)["flags"]["premium_support"] is True
    (invoice,) = invoices(api)
    assert (invoice["status"], invoice["total"], invoice["amountPaid"], invoice["amountDue"]) \
        == ("paid", 2000, 2000, 0)
    assert invoice["number"] == "INV-TEST-000001"
    assert invoice["lines"][0]["type"] == "subscription"
    assert state(api)["paymentMethods"][0]["last4"] == "4242"


def test_subscribing_to_the_plan_already_held_is_a_noop(api, shop):
    subscribe_paid(api, "pro")
    result = subscribe(api, "pro")
    assert result["action"] == "noop"
    assert "url" not in result and "checkoutUrl" not in result
    assert len(invoices(api)) == 1


def test_a_declined_card_leaves_the_checkout_open_and_gives_no_access(api, shop):
    result = subscribe(api, "pro")
    failed = pay_checkout(api, result, DECLINED_CARD)
    assert failed["status"] == "failed"
    assert failed["requiredAction"] == {"code": "payment_failed", "reason": "Card was declined"}
    assert current(api)["pro"]["status"] == "checkout"
    assert pay_checkout(api, result, OK_CARD)["status"] == "completed"
    assert current(api)["pro"]["status"] == "active"


def test_a_pro_customer_upgrading_a_quarter_in_is_charged_what_the_preview_said(api, shop):
    subscribe_paid(api, "pro")
    pro = current(api)["pro"]
    period = (_time(pro["currentPeriodEnd"]) - _time(pro["currentPeriodStart"]))
    advance(api, int(period.total_seconds() / 4))
    preview = data_of(api.post(PREVIEW, {"customer": "user_1", "product": "enterprise"}))
    assert preview["scenario"] == "upgrade"
    assert [(i["title"], i["amount"]) for i in preview["lineItems"]] == [
        ("Enterprise", 5000), ("Credit for Pro", -1500)]
    assert preview["amountDue"] == preview["total"] == 3500
    assert preview["proration"] == {"creditAmount": 1500, "chargeAmount": 5000}

    result = subscribe(api, "enterprise")
    assert result["action"] == "activated"
    assert result["prorationAmount"] == 3500
    assert set(current(api)) == {"enterprise"}
    upgrade = invoices(api)[0]
    assert (upgrade["total"], upgrade["amountPaid"], upgrade["status"]) == (3500, 3500, "paid")
    assert upgrade["periodStart"] == result["subscription"]["currentPeriodStart"]


def test_a_downgrade_waits_for_the_end_of_the_period(api, shop):
    subscribe_paid(api, "enterprise")
    result = subscribe(api, "pro")
    enterprise = current(api)["enterprise"]
    assert result["action"] == "scheduled"
    assert result["effectiveAt"] == enterprise["currentPeriodEnd"]
    assert subscribe(api, "pro")["action"] == "noop"
    ran = advance(api, 32 * 24 * 3600)["ran"]
    assert ran["downgrades"] == 1
    assert set(current(api)) == {"pro"}
    assert current(api)["pro"]["currentPeriodStart"] == enterprise["currentPeriodEnd"]
    assert [i["total"] for i in invoices(api)] == [2000, 5000]


def test_add_ons_stack_beside_the_base_plan(api, shop):
    define(api, {"name": "Extra seats", "slug": "seats", "isAddOn": True,
                 "prices": [monthly(0)], "features": [metered("seats", 5)]})
    subscribe_paid(api, "pro")
    assert subscribe(api, "seats")["action"] == "activated"
    assert set(current(api)) == {"pro", "seats"}


def test_a_trial_without_a_card_starts_at_once_and_only_once(api, shop):
    define(api, {"name": "Team", "slug": "team", "groupSlug": "main", "sortOrder": 3,
                 "prices": [monthly(9000, trialDays=14)], "features": [switch("sso")]})
    result = subscribe(api, "team")
    assert result["action"] == "activated"
    assert result["subscription"]["status"] == "trialing"
    assert state(api)["flags"]["sso"] is True
    assert invoices(api) == []


def test_a_trial_that_requires_a_card_goes_through_checkout(api, shop):
    define(api, {"name": "Team", "slug": "team", "groupSlug": "main", "sortOrder": 3,
                 "prices": [monthly(9000, trialDays=14, trialRequiresCard=True)],
                 "features": [switch("sso")]})
    result = subscribe(api, "team")
    assert result["action"] == "checkout"
    done = pay_checkout(api, result)
    assert done["subscription"]["status"] == "trialing"
    assert invoices(api) == []
    ran = advance(api, 15 * 24 * 3600)["ran"]
    assert ran["trialEnds"] == 1
    assert current(api)["team"]["status"] == "active"
    assert [(i["total"], i["status"]) for i in invoices(api)] == [(9000, "paid")]


def test_a_one_time_purchase_is_bought_again_and_again(api, shop):
    define(api, {"name": "Credits", "slug": "credits", "isAddOn": True,
                 "prices": [{"type": "one_time", "amount": 500}],
                 "features": [{"slug": "credits", "name": "Credits", "type": "credit_system",
                               "allowanceType": "fixed", "allowance": 100}]})
    first = subscribe_paid(api, "credits", quantity=2)
    assert first["status"] == "completed"
    second = subscribe(api, "credits")
    assert second["action"] == "activated"  # the card saved by the first purchase is charged
    totals = [(i["total"], i["lines"][0]["type"]) for i in invoices(api)]
    assert totals == [(500, "one_off"), (1000, "one_off")]
    assert "credits" not in current(api)


def test_a_setup_fee_is_charged_once_with_the_first_period(api, shop):
    define(api, {"name": "Agency", "slug": "agency", "isAddOn": True,
                 "prices": [monthly(3000, setupFee=10000)], "features": [switch("white_label")]})
    subscribe_paid(api, "agency")
    (invoice,) = invoices(api)
    assert [(line["type"], line["amount"]) for line in invoice["lines"]] == [
        ("subscription", 3000), ("setup_fee", 10000)]
    assert invoice["total"] == 13000


def test_quantity_multiplies_a_per_seat_price(api, shop):
    define(api, {"name": "Seats", "slug": "seat", "isAddOn": True,
                 "prices": [monthly(1500)], "features": [metered("members", 1)]})
    subscribe_paid(api, "seat", quantity=4)
    assert invoices(api)[0]["total"] == 6000
    assert current(api)["seat"]["quantity"] == 4
    assert state(api)["balances"]["members"]["granted"] == 4


def test_a_saved_card_that_is_declined_answers_payment_failed_and_gives_no_access(api, shop):
    define(api, {"name": "Agency", "slug": "agency", "isAddOn": True,
                 "prices": [monthly(3000)], "features": [switch("white_label")]})
    subscribe_paid(api, "pro", card="4000000000000341")  # saves; later charges decline
    result = subscribe(api, "agency")
    assert result["action"] == "checkout"
    assert result["requiredAction"] == {"code": "payment_failed", "reason": "Card was declined"}
    assert result["url"] == result["checkoutUrl"]
    assert state(api)["flags"].get("white_label") is None


def test_a_3ds_card_answers_3ds_required_with_a_url_that_completes_it(api, shop):
    result = subscribe(api, "pro", successUrl="https://shop.example/thanks")
    pending = pay_checkout(api, result, THREE_DS_CARD)
    assert pending["status"] == "requires_action"
    assert pending["requiredAction"]["code"] == "3ds_required"
    assert "/gateways/sandbox/authenticate/" in pending["url"]
    assert current(api)["pro"]["status"] == "checkout"
    issuer = Client().post(urlsplit(pending["url"]).path, {"decision": "approve"})
    assert issuer.status_code == 302
    assert current(api)["pro"]["status"] == "active"  # settled by the gateway's event
    assert [i["total"] for i in invoices(api)] == [2000]


def test_billing_anchor_day_gives_a_short_first_period(api, shop):
    result = subscribe_paid(api, "pro", billingAnchorDay=1)
    start = _time(result["subscription"]["currentPeriodStart"])
    end = _time(result["subscription"]["currentPeriodEnd"])
    assert end.day == 1 and end > start


def test_a_publishable_key_only_ever_gets_a_checkout(api, public_api, shop):
    subscribe_paid(api, "pro")  # a card is saved now
    define(api, {"name": "Agency", "slug": "agency", "isAddOn": True,
                 "prices": [monthly(3000)], "features": [switch("white_label")]})
    result = subscribe(public_api, "agency")
    assert result["action"] == "checkout" and result["url"]
    assert error_of(public_api.post(SUBSCRIBE, {"customer": "user_1", "product": "free"})
                    )["code"] == "FORBIDDEN"
    assert public_api.post(SUBSCRIBE, {"customer": {"id": "u9", "email": "a@b.co", "name": "A"},
                                       "product": "pro"}).status_code == 403


def test_an_inline_customer_is_created_on_subscribe(api, shop):
    result = subscribe(api, "pro", customer_id={"id": "user_new", "email": "n@example.com",
                                                "name": "New"})
    assert result["action"] == "checkout"
    assert state(api, "user_new")["name"] == "New"


def _time(text):
    from datetime import datetime
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_no_checkout_row_is_left_behind_by_a_noop(api, shop):
    subscribe_paid(api, "pro")
    before = Checkout.objects.count(), Subscription.objects.count()
    subscribe(api, "pro")
    assert (Checkout.objects.count(), Subscription.objects.count()) == before
    assert complete_path("x")
