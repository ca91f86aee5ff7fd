"""`/coupons`: a merchant creates, lists, reads, updates and archives coupons; customers
validate codes from the browser."""

from datetime import timedelta

import pytest
from django.utils import timezone

from billing.models import Coupon, Customer, Product
from billing.services.coupons import coupon_redeem
from billing.services.audit import SYSTEM
from cynco import clock
from cynco.tenancy import Scope
from tests.billing.catalog import CUSTOMERS, ENTERPRISE, PRO, define
from tests.factories import Api, data_of, error_of

pytestmark = pytest.mark.django_db

COUPONS = "/api/v1/pay/coupons"
VALIDATE = "/api/v1/pay/coupons/validate"
SAVE20 = {"code": "SAVE20", "name": "20% off", "type": "percentage", "value": 20,
          "duration": "once"}
COUPON_KEYS = {"id", "code", "name", "type", "value", "duration", "durationMonths",
               "redemptionCount", "maxRedemptions", "maxRedemptionsPerCustomer", "minimumAmount",
               "productIds", "customerId", "status", "validFrom", "validUntil", "metadata",
               "createdAt", "updatedAt"}


def create(api, body=SAVE20, status=201) -> dict:
    return data_of(api.post(COUPONS, body), status)


def validate(api, code="SAVE20", customer="user_1", product="pro", amount=2000) -> dict:
    return data_of(api.post(VALIDATE, {"code": code, "customer": customer, "product": product,
                                       "amount": amount}))


def fields_of(response) -> list[str]:
    assert response.status_code == 422, response.content[:500]
    error = error_of(response)
    assert error["code"] == "VALIDATION_ERROR"
    return [detail["field"] for detail in error["details"]]


def iso(moment) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def test_a_merchant_creates_save20_and_gets_the_client_coupon_shape(api):
    coupon = create(api)
    assert set(coupon) == COUPON_KEYS
    assert coupon["id"].startswith("pcpn_")
    assert (coupon["code"], coupon["type"], coupon["value"], coupon["duration"]) == (
        "SAVE20", "percentage", 20, "once")
    assert (coupon["redemptionCount"], coupon["maxRedemptions"],
            coupon["maxRedemptionsPerCustomer"], coupon["status"]) == (0, None, 1, "active")
    assert coupon["productIds"] == [] and coupon["metadata"] == {}
    assert data_of(api.get(f"{COUPONS}/{coupon['id']}")) == coupon


def test_save20_on_2000_gives_400_off_and_1600_to_pay(api, public_api):
    define(api, PRO)
    create(api)
    expected = {"valid": True, "discountAmount": 400, "finalAmount": 1600,
                "couponType": "percentage", "duration": "once"}
    assert validate(api) == expected
    # The browser's publishable key may validate too (useValidateCoupon), in any case.
    assert validate(public_api, code="save20") == expected


def test_a_fixed_coupon_never_takes_more_than_the_amount(api):
    define(api, PRO)
    create(api, {"code": "TENNER", "type": "fixed", "value": 1000, "duration": "forever"})
    assert validate(api, code="TENNER", amount=600)["finalAmount"] == 0
    assert validate(api, code="TENNER", amount=2500)["discountAmount"] == 1000


def test_a_trial_extension_takes_nothing_off(api):
    define(api, PRO)
    create(api, {"code": "EXTRA7", "type": "trial_extension", "value": 7, "duration": "once"})
    assert validate(api, code="EXTRA7") == {
        "valid": True, "discountAmount": 0, "finalAmount": 2000,
        "couponType": "trial_extension", "duration": "once"}


def test_a_three_month_coupon_remembers_its_months(api):
    coupon = create(api, {**SAVE20, "duration": "repeating", "durationMonths": 3})
    assert (coupon["duration"], coupon["durationMonths"]) == ("repeating", 3)


def test_why_a_code_does_not_apply_is_told_in_words(api):
    pro, enterprise = define(api, PRO), define(api, ENTERPRISE)
    now = timezone.now()
    create(api, {**SAVE20, "code": "LATER", "validFrom": iso(now + timedelta(days=1))})
    create(api, {**SAVE20, "code": "EXPIRED", "validFrom": iso(now - timedelta(days=9)),
                 "validUntil": iso(now + timedelta(seconds=1))})
    Coupon.objects.filter(code="EXPIRED").update(valid_until=now - timedelta(days=1))
    create(api, {**SAVE20, "code": "PROONLY", "productIds": [pro["id"]]})
    create(api, {**SAVE20, "code": "BIGSPEND", "minimumAmount": 5000})
    old = create(api, {**SAVE20, "code": "OLD"})
    api.delete(f"{COUPONS}/{old['id']}")
    cases = {
        "NOPE": "Coupon not found",
        "OLD": "Coupon is no longer active",
        "LATER": "Coupon is not valid yet",
        "EXPIRED": "Coupon has expired",
        "BIGSPEND": "Amount is below the coupon's minimum of 5000",
    }
    for code, message in cases.items():
        assert validate(api, code=code) == {"valid": False, "message": message}, code
    assert validate(api, code="PROONLY", product=enterprise["slug"]) == {
        "valid": False, "message": "Coupon does not apply to this product"}
    assert validate(api, code="PROONLY", product=pro["id"])["valid"] is True
    assert validate(api, code="BIGSPEND", amount=5000)["valid"] is True
    assert validate(api, code="PROONLY", product="nope") == {
        "valid": False, "message": "Product not found"}


def test_a_customer_not_created_yet_may_validate_a_code(api):
    define(api, PRO)
    create(api)
    assert validate(api, customer="visitor_who_has_not_signed_up")["valid"] is True


def test_codes_are_unique_in_any_case(api, live_api):
    create(api)
    response = api.post(COUPONS, {**SAVE20, "code": "save20"})
    assert response.status_code == 409
    assert error_of(response)["details"] == [
        {"field": "code", "message": "A coupon with code 'save20' already exists"}]
    create(live_api)  # live is another world


def test_the_list_is_newest_first_and_paginated(api):
    for code in ("A1", "B2", "C3"):
        create(api, {**SAVE20, "code": code})
    response = api.get(COUPONS + "?limit=2")
    assert [c["code"] for c in data_of(response)] == ["C3", "B2"]
    assert response.json()["pagination"] == {"total": 3, "limit": 2, "offset": 0}


def test_a_merchant_updates_name_limits_window_and_metadata(api):
    coupon = create(api, {**SAVE20, "maxRedemptions": 10})
    until = iso(timezone.now() + timedelta(days=30))
    changed = data_of(api.patch(f"{COUPONS}/{coupon['id']}", {
        "name": "Launch", "maxRedemptions": None, "maxRedemptionsPerCustomer": 3,
        "validUntil": until, "metadata": {"campaign": "launch"}}))
    assert (changed["name"], changed["maxRedemptions"], changed["maxRedemptionsPerCustomer"],
            changed["metadata"]) == ("Launch", None, 3, {"campaign": "launch"})
    assert changed["validUntil"].startswith(until[:19])
    cleared = data_of(api.patch(f"{COUPONS}/{coupon['id']}", {"validUntil": None}))
    assert cleared["validUntil"] is None and cleared["name"] == "Launch"


def test_terms_of_a_coupon_cannot_be_patched(api):
    coupon = create(api)
    assert fields_of(api.patch(f"{COUPONS}/{coupon['id']}", {"value": 50, "code": "X"})) == [
        "code", "value"]
    assert data_of(api.get(f"{COUPONS}/{coupon['id']}"))["value"] == 20


def test_the_limit_cannot_drop_below_redemptions_made(api):
    coupon = create(api, {**SAVE20, "maxRedemptions": 10})
    Coupon.objects.filter(pk=coupon["id"]).update(times_redeemed=4)
    assert fields_of(api.patch(f"{COUPONS}/{coupon['id']}", {"maxRedemptions": 3})) == [
        "maxRedemptions"]
    assert data_of(api.patch(f"{COUPONS}/{coupon['id']}", {"maxRedemptions": 4}))[
        "maxRedemptions"] == 4


def test_old_clients_archive_with_patch_and_new_ones_with_delete(api):
    define(api, PRO)
    old_way = create(api, {**SAVE20, "code": "OLDWAY"})
    archived = data_of(api.patch(f"{COUPONS}/{old_way['id']}", {"status": "archived"}))
    assert archived["status"] == "archived" and archived["id"] == old_way["id"]
    new_way = create(api)
    assert data_of(api.delete(f"{COUPONS}/{new_way['id']}")) == {"archived": True}
    assert data_of(api.delete(f"{COUPONS}/{new_way['id']}")) == {"archived": True}
    assert data_of(api.get(f"{COUPONS}/{new_way['id']}"))["status"] == "archived"
    assert validate(api)["valid"] is False
    # An archived coupon can be brought back.
    data_of(api.patch(f"{COUPONS}/{new_way['id']}", {"status": "active"}))
    assert validate(api)["valid"] is True


def _with(**changes):
    return {**SAVE20, **changes}


def _without(name):
    return {k: v for k, v in SAVE20.items() if k != name}


@pytest.mark.parametrize(
    "body, field",
    [
        (_without("code"), "code"),
        (_without("type"), "type"),
        (_without("value"), "value"),
        (_without("duration"), "duration"),
        (_with(code=20), "code"),
        (_with(code="SAVE 20"), "code"),
        (_with(code=""), "code"),
        (_with(code="x" * 65), "code"),
        (_with(name=5), "name"),
        (_with(type="bogo"), "type"),
        (_with(value="20"), "value"),
        (_with(value=12.5), "value"),
        (_with(value=0), "value"),
        (_with(value=101), "value"),
        (_with(type="trial_extension", value=731), "value"),
        (_with(duration="weekly"), "duration"),
        (_with(duration="repeating"), "durationMonths"),
        (_with(durationMonths=3), "durationMonths"),
        (_with(duration="repeating", durationMonths=0), "durationMonths"),
        (_with(duration="repeating", durationMonths="3"), "durationMonths"),
        (_with(maxRedemptions=0), "maxRedemptions"),
        (_with(maxRedemptions=True), "maxRedemptions"),
        (_with(maxRedemptionsPerCustomer=0), "maxRedemptionsPerCustomer"),
        (_with(maxRedemptionsPerCustomer=None), "maxRedemptionsPerCustomer"),
        (_with(minimumAmount=-1), "minimumAmount"),
        (_with(productIds="pro"), "productIds"),
        (_with(productIds=[7]), "productIds[0]"),
        (_with(productIds=["no_such_product"]), "productIds[0]"),
        (_with(validFrom="next tuesday"), "validFrom"),
        (_with(validUntil=1767225600), "validUntil"),
        (_with(validFrom="2030-01-02T00:00:00Z", validUntil="2030-01-01T00:00:00Z"),
         "validUntil"),
        (_with(metadata=[1]), "metadata"),
    ],
)
def test_bad_coupons_are_422_naming_the_field_and_write_nothing(api, body, field):
    assert field in fields_of(api.post(COUPONS, body))
    assert not Coupon.objects.exists()


@pytest.mark.parametrize(
    "body, field",
    [
        ({"status": "deleted"}, "status"),
        ({"status": 1}, "status"),
        ({"name": ["x"]}, "name"),
        ({"maxRedemptions": -1}, "maxRedemptions"),
        ({"maxRedemptions": "5"}, "maxRedemptions"),
        ({"maxRedemptionsPerCustomer": None}, "maxRedemptionsPerCustomer"),
        ({"validUntil": "soon"}, "validUntil"),
        ({"metadata": "x"}, "metadata"),
        ({"type": "fixed"}, "type"),
    ],
)
def test_bad_updates_are_422_and_change_nothing(api, body, field):
    coupon = create(api, {**SAVE20, "maxRedemptions": 10})
    assert field in fields_of(api.patch(f"{COUPONS}/{coupon['id']}", body))
    assert data_of(api.get(f"{COUPONS}/{coupon['id']}")) == coupon


@pytest.mark.parametrize(
    "body, field",
    [
        ({"customer": "user_1", "product": "pro", "amount": 2000}, "code"),
        ({"code": "SAVE20", "product": "pro", "amount": 2000}, "customer"),
        ({"code": "SAVE20", "customer": "user_1", "amount": 2000}, "product"),
        ({"code": "SAVE20", "customer": "user_1", "product": "pro"}, "amount"),
        ({"code": 20, "customer": "user_1", "product": "pro", "amount": 2000}, "code"),
        ({"code": "SAVE20", "customer": 1, "product": "pro", "amount": 2000}, "customer"),
        ({"code": "SAVE20", "customer": "user_1", "product": {"slug": "pro"}, "amount": 2000},
         "product"),
        ({"code": "SAVE20", "customer": "user_1", "product": "pro", "amount": "2000"}, "amount"),
        ({"code": "SAVE20", "customer": "user_1", "product": "pro", "amount": 19.99}, "amount"),
        ({"code": "SAVE20", "customer": "user_1", "product": "pro", "amount": -1}, "amount"),
    ],
)
def test_bad_validations_are_422(api, public_api, body, field):
    assert field in fields_of(api.post(VALIDATE, body))
    assert field in fields_of(public_api.post(VALIDATE, body))


def test_managing_coupons_needs_a_secret_key_and_every_call_a_key(api, public_api):
    coupon = create(api)
    path = f"{COUPONS}/{coupon['id']}"
    for response in (public_api.post(COUPONS, {**SAVE20, "code": "PK"}), public_api.get(COUPONS),
                     public_api.get(path), public_api.patch(path, {"name": "x"}),
                     public_api.delete(path)):
        assert response.status_code == 403 and error_of(response)["code"] == "FORBIDDEN"
    nobody = Api(None)
    for response in (nobody.post(COUPONS, SAVE20), nobody.get(COUPONS), nobody.get(path),
                     nobody.patch(path, {"name": "x"}), nobody.delete(path),
                     nobody.post(VALIDATE, {"code": "SAVE20", "customer": "u", "product": "p",
                                            "amount": 1})):
        assert response.status_code == 401 and error_of(response)["code"] == "UNAUTHORIZED"
    assert data_of(api.get(path))["status"] == "active"


def test_another_merchants_or_lives_coupons_are_404_and_invisible(api, live_api, other_merchant):
    define(api, PRO)
    coupon = create(api)
    path = f"{COUPONS}/{coupon['id']}"
    for stranger in (live_api, Api(other_merchant.secret_test)):
        assert stranger.get(path).status_code == 404
        assert stranger.patch(path, {"name": "mine"}).status_code == 404
        assert stranger.delete(path).status_code == 404
        assert data_of(stranger.get(COUPONS)) == []
        define(stranger, PRO)
        assert validate(stranger) == {"valid": False, "message": "Coupon not found"}
    assert data_of(api.get(path)) == coupon


def test_another_merchants_product_cannot_restrict_a_coupon(api, other_merchant):
    theirs = define(Api(other_merchant.secret_test), PRO)
    assert fields_of(api.post(COUPONS, {**SAVE20, "productIds": [theirs["id"]]})) == [
        "productIds[0]"]


def test_a_customer_who_used_the_coupon_is_told_so(api):
    define(api, PRO)
    create(api)
    data_of(api.post(CUSTOMERS, {"customerId": "user_1"}), 201)
    customer = Customer.objects.get(external_id="user_1")
    scope = Scope(customer.merchant_id, "test")
    coupon_redeem(scope=scope, code="SAVE20", customer=customer,
                  product=Product.objects.get(slug="pro"), amount=2000, at=clock.now(scope),
                  actor=SYSTEM)
    assert validate(api) == {"valid": False, "message": "Coupon was already used by this customer"}
    assert validate(api, customer="user_2")["valid"] is True
    assert data_of(api.get(COUPONS))[0]["redemptionCount"] == 1


def test_a_retried_creation_with_an_idempotency_key_replays(api):
    first = api.post(COUPONS, SAVE20, headers={"Idempotency-Key": "c-1"})
    again = api.post(COUPONS, SAVE20, headers={"Idempotency-Key": "c-1"})
    assert again.headers["Idempotent-Replayed"] == "true"
    assert data_of(again, 201)["id"] == data_of(first, 201)["id"]
    assert Coupon.objects.count() == 1


def test_every_change_to_a_coupon_is_in_the_audit_trail(api, merchant):
    coupon = create(api)
    api.patch(f"{COUPONS}/{coupon['id']}", {"name": "Spring"})
    api.delete(f"{COUPONS}/{coupon['id']}")
    events = data_of(api.get("/api/v1/pay/audit?limit=10"))
    mine = [e for e in events if e["resourceId"] == coupon["id"]]
    assert sorted(e["event"] for e in mine) == [
        "coupon.archived", "coupon.created", "coupon.updated"]
    assert {(e["actorType"], e["resourceType"]) for e in mine} == {("api", "coupon")}
