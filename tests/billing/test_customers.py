"""`/customers`: get-or-create on every login, read, list, update, delete; default plans."""

import threading
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from billing.models import Customer, Subscription
from tests.billing.catalog import (
    CUSTOMERS, ENTERPRISE, FREE, PRO, define, subscribe_directly, switch,
)
from tests.factories import Api, data_of, error_of, make_merchant

pytestmark = pytest.mark.django_db

STATE_KEYS = {"id", "externalId", "environment", "name", "email", "metadata", "subscriptions",
              "balances", "flags", "paymentMethods", "createdAt"}


def test_a_new_customer_gets_the_free_plan_at_once(api):
    define(api, FREE)
    state = data_of(api.post(CUSTOMERS, {"customerId": "user_1", "name": "Aisyah",
                                         "email": "aisyah@example.com"}), 201)
    assert set(state) == STATE_KEYS
    assert state["id"].startswith("pcm_") and state["externalId"] == "user_1"
    assert state["environment"] == "test" and state["paymentMethods"] == []
    (subscription,) = state["subscriptions"]
    assert subscription["id"].startswith("psub_")
    assert (subscription["productSlug"], subscription["status"], subscription["quantity"],
            subscription["cancelAtPeriodEnd"]) == ("free", "active", 1, False)
    assert state["balances"] == {"messages": {"balance": 100, "remaining": 100, "limit": 100,
                                              "unlimited": False, "granted": 100, "usage": 0}}
    assert state["flags"] == {"messages": True}


def test_a_price_less_default_add_on_is_given_forever(api):
    define(api, {"name": "Beta", "slug": "beta", "isAddOn": True, "autoEnable": True,
                 "features": [switch("beta_access")]})
    state = data_of(api.post(CUSTOMERS, {"customerId": "user_1"}), 201)
    assert state["subscriptions"][0]["currentPeriodEnd"] is None
    assert state["flags"] == {"beta_access": True} and state["balances"] == {}


def test_calling_on_every_login_returns_the_same_customer_unchanged(api):
    define(api, FREE)
    first = data_of(api.post(CUSTOMERS, {"customerId": "user_1", "name": "A"}), 201)
    again = data_of(api.post(CUSTOMERS, {"customerId": "user_1", "name": "B"}), 200)
    assert again["id"] == first["id"] and again["name"] == "A"
    assert Subscription.objects.count() == 1


def test_features_of_every_current_plan_add_up(api):
    for body in (FREE, PRO, ENTERPRISE):
        define(api, body)
    data_of(api.post(CUSTOMERS, {"customerId": "user_1"}), 201)
    now = timezone.now()
    subscribe_directly("user_1", "pro", start=now, end=now + timedelta(days=30), quantity=2)
    state = data_of(api.get(CUSTOMERS + "?id=user_1"))
    assert state["balances"]["messages"]["granted"] == 100 + 2 * 1000
    assert state["flags"] == {"messages": True, "premium_support": True}
    subscribe_directly("user_1", "enterprise", start=now, end=now + timedelta(days=30))
    messages = data_of(api.get(CUSTOMERS + "?id=user_1"))["balances"]["messages"]
    assert messages == {"balance": None, "remaining": None, "limit": None, "unlimited": True,
                        "granted": None, "usage": 0}


def test_a_past_due_or_ended_plan_grants_nothing(api):
    define(api, PRO)
    data_of(api.post(CUSTOMERS, {"customerId": "user_1"}), 201)
    now = timezone.now()
    subscribe_directly("user_1", "pro", start=now - timedelta(days=40),
                       end=now - timedelta(days=10), status="expired")
    subscribe_directly("user_1", "pro", start=now, end=now + timedelta(days=30),
                       status="past_due")
    state = data_of(api.get(CUSTOMERS + "?id=user_1"))
    assert [s["status"] for s in state["subscriptions"]] == ["past_due"]
    assert state["balances"] == {} and state["flags"] == {}


def test_a_publishable_key_reads_one_customer_without_personal_fields(api, public_api):
    define(api, FREE)
    data_of(api.post(CUSTOMERS, {"customerId": "user/123&test=true", "email": "a@b.co",
                                 "metadata": {"plan": "x"}}), 201)
    state = data_of(public_api.get(CUSTOMERS + "?id=user%2F123%26test%3Dtrue"))
    assert set(state) == STATE_KEYS - {"email", "name", "metadata", "paymentMethods"}
    assert state["subscriptions"][0]["productSlug"] == "free"


def test_a_publishable_key_may_not_create_list_update_or_delete(public_api):
    assert public_api.post(CUSTOMERS, {"customerId": "u"}).status_code == 403
    assert public_api.get(CUSTOMERS).status_code == 403
    assert public_api.put(CUSTOMERS, {"customerId": "u"}).status_code == 403
    assert error_of(public_api.delete(CUSTOMERS + "?id=u"))["code"] == "FORBIDDEN"
    assert not Customer.objects.exists()


def test_calls_without_a_key_are_401():
    for method in ("get", "post", "put", "delete"):
        assert getattr(Api(None), method)(CUSTOMERS + "?id=u").status_code == 401


def test_customers_are_listed_oldest_first_with_pagination(api):
    for n in range(3):
        data_of(api.post(CUSTOMERS, {"customerId": f"user_{n}"}), 201)
    response = api.get(CUSTOMERS + "?limit=2&offset=1")
    assert [c["externalId"] for c in data_of(response)] == ["user_1", "user_2"]
    assert response.json()["pagination"] == {"total": 3, "limit": 2, "offset": 1}
    for bad in ("limit=0", "limit=101", "offset=-1", "limit=ten"):
        assert api.get(CUSTOMERS + "?" + bad).status_code == 422


def test_a_customer_is_updated_with_put(api):
    data_of(api.post(CUSTOMERS, {"customerId": "user_1", "name": "A", "email": "a@b.co"}), 201)
    state = data_of(api.put(CUSTOMERS, {"customerId": "user_1", "email": None,
                                        "metadata": {"team": "x"}}))
    assert (state["name"], state["email"], state["metadata"]) == ("A", None, {"team": "x"})
    assert data_of(api.get(CUSTOMERS + "?id=user_1"))["email"] is None


def test_a_deleted_customer_is_404_and_its_id_can_start_afresh(api):
    define(api, FREE)
    old = data_of(api.post(CUSTOMERS, {"customerId": "user_1"}), 201)
    assert data_of(api.delete(CUSTOMERS + "?id=user_1")) == {"deleted": True}
    for response in (api.get(CUSTOMERS + "?id=user_1"), api.delete(CUSTOMERS + "?id=user_1"),
                     api.put(CUSTOMERS, {"customerId": "user_1", "name": "x"})):
        assert response.status_code == 404
        assert error_of(response)["code"] == "CUSTOMER_NOT_FOUND"
    assert data_of(api.get(CUSTOMERS)) == []
    ended = Subscription.objects.get(customer_id=old["id"])
    assert ended.status == "canceled" and ended.canceled_at is not None
    new = data_of(api.post(CUSTOMERS, {"customerId": "user_1"}), 201)
    assert new["id"] != old["id"] and len(new["subscriptions"]) == 1
    assert Customer.objects.filter(external_id="user_1").count() == 2


@pytest.mark.parametrize(
    "body, field",
    [({}, "customerId"), ({"customerId": 42}, "customerId"), ({"customerId": ""}, "customerId"),
     ({"customerId": "x" * 256}, "customerId"), ({"customerId": "u", "name": 5}, "name"),
     ({"customerId": "u", "email": "not-an-email"}, "email"),
     ({"customerId": "u", "email": ["a@b.co"]}, "email"),
     ({"customerId": "u", "metadata": "x"}, "metadata")],
)
def test_bad_customer_bodies_are_422_and_create_nothing(api, body, field):
    for method in (api.post, api.put):
        response = method(CUSTOMERS, body)
        assert response.status_code == 422
        assert field in [d["field"] for d in error_of(response)["details"]]
    assert not Customer.objects.exists()


def test_delete_needs_an_id(api):
    assert error_of(api.delete(CUSTOMERS))["details"][0]["field"] == "id"


def test_customers_of_another_merchant_or_of_live_are_404(api, live_api, other_merchant):
    data_of(api.post(CUSTOMERS, {"customerId": "user_1"}), 201)
    for other in (live_api, Api(other_merchant.secret_test)):
        assert error_of(other.get(CUSTOMERS + "?id=user_1"))["code"] == "CUSTOMER_NOT_FOUND"
        assert other.put(CUSTOMERS, {"customerId": "user_1", "name": "x"}).status_code == 404
        assert other.delete(CUSTOMERS + "?id=user_1").status_code == 404
        assert data_of(other.get(CUSTOMERS)) == []
    assert data_of(api.get(CUSTOMERS + "?id=user_1"))["name"] is None


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_logins_make_one_customer_with_one_free_plan():
    keys = make_merchant()
    define(Api(keys.secret_test), FREE)
    barrier = threading.Barrier(20)
    answers, errors = [], []

    def login():
        try:
            barrier.wait()
            response = Api(keys.secret_test).post(CUSTOMERS, {"customerId": "user_1"})
            answers.append((response.status_code, response.json()["data"]["id"]))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=login) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len({customer_id for _, customer_id in answers}) == 1
    assert sorted(status for status, _ in answers) == [200] * 19 + [201]
    assert Customer.objects.count() == 1
    assert Subscription.objects.count() == 1
