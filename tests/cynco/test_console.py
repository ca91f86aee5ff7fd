"""The console looks like ours and reads money one way: its name and icon, `/` for staff and for
everyone else, every amount through cynco.money on lists, details, inlines and reports, reports
opening on the environment that has data, and a band naming the environment of each page."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from billing.models import Customer, Invoice, Subscription
from tests.billing.admin_console import declined_renewal
from tests.billing.subscribing import customer, main_catalog

pytestmark = pytest.mark.django_db(transaction=True)
RAW_MINOR_UNITS = re.compile(r"minor units|\(2000 MYR\)|>2000<|>1\.000000<")


@pytest.fixture
def open_invoice(api):
    """Pro (MYR 20.00) paid, then a renewal declined: an open invoice, all in test."""
    main_catalog(api)
    customer(api)
    return declined_renewal(api)


def test_the_console_is_branded_with_its_own_name_and_icon(operator):
    page = operator.get("/admin/").content.decode()
    assert "Django administration" not in page and "Django site admin" not in page
    assert "<title>Operator console | Cynco Billing console</title>" in page
    assert "Cynco Billing</a>" in page
    assert 'rel="icon" href="/static/cynco/favicon.svg"' in page
    assert Client().get("/static/cynco/favicon.svg").status_code == 200
    assert '<a href="/api/docs/">API reference</a>' in page  # "View site", somewhere useful


def test_the_root_sends_staff_to_the_console_and_shows_others_a_short_page(operator):
    response = operator.get("/")
    assert response.status_code == 302 and response["Location"] == "/admin/"
    visitor = Client().get("/")
    assert visitor.status_code == 200
    text = visitor.content.decode()
    assert "Cynco Billing" in text and 'href="/admin/"' in text and 'href="/api/docs/"' in text


def test_money_reads_one_way_on_lists_details_inlines_and_reports(operator, open_invoice):
    subscription = open_invoice.subscription
    client_page = Customer.objects.get(pk=open_invoice.customer_id)
    pages = {
        "invoice list": "/admin/billing/invoice/",
        "invoice detail": f"/admin/billing/invoice/{open_invoice.pk}/change/",
        "subscription detail": f"/admin/billing/subscription/{subscription.pk}/change/",
        "customer detail": f"/admin/billing/customer/{client_page.pk}/change/",
        "dashboard": "/admin/billing-dashboard/",
        "trial balance": "/admin/ledger/account/trial-balance/",
        "product detail": f"/admin/billing/product/{subscription.product_id}/change/",
    }
    for name, url in pages.items():
        page = operator.get(url).content.decode()
        assert "MYR 20.00" in page, name
        assert not RAW_MINOR_UNITS.search(page), (name, RAW_MINOR_UNITS.search(page))
    detail = operator.get(pages["invoice detail"]).content.decode()
    assert re.search(r'<td class="field-quantity_shown">\s*<p>1</p>', detail)  # not 1.000000


def test_reports_open_on_the_environment_that_has_data(operator, open_invoice):
    """The demo is all test: the dashboard and the trial balance open on test, not on an empty
    live, and say so with the test band; asking for live still shows live."""
    dashboard = operator.get("/admin/billing-dashboard/").content.decode()
    assert '<option value="test" selected>' in dashboard
    assert "Test environment" in dashboard and "MYR 20.00" in dashboard
    balance = operator.get("/admin/ledger/account/trial-balance/").content.decode()
    assert '<option value="test" selected>' in balance
    assert "No entries posted" not in balance
    live = operator.get("/admin/billing-dashboard/?environment=live").content.decode()
    assert '<option value="live" selected>' in live and "Live environment" in live


def test_every_page_about_test_data_carries_the_test_band(operator, open_invoice):
    subscription = Subscription.objects.get(pk=open_invoice.subscription_id)
    assert subscription.environment == "test"
    for url in (f"/admin/billing/invoice/{open_invoice.pk}/change/",
                f"/admin/billing/subscription/{subscription.pk}/change/",
                "/admin/billing/invoice/?environment__exact=test"):
        assert 'class="env-band env-test"' in operator.get(url).content.decode(), url
    live_list = operator.get("/admin/billing/invoice/?environment__exact=live").content.decode()
    assert "env-test" not in live_list and "env-live" in live_list
    assert Invoice.objects.filter(environment="live").count() == 0
