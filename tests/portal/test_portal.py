"""GET /portal?customer=: a signed link to a page with the customer's plan and usage."""

from datetime import timedelta

import pytest
import time_machine

from tests.billing.catalog import CUSTOMERS, FREE, PRO, define
from tests.factories import Api, data_of, error_of

pytestmark = pytest.mark.django_db

PORTAL = "/api/v1/pay/portal"


@pytest.fixture
def jane(api):
    define(api, FREE)
    define(api, PRO)
    data_of(api.post(CUSTOMERS, {"customerId": "jane", "name": "Jane Tan",
                                 "email": "jane@example.com"}), 201)
    return "jane"


def test_the_portal_link_opens_the_customers_plan_and_usage(api, client, jane):
    url = data_of(api.get(f"{PORTAL}?customer={jane}"))["url"]
    assert url.startswith("http://127.0.0.1:8000/portal/")
    page = client.get(url.removeprefix("http://127.0.0.1:8000"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Jane Tan" in text and "Free" in text and ">Messages<" in text  # its name, not slug
    assert "No invoices yet" in text


def test_an_expired_portal_link_says_so(api, client, jane):
    with time_machine.travel("2026-11-25 10:00:00Z", tick=False) as traveller:
        path = data_of(api.get(f"{PORTAL}?customer={jane}"))["url"].removeprefix(
            "http://127.0.0.1:8000"
        )
        traveller.shift(timedelta(minutes=61))
        page = client.get(path)
    assert page.status_code == 410
    assert "expired" in page.content.decode()


def test_a_tampered_portal_link_is_refused(api, client, jane):
    path = data_of(api.get(f"{PORTAL}?customer={jane}"))["url"].removeprefix(
        "http://127.0.0.1:8000"
    )
    page = client.get(path[:-3] + "xyz")
    assert page.status_code == 404
    assert "not valid" in page.content.decode()


def test_a_deleted_customers_link_stops_working(api, client, jane):
    path = data_of(api.get(f"{PORTAL}?customer={jane}"))["url"].removeprefix(
        "http://127.0.0.1:8000"
    )
    data_of(api.delete(f"{CUSTOMERS}?id={jane}"))
    assert client.get(path).status_code == 404


def test_portal_links_need_a_customer_of_this_merchant(api, other_merchant, jane):
    assert error_of(api.get(PORTAL))["code"] == "VALIDATION_ERROR"
    assert error_of(api.get(f"{PORTAL}?customer=nobody"))["code"] == "CUSTOMER_NOT_FOUND"
    response = Api(other_merchant.secret_test).get(f"{PORTAL}?customer={jane}")
    assert error_of(response)["code"] == "CUSTOMER_NOT_FOUND"


def test_a_publishable_key_needs_the_portal_scope(api, merchant, jane):
    assert Api(merchant.publishable_test).get(f"{PORTAL}?customer={jane}").status_code == 403
    scoped = data_of(api.post("/api/v1/pay/api-keys",
                              {"name": "web", "type": "publishable", "scopes": ["portal"]}), 201)
    assert Api(scoped["rawKey"]).get(f"{PORTAL}?customer={jane}").status_code == 200
