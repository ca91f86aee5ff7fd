"""Our page for Stripe sessions (`/checkout/stripe/<intent>`) in a real browser, against
localstripe: the page loads Stripe.js from STRIPE_JS_URL, here localstripe's stand-in (its
card element is four plain inputs, its 3-D Secure check a modal with two buttons). The
stand-in's `createPaymentMethod` and `handleNextAction` are completed by our launcher
(tests/gateways/localstripe_stripe_js.js): localstripe 1.15.10 ships them empty or missing."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from billing.models import Invoice
from gateways.models import PaymentAttempt
from tests.billing.catalog import define, monthly, switch
from tests.billing.subscribing import (
    advance, current, customer, invoices, main_catalog, state, subscribe,
)
from tests.browser.conftest import CANCEL_URL, SUCCESS_URL
from tests.gateways.conftest import localstripe, stripe_account  # noqa: F401
from tests.gateways.servers import free_port

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VISA = "4242424242424242"
DECLINED = "4000000000000341"  # localstripe declines every charge of it
THREE_DS = "4000002760003184"


@pytest.fixture
def stripe_page(settings, stripe_account):  # noqa: F811
    """Stripe is the test gateway; our page loads localstripe's Stripe.js."""
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_browser"
    settings.STRIPE_JS_URL = f"{stripe_account.url}/js.stripe.com/v3/"
    return stripe_account


@pytest.fixture
def checkout_url(api, site, stripe_page):
    """Jane, with no card yet, subscribes to Pro (MYR 20.00): the answer is our Stripe page."""
    main_catalog(api)
    customer(api, "jane")
    result = subscribe(api, "pro", "jane", successUrl=SUCCESS_URL, cancelUrl=CANCEL_URL)
    assert result["action"] == "checkout", result
    assert result["url"].startswith(f"{site}/checkout/stripe/pi_"), result
    return result["url"]


def enter_card(page, number: str) -> None:
    """localstripe's card element: number, month, two-digit year, CVC (postal code unused)."""
    element = page.locator("#card-element")
    element.get_by_placeholder("number").fill(number)
    element.get_by_placeholder("exp_month").fill("12")
    element.get_by_placeholder("exp_year").fill("34")
    element.get_by_placeholder("cvc").fill("123")


def pay(page, number: str) -> None:
    enter_card(page, number)
    page.get_by_role("button", name="Pay MYR 20.00").click()


def pro_status(api) -> str:
    return current(api, "jane")["pro"]["status"]


def test_jane_pays_pro_with_stripe_js_and_lands_on_the_success_url(api, checkout_url, page):
    page.goto(checkout_url)
    expect(page.get_by_text("Amount due today: MYR 20.00")).to_be_visible()
    pay(page, VISA)
    expect(page).to_have_url(SUCCESS_URL)
    assert pro_status(api) == "active"
    [invoice] = invoices(api, "jane")
    assert (invoice["status"], invoice["total"], invoice["amountDue"]) == ("paid", 2000, 0)
    cards = state(api, "jane")["paymentMethods"]
    assert [(c["brand"], c["last4"]) for c in cards] == [("visa", "4242")]


def test_a_declined_card_shows_stripes_message_and_another_card_pays(api, checkout_url, page):
    page.goto(checkout_url)
    pay(page, DECLINED)
    expect(page.get_by_text("declined", exact=False).first).to_be_visible()
    assert pro_status(api) == "checkout" and invoices(api, "jane") == []
    pay(page, VISA)
    expect(page).to_have_url(SUCCESS_URL)
    assert pro_status(api) == "active"


def test_a_3ds_card_passes_the_banks_check_and_completes(api, checkout_url, page):
    page.goto(checkout_url)
    pay(page, THREE_DS)
    expect(page.get_by_text("Your bank asks you to confirm this payment.")).to_be_visible()
    page.get_by_role("button", name="Complete authentication").click()
    expect(page).to_have_url(SUCCESS_URL)
    assert pro_status(api) == "active"
    assert [i["status"] for i in invoices(api, "jane")] == ["paid"]


def test_a_failed_3ds_check_is_explained_and_another_card_pays(api, checkout_url, page):
    page.goto(checkout_url)
    pay(page, THREE_DS)
    page.get_by_role("button", name="Fail authentication").click()
    expect(page.get_by_text("failed authentication", exact=False)).to_be_visible()
    assert pro_status(api) == "checkout" and invoices(api, "jane") == []
    pay(page, VISA)
    expect(page).to_have_url(SUCCESS_URL)
    assert pro_status(api) == "active"


def test_a_trial_card_needing_3ds_is_saved_after_the_banks_check(api, site, page, stripe_page):
    main_catalog(api)
    define(api, {"name": "Team", "slug": "team", "groupSlug": "main", "sortOrder": 3,
                 "prices": [monthly(9000, trialDays=14, trialRequiresCard=True)],
                 "features": [switch("sso")]})
    customer(api, "jane")
    page.goto(subscribe(api, "team", "jane", successUrl=SUCCESS_URL)["url"])  # a SetupIntent
    expect(page.get_by_text("Save a card for your trial. Nothing is charged today.")
           ).to_be_visible()
    enter_card(page, THREE_DS)
    page.get_by_role("button", name="Save card").click()
    page.get_by_role("button", name="Complete authentication").click()
    expect(page).to_have_url(SUCCESS_URL)
    assert current(api, "jane")["team"]["status"] == "trialing"
    assert invoices(api, "jane") == []
    assert [m["last4"] for m in state(api, "jane")["paymentMethods"]] == ["3184"]


def test_cancel_goes_back_to_the_cancel_url(api, checkout_url, page):
    page.goto(checkout_url)
    page.get_by_role("link", name="Cancel").click()
    expect(page).to_have_url(CANCEL_URL)
    assert pro_status(api) == "checkout"


def test_when_stripe_js_cannot_load_the_page_says_so_and_pay_is_off(
        api, checkout_url, page, settings, browser_errors):
    settings.STRIPE_JS_URL = f"http://127.0.0.1:{free_port()}/v3/"  # nothing listens there
    with page.expect_console_message(lambda message: message.type == "error") as logged:
        page.goto(checkout_url)
    assert "ERR_CONNECTION_REFUSED" in logged.value.text
    assert logged.value.location["url"] == settings.STRIPE_JS_URL
    browser_errors.clear()  # that one was expected
    expect(page.get_by_text("The secure card form could not be loaded.")).to_be_visible()
    expect(page.get_by_role("button", name="Pay MYR 20.00")).to_be_disabled()
    assert pro_status(api) == "checkout"


def test_a_renewal_needing_3ds_is_paid_when_jane_passes_the_check_on_the_page(
        api, checkout_url, page):
    page.goto(checkout_url)
    pay(page, THREE_DS)
    page.get_by_role("button", name="Complete authentication").click()
    expect(page).to_have_url(SUCCESS_URL)  # Pro paid, her card saved
    advance(api, 32 * 24 * 3600)  # the renewal's off-session charge asks for 3-D Secure
    assert pro_status(api) == "past_due"
    renewal = Invoice.objects.get(customer__external_id="jane", status="open")
    attempt = PaymentAttempt.objects.get(source_reference=renewal.pk)
    assert attempt.action_url == checkout_url.rsplit("/", 1)[0] + "/" + \
        attempt.provider_payment_id
    page.goto(attempt.action_url)  # the link of the merchant's "confirm your payment" e-mail
    expect(page.get_by_role("heading", name="Payment of MYR 20.00")).to_be_visible()
    page.get_by_role("button", name="Complete authentication").click()
    expect(page.get_by_text("Payment complete. Thank you!")).to_be_visible()
    assert pro_status(api) == "active"
    assert [i["status"] for i in invoices(api, "jane")] == ["paid", "paid"]
