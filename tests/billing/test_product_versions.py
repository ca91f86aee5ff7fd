"""Versions of a product: listing them, and moving grandfathered subscribers to the latest."""

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from billing.models import Subscription
from tests.billing.catalog import CUSTOMERS, PRO, VERSIONS, define, monthly, subscribe_directly
from tests.factories import Api, data_of, error_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def pro_v1_then_v2(api):
    """Pro at 2000, three customers subscribed to it, then Pro repriced to 2500."""
    v1 = define(api, PRO)
    now = timezone.now()
    for n in range(3):
        data_of(api.post(CUSTOMERS, {"customerId": f"user_{n}"}), 201)
        subscribe_directly(f"user_{n}", "pro", start=now, end=now + timedelta(days=30))
    v2 = define(api, {**PRO, "prices": [monthly(2500), monthly(25000, billingInterval="year")]})
    return v1, v2


def test_versions_are_listed_by_id_or_slug_with_their_snapshots(api, pro_v1_then_v2):
    v1, v2 = pro_v1_then_v2
    by_slug = data_of(api.get(VERSIONS + "?productId=pro"))
    by_id = data_of(api.get(VERSIONS + f"?productId={v1['id']}"))
    assert by_slug == by_id
    first, second = by_slug["versions"]
    assert (first["id"], first["version"], second["id"], second["version"]) == (
        v1["versionId"], 1, v2["versionId"], 2)
    assert first["productId"] == v1["id"] and first["subscriberCount"] == 3
    assert first["snapshot"]["prices"][0]["amount"] == 2000
    assert second["snapshot"]["prices"][0]["amount"] == 2500


def test_grandfathered_subscribers_stay_until_migrated_then_move_to_the_latest(
    api, pro_v1_then_v2
):
    v1, v2 = pro_v1_then_v2
    assert set(Subscription.objects.values_list("product_version_id", flat=True)) == {
        v1["versionId"]}
    body = {"productId": "pro", "versionId": v1["versionId"]}
    assert data_of(api.post(VERSIONS, body)) == {"migrated": 3}
    moved = Subscription.objects.select_related("price")
    assert {s.product_version_id for s in moved} == {v2["versionId"]}
    assert {s.price.amount for s in moved} == {2500}  # the monthly price, not the yearly one
    assert data_of(api.post(VERSIONS, body)) == {"migrated": 0}


def test_the_management_command_prints_progress_per_batch(api, merchant, pro_v1_then_v2):
    v1, _ = pro_v1_then_v2
    out = io.StringIO()
    call_command("migrate_product_version", merchant.merchant.id, "test", "pro",
                 v1["versionId"], "--batch-size", "2", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "Moving subscribers of pro v1 to v2"
    assert lines[1:] == ["  batch 1: 2 moved so far", "  batch 2: 3 moved so far",
                         "Done: 3 subscription(s) moved"]
    with pytest.raises(CommandError):
        call_command("migrate_product_version", merchant.merchant.id, "test", "nope", "x")


@pytest.mark.parametrize(
    "body, field",
    [({}, "productId"), ({"productId": "pro"}, "versionId"),
     ({"productId": 5, "versionId": "v"}, "productId")],
)
def test_a_migration_request_needs_both_ids_as_strings(api, body, field):
    response = api.post(VERSIONS, body)
    assert response.status_code == 422
    assert field in [d["field"] for d in error_of(response)["details"]]


def test_versions_need_a_product_id_and_a_known_product(api):
    assert error_of(api.get(VERSIONS))["details"][0]["field"] == "productId"
    response = api.get(VERSIONS + "?productId=nope")
    assert response.status_code == 404 and error_of(response)["code"] == "PRODUCT_NOT_FOUND"


def test_an_unknown_version_is_404(api):
    define(api, PRO)
    response = api.post(VERSIONS, {"productId": "pro", "versionId": "pver_nope"})
    assert response.status_code == 404 and error_of(response)["code"] == "NOT_FOUND"


def test_versions_of_another_merchant_or_live_are_404(api, live_api, other_merchant):
    pro = define(api, PRO)
    for other in (live_api, Api(other_merchant.secret_test)):
        assert other.get(VERSIONS + f"?productId={pro['id']}").status_code == 404
        response = other.post(VERSIONS, {"productId": pro["id"], "versionId": pro["versionId"]})
        assert error_of(response)["code"] == "PRODUCT_NOT_FOUND"


def test_versions_need_a_secret_key(api, public_api):
    define(api, PRO)
    assert public_api.get(VERSIONS + "?productId=pro").status_code == 403
    assert Api(None).get(VERSIONS + "?productId=pro").status_code == 401
