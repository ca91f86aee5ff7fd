"""The sandbox's hosted checkout page (`checkoutUrl` of a subscribe) in a real browser: the
customer types a card, pays, is declined and tries again, passes or fails 3-D Secure, or
cancels. What the page did is checked through the API."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.billing.catalog import define, monthly, switch
from tests.billing.subscribing import (
    current, customer, invoices, main_catalog, state, subscribe,
)
from tests.browser.conftest import CANCEL_URL, SUCCESS_URL

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OK_CARD = "4242 4242 4242 4242"
DECLINED_CARD = "4000 0000 0000 0002"
THREE_DS_CARD = "4000 0027 6000 3184"


@pytest.fixture
def checkout_url(api, site):
    """user_1 subscribes to Pro (MYR 20.00) with no card: the answer is the page's address."""
    main_catalog(api)
    customer(api)
    result = subscribe(api, "pro", successUrl=SUCCESS_URL, cancelUrl=CANCEL_URL)
    assert result["action"] == "checkout" and result["checkoutUrl"].startswith(site), result
    return result["checkoutUrl"]


def pay(page, card: str) -> None:
    page.get_by_label("Card number").fill(card)
    page.get_by_role("button", name="Pay MYR 20.00").click()


def test_a_customer_pays_pro_with_4242_and_lands_on_the_success_url(api, checkout_url, page):
    page.goto(checkout_url)
    expect(page.get_by_role("heading", name="Pro")).to_be_visible()
    expect(page.get_by_text("Amount due today: MYR 20.00")).to_be_visible()
    pay(page, OK_CARD)
    expect(page).to_have_url(SUCCESS_URL)
    assert current(api)["pro"]["status"] == "active"
    [invoice] = invoices(api)
    assert (invoice["status"], invoice["total"], invoice["amountDue"]) == ("paid", 2000, 0)


def test_a_declined_card_shows_why_and_another_card_pays(api, checkout_url, page):
    page.goto(checkout_url)
    pay(page, DECLINED_CARD)
    expect(page.get_by_role("alert")).to_have_text("Card was declined")
    assert current(api)["pro"]["status"] == "checkout" and invoices(api) == []
    pay(page, OK_CARD)
    expect(page).to_have_url(SUCCESS_URL)
    assert current(api)["pro"]["status"] == "active"
    assert [i["status"] for i in invoices(api)] == ["paid"]


def test_a_3ds_card_passes_the_banks_check_and_completes(api, checkout_url, page):
    page.goto(checkout_url)
    pay(page, THREE_DS_CARD)
    expect(page.get_by_role("heading", name="3-D Secure (sandbox)")).to_be_visible()
    assert current(api)["pro"]["status"] == "checkout"
    page.get_by_role("button", name="Complete authentication").click()
    expect(page).to_have_url(SUCCESS_URL)
    assert current(api)["pro"]["status"] == "active"
    assert [i["status"] for i in invoices(api)] == ["paid"]


def test_a_failed_3ds_check_is_explained_on_the_page_and_another_card_pays(
        api, checkout_url, page):
    page.goto(checkout_url)
    pay(page, THREE_DS_CARD)
    page.get_by_role("button", name="Fail authentication").click()
    expect(page).to_have_url(checkout_url)
    expect(page.get_by_role("alert")).to_have_text("3-D Secure authentication failed")
    assert current(api)["pro"]["status"] == "checkout" and invoices(api) == []
    pay(page, OK_CARD)
    expect(page).to_have_url(SUCCESS_URL)
    assert current(api)["pro"]["status"] == "active"


def test_cancel_goes_back_to_the_cancel_url_and_nothing_is_charged(api, checkout_url, page):
    page.goto(checkout_url)
    page.get_by_role("link", name="Cancel").click()
    expect(page).to_have_url(CANCEL_URL)
    assert current(api)["pro"]["status"] == "checkout" and invoices(api) == []


def test_a_paid_checkout_opened_again_says_so_and_charges_nothing(api, checkout_url, page):
    page.goto(checkout_url)
    pay(page, OK_CARD)
    expect(page).to_have_url(SUCCESS_URL)
    page.goto(checkout_url)
    expect(page.get_by_text("Payment complete. Thank you!")).to_be_visible()
    expect(page.get_by_role("button", name="Pay MYR 20.00")).to_have_count(0)
    page.get_by_role("link", name="Continue").click()
    expect(page).to_have_url(SUCCESS_URL)
    assert len(invoices(api)) == 1


def test_a_trial_that_needs_a_card_saves_it_and_charges_nothing(api, site, page):
    main_catalog(api)
    define(api, {"name": "Team", "slug": "team", "groupSlug": "main", "sortOrder": 3,
                 "prices": [monthly(9000, trialDays=14, trialRequiresCard=True)],
                 "features": [switch("sso")]})
    customer(api)
    page.goto(subscribe(api, "team", successUrl=SUCCESS_URL)["checkoutUrl"])
    expect(page.get_by_text("Save a card for your trial. Nothing is charged today.")
           ).to_be_visible()
    page.get_by_label("Card number").fill(OK_CARD)
    page.get_by_role("button", name="Save card").click()
    expect(page).to_have_url(SUCCESS_URL)
    assert current(api)["team"]["status"] == "trialing" and invoices(api) == []
    assert [m["last4"] for m in state(api)["paymentMethods"]] == ["4242"]
