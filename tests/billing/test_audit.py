"""`GET /audit`: the merchant reads who changed what, filtered and paged; rows commit with the
change they describe."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction

from billing.models import AuditEvent
from billing.services.audit import CRON, SYSTEM, Actor, audit_record
from cynco import clock
from cynco.tenancy import Scope
from tests.factories import Api, data_of, error_of, key_id_of

pytestmark = pytest.mark.django_db

PATH = "/api/v1/pay/audit"


@pytest.fixture
def scope(merchant):
    return Scope(merchant.merchant.id, "test")


@pytest.fixture
def trail(scope):
    """A customer's subscription history: subscribed by API, renewed by cron, canceled by API."""
    made = [
        audit_record(scope=scope, event="subscription.created", actor=Actor.api("pak_a"),
                     customer_id="pcm_1", subscription_id="psub_1",
                     resource_type="subscription", resource_id="psub_1",
                     details={"product": "pro"}),
        audit_record(scope=scope, event="subscription.renewed", actor=CRON,
                     customer_id="pcm_1", subscription_id="psub_1",
                     resource_type="subscription", resource_id="psub_1"),
        audit_record(scope=scope, event="subscription.created", actor=Actor.api("pak_a"),
                     customer_id="pcm_2", subscription_id="psub_2",
                     resource_type="subscription", resource_id="psub_2"),
        audit_record(scope=scope, event="subscription.canceled", actor=SYSTEM,
                     customer_id="pcm_1", subscription_id="psub_1",
                     resource_type="subscription", resource_id="psub_1",
                     details={"reason": "too expensive"}),
    ]
    return made


def ids(response):
    return [row["id"] for row in data_of(response)]


def test_the_trail_lists_newest_first_in_the_clients_shape(api, trail):
    response = api.get(PATH)
    rows = data_of(response)
    assert [row["id"] for row in rows] == [row.id for row in reversed(trail)]
    assert all(row["id"].startswith("paudit_") for row in rows)
    assert rows[0] == {
        "id": trail[3].id,
        "event": "subscription.canceled",
        "actorType": "system",
        "actorKeyId": None,
        "customerMapId": "pcm_1",
        "subscriptionId": "psub_1",
        "resourceType": "subscription",
        "resourceId": "psub_1",
        "details": {"reason": "too expensive"},
        "createdAt": rows[0]["createdAt"],
    }
    assert rows[0]["createdAt"].endswith("Z")
    assert rows[-1]["actorType"] == "api" and rows[-1]["actorKeyId"] == "pak_a"
    assert response.json()["pagination"] == {"total": 4, "limit": 50, "offset": 0}


def test_filters_by_subscription_customer_and_event_combine(api, trail):
    assert ids(api.get(f"{PATH}?subscription=psub_1")) == [trail[3].id, trail[1].id, trail[0].id]
    assert ids(api.get(f"{PATH}?customer_map_id=pcm_2")) == [trail[2].id]
    assert ids(api.get(f"{PATH}?event=subscription.created")) == [trail[2].id, trail[0].id]
    assert ids(api.get(f"{PATH}?customer_map_id=pcm_1&event=subscription.created")) == [
        trail[0].id]
    assert ids(api.get(f"{PATH}?subscription=psub_nothing")) == []
    # The client sends unused filters as absent, but an empty one means "no filter".
    assert len(ids(api.get(f"{PATH}?subscription=&event="))) == 4


def test_pages_with_limit_and_offset(api, trail):
    response = api.get(f"{PATH}?event=subscription.created&limit=1&offset=1")
    assert ids(response) == [trail[0].id]
    assert response.json()["pagination"] == {"total": 2, "limit": 1, "offset": 1}
    assert ids(api.get(f"{PATH}?offset=10")) == []


@pytest.mark.parametrize(
    "query, field",
    [("limit=0", "limit"), ("limit=101", "limit"), ("limit=ten", "limit"),
     ("limit=1.5", "limit"), ("offset=-1", "offset"), ("offset=x", "offset")],
)
def test_bad_paging_is_422_naming_the_parameter(api, query, field):
    response = api.get(f"{PATH}?{query}")
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "VALIDATION_ERROR"
    assert [detail["field"] for detail in error["details"]] == [field]


def test_the_trail_needs_a_secret_key(public_api):
    response = public_api.get(PATH)
    assert response.status_code == 403 and error_of(response)["code"] == "FORBIDDEN"
    response = Api(None).get(PATH)
    assert response.status_code == 401 and error_of(response)["code"] == "UNAUTHORIZED"


def test_nobody_reads_another_merchants_or_the_other_environments_trail(
    api, live_api, other_merchant, trail
):
    theirs = Scope(other_merchant.merchant.id, "test")
    audit_record(scope=theirs, event="subscription.created", actor=SYSTEM,
                 customer_id="pcm_1", subscription_id="psub_1")
    assert data_of(live_api.get(PATH)) == []
    assert len(ids(api.get(f"{PATH}?customer_map_id=pcm_1"))) == 3
    assert ids(Api(other_merchant.secret_test).get(PATH)) == [
        AuditEvent.objects.get(merchant_id=theirs.merchant_id).id]


def test_an_audit_row_commits_with_its_change_or_not_at_all(scope):
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            audit_record(scope=scope, event="coupon.created", actor=SYSTEM)
            raise RuntimeError("the change failed")
    assert not AuditEvent.objects.exists()


def test_rows_carry_the_environments_business_time(scope):
    clock.advance(scope=scope, seconds=86_400)
    row = audit_record(scope=scope, event="subscription.renewed", actor=CRON)
    assert row.created_at - clock.wall_now() > timedelta(hours=23)


def test_webhook_endpoints_created_and_deleted_through_the_api_are_audited(merchant, api):
    created = data_of(api.post("/api/v1/pay/webhooks", {"url": "https://shop.example/h",
                                                       "events": ["invoice.paid"]}), 201)
    data_of(api.delete(f"/api/v1/pay/webhooks?id={created['id']}"))
    rows = data_of(api.get(PATH))
    assert [row["event"] for row in rows] == ["webhook_endpoint.deleted",
                                              "webhook_endpoint.created"]
    assert {row["actorKeyId"] for row in rows} == {key_id_of(merchant.secret_test)}
    assert {(row["resourceType"], row["resourceId"]) for row in rows} == {
        ("webhook_endpoint", created["id"])}
    assert rows[1]["details"] == {"url": "https://shop.example/h", "events": ["invoice.paid"]}
    assert created["secret"] not in str(rows)
