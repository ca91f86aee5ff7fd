"""`POST /products` and `GET /products`: a merchant defines what it sells, versioned."""

import copy

import pytest

from billing.models import Feature, ProductVersion
from tests.billing.catalog import ENTERPRISE, FREE, PRO, PRODUCTS, define, metered, monthly
from tests.factories import Api, data_of, error_of

pytestmark = pytest.mark.django_db


def fields_of(response) -> list[str]:
    assert response.status_code == 422, response.content[:500]
    error = error_of(response)
    assert error["code"] == "VALIDATION_ERROR"
    return [detail["field"] for detail in error["details"]]


def test_a_merchant_defines_pro_and_gets_the_client_product_shape(api):
    pro = define(api, PRO)
    assert pro["id"].startswith("pprod_") and pro["versionId"].startswith("pver_")
    assert pro["slug"] == "pro" and pro["version"] == 1 and pro["status"] == "active"
    assert {"id", "name", "slug", "description", "isDefault", "isAddOn", "groupSlug",
            "sortOrder", "status", "metadata", "prices", "features"} <= set(pro)
    (price,) = pro["prices"]
    assert price["id"].startswith("ppri_")
    assert (price["amount"], price["currency"], price["billingInterval"],
            price["billingIntervalCount"]) == (2000, "MYR", "month", 1)
    assert [(f["slug"], f["allowanceType"], f["allowance"]) for f in pro["features"]] == [
        ("messages", "fixed", 1000), ("premium_support", "boolean", None)]


def test_posting_the_same_definition_again_returns_the_product_unchanged(api):
    first = define(api, PRO)
    again = define(api, PRO, status=200)
    assert again["versionId"] == first["versionId"] and again["version"] == 1
    assert again["prices"][0]["id"] == first["prices"][0]["id"]
    assert ProductVersion.objects.filter(product_id=first["id"]).count() == 1


def test_spelling_out_defaults_is_the_same_definition(api):
    define(api, PRO)
    explicit = copy.deepcopy(PRO)
    explicit["prices"][0].update(currency="myr", billingIntervalCount=1, trialDays=0,
                                 setupFee=0, trialRequiresCard=False)
    explicit.update(isAddOn=False, autoEnable=False, redirectMode="always")
    assert define(api, explicit, status=200)["version"] == 1


def test_a_changed_price_makes_version_two_and_keeps_version_one(api):
    first = define(api, PRO)
    cheaper = {**PRO, "prices": [monthly(1500)]}
    second = define(api, cheaper)
    assert second["id"] == first["id"] and second["version"] == 2
    assert second["prices"][0]["amount"] == 1500
    assert second["prices"][0]["id"] != first["prices"][0]["id"]
    old = ProductVersion.objects.get(pk=first["versionId"])
    assert old.prices.get().amount == 2000


def test_metadata_alone_is_not_versioned(api):
    define(api, PRO)
    updated = define(api, {**PRO, "metadata": {"tier": "gold"}}, status=200)
    assert updated["version"] == 1 and updated["metadata"] == {"tier": "gold"}


def test_the_product_list_is_ordered_and_paginated(api):
    for body in (ENTERPRISE, FREE, PRO):
        define(api, body)
    response = api.get(PRODUCTS + "?limit=2")
    assert [p["slug"] for p in data_of(response)] == ["free", "pro"]
    assert response.json()["pagination"] == {"total": 3, "limit": 2, "offset": 0}
    assert [p["slug"] for p in data_of(api.get(PRODUCTS + "?offset=2"))] == ["enterprise"]


def test_a_product_needs_only_a_name_and_a_slug(api):
    product = define(api, {"name": "Pay as you go", "slug": "payg"})
    assert product["prices"] == [] and product["features"] == []


def test_graduated_tiers_are_stored_with_wire_names(api):
    body = {"name": "API", "slug": "api", "prices": [{
        "type": "recurring", "tiersMode": "graduated",
        "tiers": [{"upTo": 1000, "unitAmount": 0}, {"upTo": None, "unitAmount": 2,
                                                     "flatAmount": 100}]}]}
    price = define(api, body)["prices"][0]
    assert price["tiersMode"] == "graduated" and price["amount"] == 0
    assert price["tiers"] == [{"upTo": 1000, "unitAmount": 0, "flatAmount": 0},
                              {"upTo": None, "unitAmount": 2, "flatAmount": 100}]


def test_old_clients_tier_keys_are_understood(api):
    body = {"name": "API", "slug": "api", "prices": [{
        "type": "recurring", "amount": 0, "tierBehavior": "volume",
        "tiers": [{"to": 10, "amount": 5}, {"to": "inf", "amount": 3}]}]}
    price = define(api, body)["prices"][0]
    assert price["tiersMode"] == "volume"
    assert [t["upTo"] for t in price["tiers"]] == [10, None]


def test_a_feature_type_is_derived_when_left_out(api):
    body = {"name": "Team", "slug": "team", "features": [
        {"slug": "sso", "name": "SSO", "type": "boolean"},
        {"slug": "seats", "name": "Seats", "allowance": 5, "perEntity": True}]}
    features = define(api, body)["features"]
    assert [(f["type"], f["allowanceType"]) for f in features] == [
        ("boolean", "boolean"), ("metered", "fixed")]


def test_a_feature_keeps_its_type_across_products(api):
    define(api, PRO)
    clash = {"name": "X", "slug": "x", "features": [
        {"slug": "premium_support", "name": "P", "type": "metered", "allowance": 3}]}
    assert fields_of(api.post(PRODUCTS, clash)) == ["features[0].type"]
    assert Feature.objects.get(slug="premium_support").type == "boolean"
    assert [p["slug"] for p in data_of(api.get(PRODUCTS))] == ["pro"]  # nothing half-written


def test_only_one_default_plan_per_group(api):
    define(api, FREE)
    other = {**FREE, "slug": "starter"}
    assert fields_of(api.post(PRODUCTS, other)) == ["isDefault"]
    assert define(api, {**other, "groupSlug": "other"})["isDefault"] is True


def _price(**changes):
    return {"name": "P", "slug": "p", "prices": [{**monthly(1000), **changes}]}


def _feature(**changes):
    return {"name": "P", "slug": "p", "features": [{**metered("messages", 10), **changes}]}


@pytest.mark.parametrize(
    "body, field",
    [
        ({"slug": "p"}, "name"),
        ({"name": "P"}, "slug"),
        ({"name": 7, "slug": "p"}, "name"),
        ({"name": "P", "slug": "has space"}, "slug"),
        ({"name": "P", "slug": "p", "isDefault": "yes"}, "isDefault"),
        ({"name": "P", "slug": "p", "isDefault": True, "autoEnable": False}, "autoEnable"),
        ({"name": "P", "slug": "p", "sortOrder": "1"}, "sortOrder"),
        ({"name": "P", "slug": "p", "metadata": []}, "metadata"),
        ({"name": "P", "slug": "p", "prices": {}}, "prices"),
        ({"name": "P", "slug": "p", "prices": ["x"]}, "prices[0]"),
        ({"name": "P", "slug": "p", "prices": [{"amount": 5}]}, "prices[0].type"),
        (_price(type="subscription"), "prices[0].type"),
        (_price(amount=-1), "prices[0].amount"),
        (_price(amount=9.5), "prices[0].amount"),
        (_price(amount="1000"), "prices[0].amount"),
        ({"name": "P", "slug": "p", "prices": [{"type": "recurring"}]}, "prices[0].amount"),
        (_price(billingInterval="quarter"), "prices[0].billingInterval"),
        (_price(billingIntervalCount=0), "prices[0].billingIntervalCount"),
        (_price(currency="XYZ"), "prices[0].currency"),
        (_price(currency=458), "prices[0].currency"),
        (_price(trialDays=-3), "prices[0].trialDays"),
        (_price(setupFee=-1), "prices[0].setupFee"),
        (_price(type="one_time", billingInterval="month"), "prices[0].billingInterval"),
        (_price(tiersMode="graduated"), "prices[0].tiers"),
        (_price(tiers=[{"upTo": None, "unitAmount": 1}]), "prices[0].tiersMode"),
        (_price(tiersMode="stacked", tiers=[{"upTo": None, "unitAmount": 1}]),
         "prices[0].tiersMode"),
        (_price(tiersMode="graduated", tiers=[{"upTo": 10, "unitAmount": 1},
                                              {"upTo": 5, "unitAmount": 1},
                                              {"upTo": None, "unitAmount": 1}]),
         "prices[0].tiers[1].upTo"),
        (_price(tiersMode="volume", tiers=[{"upTo": 10, "unitAmount": 1}]),
         "prices[0].tiers[0].upTo"),
        (_price(tiersMode="volume", tiers=[{"upTo": None, "unitAmount": -1}]),
         "prices[0].tiers[0].unitAmount"),
        (_price(tiersMode="volume", tiers=[{"unitAmount": 1}]), "prices[0].tiers[0].upTo"),
        (_feature(slug=None), "features[0].slug"),
        (_feature(name=None), "features[0].name"),
        (_feature(type="counter"), "features[0].type"),
        (_feature(allowanceType="lots"), "features[0].allowanceType"),
        (_feature(allowance=-1), "features[0].allowance"),
        (_feature(allowance="10"), "features[0].allowance"),
        (_feature(allowance=0.0000001), "features[0].allowance"),
        (_feature(allowance=None), "features[0].allowance"),
        (_feature(allowanceType="unlimited"), "features[0].allowance"),
        (_feature(type="boolean"), "features[0].allowanceType"),
        (_feature(overageAllowed=1), "features[0].overageAllowed"),
        (_feature(overagePrice=-5), "features[0].overagePrice"),
        (_feature(resetInterval="hourly"), "features[0].resetInterval"),
        ({"name": "P", "slug": "p", "features": [{"slug": "x", "name": "X"}]},
         "features[0].allowanceType"),
        ({"name": "P", "slug": "p", "features": [metered("m", 1), metered("m", 2)]},
         "features[1].slug"),
        ({**FREE, "prices": [monthly(990)]}, "prices[0].amount"),
    ],
)
def test_bad_product_definitions_are_422_naming_the_field_and_write_nothing(api, body, field):
    assert field in fields_of(api.post(PRODUCTS, body))
    assert data_of(api.get(PRODUCTS)) == []
    assert not Feature.objects.exists()


def test_products_need_a_secret_key(api, public_api):
    assert error_of(public_api.post(PRODUCTS, PRO))["code"] == "FORBIDDEN"
    assert public_api.get(PRODUCTS).status_code == 403
    assert Api(None).get(PRODUCTS).status_code == 401


def test_products_of_another_merchant_or_of_live_are_not_seen(api, live_api, other_merchant):
    define(api, PRO)
    assert data_of(live_api.get(PRODUCTS)) == []
    assert data_of(Api(other_merchant.secret_test).get(PRODUCTS)) == []
    # The same slug in live is a different product.
    assert define(live_api, PRO)["id"] != data_of(api.get(PRODUCTS))[0]["id"]


def test_a_retried_definition_with_an_idempotency_key_replays(api):
    first = api.post(PRODUCTS, PRO, headers={"Idempotency-Key": "p-1"})
    again = api.post(PRODUCTS, PRO, headers={"Idempotency-Key": "p-1"})
    assert again.headers["Idempotent-Replayed"] == "true"
    assert data_of(again, 201)["id"] == data_of(first, 201)["id"]
