"""Our hosted page for Stripe sessions (/checkout/stripe/<intent id>) against localstripe: the
browser's Stripe.js is played by the test (it creates the payment method, or passes 3-D Secure
on localstripe's issuer stand-in); everything else is our page, our services and Stripe's API."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from billing.models import Checkout, Invoice
from gateways.models import PaymentAttempt
from tests.billing.subscribing import advance, current, customer, main_catalog, state, subscribe
from tests.gateways.conftest import SUCCESS_URL, localstripe, stripe_account  # noqa: F401
from tests.gateways.test_stripe import THREE_DS, VISA, card, raw_client

pytestmark = pytest.mark.django_db(transaction=True)
BASE = "http://127.0.0.1:8000"
DECLINED = "4000000000000341"  # localstripe declines every charge of it


@pytest.fixture
def checkout(api, stripe_account):  # noqa: F811
    """Jane, with no card yet, subscribes to Pro: the answer is our Stripe checkout page."""
    main_catalog(api)
    customer(api, "jane")
    result = subscribe(api, "pro", "jane", successUrl=SUCCESS_URL)
    assert result["action"] == "checkout" and "/checkout/stripe/pi_" in result["url"]
    return result["url"].removeprefix(BASE)


def payment_method(account, number: str) -> str:
    """What Stripe.js does in the browser: the card goes to Stripe, the page gets an id."""
    return raw_client(account).v1.payment_methods.create(params=card(number)).id


def test_jane_pays_pro_on_the_stripe_page_and_her_card_is_saved(api, checkout, settings,
                                                                stripe_account):  # noqa: F811
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_page"
    page = Client().get(checkout).content.decode()
    assert "MYR 20.00" in page and 'name="payment_method"' in page
    assert "https://js.stripe.com/v3/" in page and "pk_test_page" in page
    paid = Client().post(checkout, {"payment_method": payment_method(stripe_account, VISA)})
    assert paid.status_code == 302 and paid["Location"] == SUCCESS_URL
    jane = state(api, "jane")
    assert {s["productSlug"]: s["status"] for s in jane["subscriptions"]}["pro"] == "active"
    assert [(m["brand"], m["last4"]) for m in jane["paymentMethods"]] == [("visa", "4242")]
    invoice = Invoice.objects.get(customer__external_id="jane", total=2000)
    assert (invoice.status, invoice.payment_gateway) == ("paid", "stripe")
    again = Client().get(checkout)  # a second visit, or a late Stripe event: nothing twice
    assert again.status_code == 302 and Invoice.objects.filter(total=2000).count() == 1
    out = StringIO()
    call_command("reconcile_ledger", merchant=invoice.merchant_id, environment="test", stdout=out)
    assert "1100-stripe MYR" in out.getvalue() and "DIFFERS" not in out.getvalue()


def test_a_declined_card_shows_why_and_another_card_can_pay(api, checkout,
                                                            stripe_account):  # noqa: F811
    declined = Client().post(checkout, {"payment_method": payment_method(stripe_account,
                                                                          DECLINED)})
    assert declined.status_code == 200 and "declined" in declined.content.decode().lower()
    assert Checkout.objects.get(customer__external_id="jane").status == "failed"
    assert not Invoice.objects.filter(customer__external_id="jane", total=2000).exists()
    paid = Client().post(checkout, {"payment_method": payment_method(stripe_account, VISA)})
    assert paid.status_code == 302
    assert Checkout.objects.get(customer__external_id="jane").status == "completed"


def test_a_card_needing_3ds_is_finished_after_the_bank_check(api, checkout,
                                                             stripe_account):  # noqa: F811
    asked = Client().post(checkout, {"payment_method": payment_method(stripe_account, THREE_DS)})
    assert asked.status_code == 302 and asked["Location"] == checkout  # post/redirect/get
    assert "confirm this payment" in Client().get(checkout).content.decode()
    intent_id = checkout.rsplit("/", 1)[1]
    intent = raw_client(stripe_account).v1.payment_intents.retrieve(intent_id)
    assert intent.status == "requires_action"
    raw_client(stripe_account).raw_request(  # the bank's check, as Stripe.js runs it
        "post", f"/v1/payment_intents/{intent_id}/_authenticate",
        client_secret=intent.client_secret, success="true")
    back = Client().get(checkout)
    assert back.status_code == 302 and back["Location"] == SUCCESS_URL
    assert Checkout.objects.get(customer__external_id="jane").status == "completed"


def test_an_unknown_intent_is_not_found(stripe_account):  # noqa: F811
    assert Client().get("/checkout/stripe/pi_unknown").status_code == 404


def authenticate(account, intent_id: str) -> None:
    """The bank's 3-D Secure check passed, as Stripe.js runs it (localstripe's stand-in)."""
    intent = raw_client(account).v1.payment_intents.retrieve(intent_id)
    raw_client(account).raw_request("post", f"/v1/payment_intents/{intent_id}/_authenticate",
                                    client_secret=intent.client_secret, success="true")


def test_a_renewal_needing_3ds_is_paid_when_jane_confirms_it_on_the_page(
        api, checkout, stripe_account):  # noqa: F811
    Client().post(checkout, {"payment_method": payment_method(stripe_account, THREE_DS)})
    authenticate(stripe_account, checkout.rsplit("/", 1)[1])
    assert Client().get(checkout).status_code == 302  # Pro paid, her card saved
    advance(api, 32 * 24 * 3600)  # the renewal's off-session charge asks for 3-D Secure
    assert current(api, "jane")["pro"]["status"] == "past_due"
    renewal = Invoice.objects.get(customer__external_id="jane", status="open")
    attempt = PaymentAttempt.objects.get(source_reference=renewal.pk)
    assert attempt.status == "requires_action"
    page_path = attempt.action_url.removeprefix(BASE)
    assert page_path == f"/checkout/stripe/{attempt.provider_payment_id}"
    asked = Client().get(page_path)
    assert asked.status_code == 200 and "confirm this payment" in asked.content.decode()
    authenticate(stripe_account, attempt.provider_payment_id)
    done = Client().get(page_path)
    assert "Payment complete" in done.content.decode()
    renewal.refresh_from_db()
    assert (renewal.status, renewal.payment_gateway) == ("paid", "stripe")
    assert current(api, "jane")["pro"]["status"] == "active"
    assert Client().get("/checkout/stripe/pi_not_ours").status_code == 404
