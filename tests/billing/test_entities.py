"""`/entities`: seats count one unit each; per-entity features give each its own balance."""

import pytest

from billing.models import Balance
from tests.billing.entitlements import (
    ENTITIES, check, customer_on, metered, plan, state_of, track,
)
from tests.factories import Api, data_of, error_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(api, merchant):
    plan(api, "team", metered("seats", 2), metered("messages", 5, perEntity=True))
    customer_on(api, merchant, "team", "org_1")


def add(api, entity_id, status=201, customer="org_1", **extra):
    response = api.post(ENTITIES, {"customer": customer, "entityId": entity_id,
                                   "featureId": "seats", **extra})
    if status == 201:
        return data_of(response, 201)
    assert response.status_code == status, response.content
    return error_of(response)


def test_a_team_with_two_seats_adds_two_members_and_is_refused_a_third(api, team):
    alice = add(api, "user_alice", name="Alice", metadata={"role": "admin"})
    assert alice["id"].startswith("pent_") and alice["entityId"] == "user_alice"
    assert (alice["featureId"], alice["name"], alice["metadata"]) == (
        "seats", "Alice", {"role": "admin"})
    add(api, "user_bob")
    assert add(api, "user_carol", 402)["code"] == "LIMIT_EXCEEDED"
    assert state_of(api, "org_1")["balances"]["seats"]["usage"] == 2
    listed = data_of(api.get(ENTITIES + "?customer=org_1"))
    assert [e["entityId"] for e in listed] == ["user_alice", "user_bob"]


def test_deleting_an_entity_gives_its_seat_back(api, team):
    add(api, "user_alice")
    add(api, "user_bob")
    assert data_of(api.delete(ENTITIES, {"customer": "org_1", "entityId": "user_bob"})) == {
        "deleted": True}
    add(api, "user_carol")
    assert check(api, "seats", "org_1")["balance"] == 0
    response = api.delete(ENTITIES, {"customer": "org_1", "entityId": "user_bob"})
    assert response.status_code == 404


def test_the_same_entity_id_twice_is_a_conflict(api, team):
    add(api, "user_alice")
    assert add(api, "user_alice", 409)["code"] == "CONFLICT"


def test_seats_with_overage_allowed_are_never_refused(api, merchant):
    plan(api, "team", metered("seats", 1, overageAllowed=True, overagePrice=1000))
    customer_on(api, merchant, "team", "org_1")
    add(api, "a")
    add(api, "b")
    assert check(api, "seats", "org_1")["balance"] == -1


def test_each_entity_has_its_own_balance_of_a_per_entity_feature(api, team):
    add(api, "user_alice")
    add(api, "user_bob")
    for _ in range(5):
        track(api, "messages", "org_1", entityId="user_alice")
    alice = check(api, "messages", "org_1", entityId="user_alice")
    bob = check(api, "messages", "org_1", entityId="user_bob", sendEvent=True)
    assert (alice["allowed"], alice["balance"]) == (False, 0)
    assert (bob["allowed"], bob["balance"]) == (True, 4)
    api.delete(ENTITIES, {"customer": "org_1", "entityId": "user_bob"})
    assert not Balance.objects.filter(entity_key="user_bob").exists()


def test_a_customer_without_seats_cannot_add_entities(api, merchant):
    plan(api, "solo", metered("messages", 5))
    plan(api, "team", metered("seats", 2))
    customer_on(api, merchant, "solo", "org_1")
    assert add(api, "user_alice", 402)["code"] == "LIMIT_EXCEEDED"


@pytest.mark.parametrize("body, field", [
    ({"entityId": "a", "featureId": "seats"}, "customer"),
    ({"customer": "org_1", "featureId": "seats"}, "entityId"),
    ({"customer": "org_1", "entityId": "a"}, "featureId"),
    ({"customer": "org_1", "entityId": 1, "featureId": "seats"}, "entityId"),
    ({"customer": "org_1", "entityId": "a", "featureId": "seats", "name": 5}, "name"),
    ({"customer": "org_1", "entityId": "a", "featureId": "seats", "metadata": "x"},
     "metadata"),
    ({"customer": "org_1", "entityId": "a" * 256, "featureId": "seats"}, "entityId"),
])
def test_bad_entity_input_is_a_422(api, team, body, field):
    response = api.post(ENTITIES, body)
    assert response.status_code == 422
    assert field in [d["field"] for d in error_of(response)["details"]]
    response = api.delete(ENTITIES, {"customer": "org_1"})
    assert response.status_code == 422 and error_of(response)["details"][0]["field"] \
        == "entityId"
    response = api.get(ENTITIES)
    assert response.status_code == 422 and error_of(response)["details"][0]["field"] \
        == "customer"


def test_entities_need_a_secret_key_and_stay_with_their_merchant(
        api, public_api, live_api, other_merchant, team):
    add(api, "user_alice")
    body = {"customer": "org_1", "entityId": "b", "featureId": "seats"}
    assert Api(None).post(ENTITIES, body).status_code == 401
    assert public_api.post(ENTITIES, body).status_code == 403
    assert public_api.get(ENTITIES + "?customer=org_1").status_code == 403
    other = Api(other_merchant.secret_test)
    assert error_of(other.post(ENTITIES, body))["code"] == "CUSTOMER_NOT_FOUND"
    assert other.get(ENTITIES + "?customer=org_1").status_code == 404
    assert live_api.delete(ENTITIES, {"customer": "org_1", "entityId": "user_alice"}) \
        .status_code == 404
    assert error_of(api.post(ENTITIES, {**body, "featureId": "nothing"}))["code"] \
        == "FEATURE_NOT_FOUND"
