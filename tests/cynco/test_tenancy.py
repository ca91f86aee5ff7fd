"""One merchant's key never reaches another merchant's rows, and test never shows in live."""

import pytest

from cynco.models import ApiKey
from cynco.tenancy import Scope, scoped
from tests.factories import data_of, error_of

pytestmark = pytest.mark.django_db

KEYS_PATH = "/api/v1/pay/api-keys"


def test_merchant_a_gets_404_for_merchant_b_keys(merchant, other_merchant, api):
    theirs = ApiKey.objects.filter(merchant=other_merchant.merchant, environment="test").first()
    response = api.delete(f"{KEYS_PATH}?id={theirs.pk}")
    assert response.status_code == 404
    assert error_of(response)["code"] == "NOT_FOUND"
    assert ApiKey.objects.get(pk=theirs.pk).revoked_at is None
    listed = {key["id"] for key in data_of(api.get(KEYS_PATH))}
    assert theirs.pk not in listed


def test_test_keys_never_show_in_live(merchant, api, live_api):
    created = data_of(api.post(KEYS_PATH, {"name": "test-only", "type": "secret"}), 201)
    live_ids = {key["id"] for key in data_of(live_api.get(KEYS_PATH))}
    assert created["id"] not in live_ids
    assert all(key["environment"] == "live" for key in data_of(live_api.get(KEYS_PATH)))
    assert live_api.delete(f"{KEYS_PATH}?id={created['id']}").status_code == 404


def test_scoped_filters_by_merchant_and_environment(merchant, other_merchant):
    scope = Scope(merchant.merchant.id, "test")
    rows = scoped(ApiKey, scope)
    assert rows.count() == 2
    assert {(k.merchant_id, k.environment) for k in rows} == {(merchant.merchant.id, "test")}
    assert set(ApiKey.objects.for_scope(scope)) == set(rows)
