"""`/webhooks`: a merchant registers endpoints, sees its secret once, lists and deletes them."""

from __future__ import annotations

import pytest

from billing.models import EVENT_TYPES, AuditEvent, WebhookEndpoint
from tests.factories import Api, data_of, error_of

pytestmark = pytest.mark.django_db

PATH = "/api/v1/pay/webhooks"
URL = "https://shop.example.com/hooks/cynco"


def fields_of(response) -> list[str]:
    assert response.status_code == 422, response.content
    error = error_of(response)
    assert error["code"] == "VALIDATION_ERROR"
    return [detail["field"] for detail in error["details"]]


def test_a_new_endpoint_shows_its_secret_once_and_lists_without_it(api):
    created = data_of(api.post(PATH, {"url": URL, "events": ["invoice.paid"]}), 201)
    assert created["id"].startswith("pwh_")
    assert created["secret"].startswith("whsec_")
    assert created == {"id": created["id"], "url": URL, "secret": created["secret"],
                       "events": ["invoice.paid"], "status": "active"}

    listed = api.get(PATH)
    items = data_of(listed)
    assert items == [{"id": created["id"], "url": URL, "events": ["invoice.paid"],
                      "status": "active"}]
    assert listed.json()["pagination"] == {"total": 1, "limit": 50, "offset": 0}


def test_leaving_events_out_or_null_subscribes_to_every_type(api):
    assert data_of(api.post(PATH, {"url": URL}), 201)["events"] is None
    assert data_of(api.post(PATH, {"url": URL, "events": None}), 201)["events"] is None


def test_every_type_of_api_md_is_accepted_and_repeats_are_dropped(api):
    created = data_of(api.post(PATH, {"url": URL, "events": [*EVENT_TYPES, "invoice.paid"]}), 201)
    assert created["events"] == list(EVENT_TYPES)


def test_deleting_an_endpoint_removes_it_from_the_list_and_a_second_delete_is_404(api):
    created = data_of(api.post(PATH, {"url": URL}), 201)
    assert data_of(api.delete(f"{PATH}?id={created['id']}")) == {"deleted": True}
    assert data_of(api.get(PATH)) == []
    assert WebhookEndpoint.objects.get(pk=created["id"]).status == "deleted"
    again = api.delete(f"{PATH}?id={created['id']}")
    assert again.status_code == 404
    assert error_of(again)["code"] == "NOT_FOUND"


def test_deleting_needs_an_id(api):
    assert fields_of(api.delete(PATH)) == ["id"]
    assert fields_of(api.delete(f"{PATH}?id=")) == ["id"]


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "url"),
        ({"events": ["invoice.paid"]}, "url"),
        ({"url": 42}, "url"),
        ({"url": None}, "url"),
        ({"url": ["https://a.example"]}, "url"),
        ({"url": ""}, "url"),
        ({"url": "ftp://files.example.com/hook"}, "url"),
        ({"url": "javascript:alert(1)"}, "url"),
        ({"url": "shop.example.com/hooks"}, "url"),
        ({"url": "https://example.com/" + "a" * 2048}, "url"),
        ({"url": URL, "events": "invoice.paid"}, "events"),
        ({"url": URL, "events": {"type": "invoice.paid"}}, "events"),
        ({"url": URL, "events": []}, "events"),
        ({"url": URL, "events": [1]}, "events[0]"),
        ({"url": URL, "events": ["invoice.paid", "invoice.refunded"]}, "events[1]"),
        ({"url": URL, "events": ["Invoice.Paid"]}, "events[0]"),
        ({"url": URL, "events": ["*"]}, "events[0]"),
    ],
)
def test_bad_endpoints_are_422_naming_the_field_and_nothing_is_written(api, body, field):
    assert field in fields_of(api.post(PATH, body))
    assert not WebhookEndpoint.objects.exists()
    assert not AuditEvent.objects.exists()


def test_every_unknown_event_type_is_named(api):
    body = {"url": URL, "events": ["nope", "invoice.paid", "subscription.deleted"]}
    assert fields_of(api.post(PATH, body)) == ["events[0]", "events[2]"]


def test_a_body_that_is_not_an_object_is_422(api):
    assert api.post(PATH, raw="[1,2]").status_code == 422
    assert api.post(PATH, raw="{not json").status_code == 422


def test_publishable_keys_may_not_manage_webhooks(api, public_api):
    created = data_of(api.post(PATH, {"url": URL}), 201)
    for response in (public_api.post(PATH, {"url": URL}), public_api.get(PATH),
                     public_api.delete(f"{PATH}?id={created['id']}")):
        assert response.status_code == 403
        assert error_of(response)["code"] == "FORBIDDEN"
    assert WebhookEndpoint.objects.get(pk=created["id"]).status == "active"


def test_no_key_is_401():
    anonymous = Api(None)
    for response in (anonymous.post(PATH, {"url": URL}), anonymous.get(PATH),
                     anonymous.delete(f"{PATH}?id=pwh_x")):
        assert response.status_code == 401
        assert error_of(response)["code"] == "UNAUTHORIZED"


def test_another_merchants_and_the_live_environments_endpoints_are_out_of_reach(
    api, live_api, other_merchant
):
    theirs = data_of(Api(other_merchant.secret_test).post(PATH, {"url": URL}), 201)
    mine_in_test = data_of(api.post(PATH, {"url": URL}), 201)

    assert api.delete(f"{PATH}?id={theirs['id']}").status_code == 404
    assert theirs["id"] not in [item["id"] for item in data_of(api.get(PATH))]
    assert data_of(live_api.get(PATH)) == []
    assert live_api.delete(f"{PATH}?id={mine_in_test['id']}").status_code == 404
    assert WebhookEndpoint.objects.get(pk=theirs["id"]).status == "active"
    assert WebhookEndpoint.objects.get(pk=mine_in_test["id"]).status == "active"


def test_the_list_pages_with_limit_and_offset_newest_first(api):
    ids = [data_of(api.post(PATH, {"url": f"{URL}/{n}"}), 201)["id"] for n in range(3)]
    page = api.get(f"{PATH}?limit=2&offset=1")
    assert [item["id"] for item in data_of(page)] == [ids[1], ids[0]]
    assert page.json()["pagination"] == {"total": 3, "limit": 2, "offset": 1}
    for query, field in (("limit=0", "limit"), ("limit=101", "limit"), ("limit=x", "limit"),
                         ("offset=-1", "offset")):
        assert fields_of(api.get(f"{PATH}?{query}")) == [field]


def test_a_replayed_create_returns_the_same_endpoint_without_storing_its_secret(api):
    body = {"url": URL, "events": ["payment.failed"]}
    first = data_of(api.post(PATH, body, headers={"Idempotency-Key": "wh-1"}), 201)
    replay = api.post(PATH, body, headers={"Idempotency-Key": "wh-1"})
    again = data_of(replay, 201)
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert again == {**first, "secret": None}
    assert WebhookEndpoint.objects.count() == 1
    assert AuditEvent.objects.filter(event="webhook_endpoint.created").count() == 1
