"""The customer portal (`GET /portal?customer=` gives the signed link) in a real browser: the
plan, the saved card and the invoices; cancelling at period end and resuming with the page's
own forms; an expired or altered link shows a page that says so."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from playwright.sync_api import expect

from tests.billing.catalog import CUSTOMERS
from tests.billing.subscribing import current, invoices, main_catalog, subscribe_paid
from tests.factories import data_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PORTAL = "/api/v1/pay/portal"


@pytest.fixture
def jane(api, site):
    """Jane Tan pays Pro (MYR 20.00) with 4242: one plan, one card, one paid invoice."""
    main_catalog(api)
    data_of(api.post(CUSTOMERS, {"customerId": "jane", "name": "Jane Tan",
                                 "email": "jane@example.com"}), 201)
    subscribe_paid(api, "pro", "jane")
    return "jane"


def portal_link(api, customer: str) -> str:
    return data_of(api.get(f"{PORTAL}?customer={customer}"))["url"]


def test_the_portal_shows_janes_plan_card_and_invoice(api, jane, site, page):
    url = portal_link(api, jane)
    assert url.startswith(f"{site}/portal/")
    page.goto(url)
    expect(page.get_by_role("heading", name="Your billing")).to_be_visible()
    expect(page.get_by_text("Jane Tan · jane@example.com")).to_be_visible()
    plan = page.locator("section", has=page.get_by_role("heading", name="Plan"))
    expect(plan.get_by_role("row", name="Pro Active")).to_be_visible()
    cards = page.locator("section", has=page.get_by_role("heading", name="Payment methods"))
    expect(cards.get_by_role("row", name="Visa •••• 4242")).to_contain_text("default")
    [invoice] = invoices(api, jane)
    rows = page.locator("section", has=page.get_by_role("heading", name="Invoices"))
    expect(rows.get_by_role("row", name=invoice["number"])).to_contain_text("Paid")
    expect(rows.get_by_role("row", name=invoice["number"])).to_contain_text("MYR 20.00")
    rows.get_by_role("link", name=invoice["number"]).click()
    expect(page.get_by_role("heading", name=f"Invoice {invoice['number']}")).to_be_visible()
    expect(page.get_by_role("row", name="Total MYR 20.00", exact=True)).to_be_visible()
    expect(page.get_by_role("row", name="Amount due MYR 0.00", exact=True)).to_be_visible()


def test_jane_cancels_at_period_end_then_resumes_from_the_portal(api, jane, page):
    page.goto(portal_link(api, jane))
    page.get_by_text("Cancel…").click()  # opens the form with the optional reason
    page.get_by_role("button", name="Cancel at period end").click()
    expect(page.get_by_role("status")).to_have_text(
        "Pro will end at the end of the current period.")
    expect(page.get_by_text("Active (ends at period end)")).to_be_visible()
    assert current(api, jane)["pro"]["cancelAtPeriodEnd"] is True
    page.get_by_role("button", name="Resume").click()
    expect(page.get_by_role("status")).to_have_text("Pro will renew as usual.")
    assert current(api, jane)["pro"]["cancelAtPeriodEnd"] is False


def test_a_link_older_than_an_hour_shows_the_expired_page(api, jane, page):
    with time_machine.travel(datetime.now(UTC) - timedelta(minutes=61)):
        url = portal_link(api, jane)
    response = page.goto(url)
    assert response.status == 410
    expect(page.get_by_role("heading", name="This link has expired")).to_be_visible()
    expect(page.get_by_text("open the billing page again for a fresh link")).to_be_visible()
    expect(page.get_by_text("Your billing")).to_have_count(0)


def test_an_altered_link_shows_the_not_valid_page(api, jane, page):
    url = portal_link(api, jane)
    at = url.rindex(":") + 1  # the signature's first character: every bit of it counts
    altered = url[:at] + ("A" if url[at] != "A" else "B") + url[at + 1:]
    response = page.goto(altered)
    assert response.status == 404
    expect(page.get_by_role("heading", name="This link is not valid")).to_be_visible()
    expect(page.get_by_text("Your billing")).to_have_count(0)


def test_jane_replaces_her_card_from_the_portal_and_it_becomes_the_default(api, jane, page):
    page.goto(portal_link(api, jane))
    page.get_by_role("button", name="Update card").click()
    expect(page.get_by_text("Save a new card: it becomes your default card.")).to_be_visible()
    page.get_by_label("Card number").fill("4000000000000341")
    page.get_by_role("button", name="Save card").click()
    expect(page.get_by_role("heading", name="Your billing")).to_be_visible()
    cards = page.locator("section", has=page.get_by_role("heading", name="Payment methods"))
    expect(cards.get_by_role("row", name="Visa •••• 0341")).to_contain_text("default")
    expect(cards.get_by_role("row", name="Visa •••• 4242")).to_contain_text("Make default")
