"""The hosted checkout page at `checkoutUrl`, and the invoice page at `hostedUrl`."""

from urllib.parse import urlsplit

import pytest
from django.test import Client

from tests.billing.subscribing import (
    DECLINED_CARD, OK_CARD, THREE_DS_CARD, current, customer, invoices, main_catalog, subscribe,
)

pytestmark = pytest.mark.django_db(transaction=True)


def _path(url: str) -> str:
    return urlsplit(url).path


@pytest.fixture
def shop(api):
    main_catalog(api)
    customer(api)


def test_a_customer_pays_on_the_page_and_returns_to_the_success_url(api, shop):
    result = subscribe(api, "pro", successUrl="https://shop.example/thanks",
                       cancelUrl="https://shop.example/pricing")
    page = Client()
    form = page.get(_path(result["checkoutUrl"]))
    assert form.status_code == 200
    assert b"MYR 20.00" in form.content and b"https://shop.example/pricing" in form.content
    declined = page.post(_path(result["checkoutUrl"]), {"card": DECLINED_CARD})
    assert declined.status_code == 200 and b"Card was declined" in declined.content
    assert current(api)["pro"]["status"] == "checkout"
    paid = page.post(_path(result["checkoutUrl"]), {"card": OK_CARD})
    assert paid.status_code == 302 and paid["Location"] == "https://shop.example/thanks"
    assert current(api)["pro"]["status"] == "active"
    hosted = invoices(api)[0]["hostedUrl"]
    invoice_page = page.get(_path(hosted))
    assert invoice_page.status_code == 200 and b"INV-TEST-000001" in invoice_page.content


def test_a_3ds_card_is_sent_to_the_issuers_page(api, shop):
    result = subscribe(api, "pro", successUrl="https://shop.example/thanks")
    answer = Client().post(_path(result["checkoutUrl"]), {"card": THREE_DS_CARD})
    assert answer.status_code == 302 and "/gateways/sandbox/authenticate/" in answer["Location"]


def test_unknown_checkouts_and_forged_invoice_links_are_refused():
    assert Client().get("/checkout/sandbox/nope").status_code == 404
    assert Client().get("/invoices/forged").status_code == 404
