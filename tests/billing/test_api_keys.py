"""`/api-keys`: a merchant creates, lists and revokes keys; raw keys are shown once."""

import pytest

from tests.factories import Api, data_of, error_of, key_id_of

pytestmark = pytest.mark.django_db

KEYS_PATH = "/api/v1/pay/api-keys"


def test_a_new_key_is_shown_once_and_then_listed_masked(api):
    created = data_of(api.post(KEYS_PATH, {"name": "Production", "type": "secret"}), 201)
    assert created["rawKey"].startswith("cp_sk_test_")
    assert created["keyPrefix"] == created["rawKey"][:15]
    assert created["status"] == "active"

    listed = data_of(api.get(KEYS_PATH))
    mine = next(key for key in listed if key["id"] == created["id"])
    assert "rawKey" not in mine
    assert set(mine) == {"id", "name", "type", "keyPrefix", "environment", "scopes",
                         "lastUsedAt", "createdAt", "status"}
    assert Api(created["rawKey"]).get(KEYS_PATH).status_code == 200


def test_a_publishable_key_may_be_granted_track_and_portal_scopes(api):
    created = data_of(
        api.post(KEYS_PATH, {"name": "Browser", "type": "publishable", "scopes": ["track", "portal"]}),
        201,
    )
    assert created["rawKey"].startswith("cp_pk_test_")
    assert created["scopes"] == ["portal", "track"]


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "name"),
        ({"name": "x"}, "type"),
        ({"name": "x", "type": "admin"}, "type"),
        ({"name": 42, "type": "secret"}, "name"),
        ({"name": "x" * 201, "type": "secret"}, "name"),
        ({"name": "x", "type": "secret", "environment": "staging"}, "environment"),
        ({"name": "x", "type": "publishable", "scopes": ["refund"]}, "scopes[0]"),
        ({"name": "x", "type": "publishable", "scopes": "track"}, "scopes"),
        ({"name": "x", "type": "secret", "scopes": ["track"]}, "scopes"),
    ],
)
def test_bad_key_requests_are_422_with_the_field_named(api, body, field):
    response = api.post(KEYS_PATH, body)
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "VALIDATION_ERROR"
    assert field in [detail["field"] for detail in error["details"]]


def test_a_test_key_cannot_create_live_keys_but_a_live_key_can_create_test_keys(api, live_api):
    response = api.post(KEYS_PATH, {"name": "x", "type": "secret", "environment": "live"})
    assert response.status_code == 403
    created = data_of(
        live_api.post(KEYS_PATH, {"name": "ci", "type": "secret", "environment": "test"}), 201
    )
    assert created["environment"] == "test"


def test_revoking_needs_an_id_and_an_existing_key(api):
    assert error_of(api.delete(KEYS_PATH))["code"] == "VALIDATION_ERROR"
    response = api.delete(f"{KEYS_PATH}?id=pak_nothing")
    assert response.status_code == 404
    assert error_of(response)["code"] == "NOT_FOUND"


def test_replaying_a_key_creation_returns_the_same_key_without_storing_the_secret(api):
    body = {"name": "retry-safe", "type": "secret"}
    first = data_of(api.post(KEYS_PATH, body, headers={"Idempotency-Key": "mk-1"}), 201)
    replay = api.post(KEYS_PATH, body, headers={"Idempotency-Key": "mk-1"})
    again = data_of(replay, 201)
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert again["id"] == first["id"]
    assert first["rawKey"] and again["rawKey"] is None
    assert [k["name"] for k in data_of(api.get(KEYS_PATH))].count("retry-safe") == 1


def test_creating_and_revoking_a_key_is_audited_with_the_key_that_did_it(merchant, api):
    created = data_of(api.post(KEYS_PATH, {"name": "CI", "type": "secret"}), 201)
    data_of(api.delete(f"{KEYS_PATH}?id={created['id']}"))
    data_of(api.delete(f"{KEYS_PATH}?id={created['id']}"))  # already revoked: nothing new

    trail = data_of(api.get("/api/v1/pay/audit"))
    assert [row["event"] for row in trail] == ["api_key.revoked", "api_key.created"]
    revoked, made = trail
    assert made["actorType"] == "api"
    assert made["actorKeyId"] == key_id_of(merchant.secret_test)
    assert (made["resourceType"], made["resourceId"]) == ("api_key", created["id"])
    assert made["details"] == {"name": "CI", "type": "secret", "environment": "test",
                               "keyPrefix": created["keyPrefix"], "scopes": []}
    assert created["rawKey"] not in str(trail)
    assert revoked["resourceId"] == created["id"]


def test_a_refused_key_request_leaves_no_audit_row(api):
    from billing.models import AuditEvent

    api.post(KEYS_PATH, {"name": "x", "type": "admin"})
    api.post(KEYS_PATH, {"name": "x", "type": "secret", "environment": "live"})
    api.delete(f"{KEYS_PATH}?id=pak_nothing")
    assert not AuditEvent.objects.exists()


def test_a_test_key_made_by_a_live_key_is_audited_in_live(live_api, api):
    data_of(live_api.post(KEYS_PATH, {"name": "ci", "type": "secret", "environment": "test"}), 201)
    assert [row["event"] for row in data_of(live_api.get("/api/v1/pay/audit"))] == [
        "api_key.created"]
    assert data_of(api.get("/api/v1/pay/audit")) == []
