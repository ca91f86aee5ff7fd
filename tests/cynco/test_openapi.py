"""The OpenAPI document at /api/schema/ describes the real API, so clients can be generated
from it: it is generated without a warning, is valid OpenAPI, names every operation, body and
answer, and the answers of a day in a merchant's life match what it says, key for key."""

from __future__ import annotations

import json
import re
import time

import pytest
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

from cynco.api.openapi_parts import TAGS
from tests.billing.catalog import PRO, define
from tests.billing.subscribing import complete_path, customer, main_catalog, subscribe
from tests.cynco.openapi_conformance import CheckedApi, Conformance
from tests.factories import Api, data_of, error_of

pytestmark = pytest.mark.django_db
WRITES = ("post", "put", "patch", "delete")
# check, track and balances/finalize live in billing/api/usage.py, routed by
# billing/api/entitlement_urls.py; both are being rewritten on another branch, so their
# operations are not described yet (generic envelope, no body). Annotate them after the merge.
NOT_DESCRIBED_YET: set[str] = set()
URL = "https://example.com/done"


def generate() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


@pytest.fixture(scope="module")
def document(django_db_blocker) -> dict:
    with django_db_blocker.unblock():
        return generate()


def operations(document: dict):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield method, path, operation


def test_the_document_is_generated_without_errors_or_warnings_and_is_valid():
    GENERATOR_STATS.reset()
    document = generate()
    assert not GENERATOR_STATS._error_cache, dict(GENERATOR_STATS._error_cache)
    assert not GENERATOR_STATS._warn_cache, dict(GENERATOR_STATS._warn_cache)
    validate_schema(document)
    assert document["components"]["securitySchemes"]["ApiKey"]["scheme"] == "bearer"
    refs = set(re.findall(r'"\$ref": "#/components/(\w+)/(\w+)"', json.dumps(document)))
    assert len(refs) > 150
    for kind, name in refs:  # client generators need every one to resolve
        assert name in document["components"][kind], (kind, name)


def test_every_write_has_a_body_and_every_operation_a_typed_success(document):
    for method, path, operation in operations(document):
        assert path.startswith("/api/v1/"), path
        if path in NOT_DESCRIBED_YET:
            continue
        if method in ("post", "put", "patch"):
            assert "requestBody" in operation, (method, path)
        successes = [r for status, r in operation["responses"].items() if status[0] == "2"]
        assert successes, (method, path)
        for response in successes:
            schema = response["content"]["application/json"]["schema"]
            refs = [schema] if "$ref" in schema else schema["anyOf"]
            assert all(ref["$ref"] != "#/components/schemas/Success" for ref in refs), path


def test_operations_have_unique_readable_ids_one_area_tag_and_the_key_scheme(document):
    ids = [operation["operationId"] for _, _, operation in operations(document)]
    assert len(ids) == len(set(ids)) >= 55
    assert all(re.fullmatch(r"[a-z]+(_[a-z]+)*", i) for i in ids), ids
    assert {"customers_list", "customer_create", "invoice_get", "subscribe", "coupons_list",
            "ledger_trial_balance_get"} <= set(ids)
    areas = {name for name, _ in TAGS}
    for method, path, operation in operations(document):
        assert len(operation["tags"]) == 1 and operation["tags"][0] in areas, path
        assert operation["security"] == [{"ApiKey": []}], path
        if method in WRITES:
            assert "Idempotency-Key" in [p["name"] for p in operation["parameters"]], path


def test_errors_share_the_envelope_and_each_status_names_its_codes(document):
    responses = document["components"]["responses"]
    for status in ("401", "403", "404", "409", "422", "429"):
        assert any(r.get("$ref", "").rsplit("/", 1)[1] in responses
                   for _, _, op in operations(document)
                   for s, r in op["responses"].items() if s == status), status
    assert {r["content"]["application/json"]["schema"]["$ref"] for r in responses.values()} == {
        "#/components/schemas/Error"}
    error = document["components"]["schemas"]["Error"]
    assert error["required"] == ["success", "error"]
    assert error["properties"]["error"]["required"] == ["code", "message", "details"]


def test_the_requests_name_the_input_serializers_fields(document):
    schemas = document["components"]["schemas"]
    body = document["paths"]["/api/v1/pay/subscriptions/update"]["post"]["requestBody"]
    reference, *rules = body["content"]["application/json"]["schema"]["allOf"]
    update = schemas[reference["$ref"].rsplit("/", 1)[1]]
    assert set(update["required"]) == {"customer", "product"}
    # Exactly one change per call, as the service checks it.
    assert {"oneOf": [{"required": ["cancelAction"]}, {"required": ["pauseAction"]},
                      {"required": ["quantity"]}]} in rules
    assert {"cancelAction", "pauseAction", "quantity", "prorationBehavior"} <= set(
        update["properties"])
    customer_ref = schemas["SubscribeInput"]["properties"]["customer"]["oneOf"]
    assert customer_ref[1] == {"$ref": "#/components/schemas/InlineCustomer"}
    assert schemas["TierInput"]["properties"]["upTo"]["type"] == "number"
    entity_delete = document["paths"]["/api/v1/pay/entities"]["delete"]
    assert "requestBody" in entity_delete  # the client sends DELETE /entities with a body
    params = {p["name"] for p in document["paths"]["/api/v1/ledger/reports/profit-loss"]["get"]
              ["parameters"]}
    assert {"from", "to"} <= params


@pytest.mark.django_db(transaction=True)  # payments run outside the request's transaction
def test_a_merchants_day_answers_exactly_what_the_document_says(document, merchant):
    conformance = Conformance(document)
    api = CheckedApi(Api(merchant.secret_test), conformance)
    public = CheckedApi(Api(merchant.publishable_test), conformance)

    main_catalog(api)
    old_pro = data_of(api.get("/api/v1/pay/products/versions?productId=pro"))["versions"][0]
    define(api, {**PRO, "description": "More messages"})
    api.post("/api/v1/pay/products/versions", {"productId": "pro", "versionId": old_pro["id"]})
    api.get("/api/v1/pay/products")
    for name in ("user_1", "user_2", "user_9"):
        customer(api, name)
    data_of(api.post("/api/v1/pay/customers", {"customerId": "user_1"}), 200)
    api.put("/api/v1/pay/customers", {"customerId": "user_1", "name": "Ann", "email": "a@x.io"})
    api.delete("/api/v1/pay/customers?id=user_9")
    api.get("/api/v1/pay/plans?customer=user_1")
    api.get("/api/v1/pay/components/pricing-table?customer=user_1")
    public.get("/api/v1/pay/components/pricing-table")

    api.post("/api/v1/pay/coupons", {"code": "SAVE20", "type": "percentage", "value": 20,
                                     "duration": "once", "productIds": ["enterprise"]})
    coupon = data_of(api.get("/api/v1/pay/coupons"))[0]
    api.get(f"/api/v1/pay/coupons/{coupon['id']}")
    api.patch(f"/api/v1/pay/coupons/{coupon['id']}", {"name": "Twenty off"})
    public.post("/api/v1/pay/coupons/validate", {"code": "SAVE20", "customer": "user_1",
                                                 "product": "enterprise", "amount": 2000})
    public.post("/api/v1/pay/coupons/validate", {"code": "NOPE", "customer": "user_1",
                                                 "product": "pro", "amount": 2000})

    checkout = subscribe(api, "pro")
    api.post(complete_path(checkout["checkoutId"]), {"card": "4242424242424242"})
    api.post("/api/v1/pay/preview", {"customer": "user_1", "product": "enterprise",
                                     "couponCode": "SAVE20"})
    api.post("/api/v1/pay/subscribe", {"customer": "user_1", "product": "enterprise"})
    public.post("/api/v1/pay/subscribe", {"customer": "user_2", "product": "pro",
                                          "successUrl": URL})
    api.post("/api/v1/pay/multi-attach", {"customer": "user_2", "products": [{"product": "pro"}],
                                          "successUrl": URL, "cancelUrl": URL})
    api.post("/api/v1/pay/subscriptions/preview-update",
             {"customer": "user_1", "product": "enterprise", "quantity": 2})
    api.post("/api/v1/pay/subscriptions/update",
             {"customer": "user_1", "product": "enterprise", "cancelAction":
              "cancel_end_of_cycle"})
    api.get("/api/v1/pay/subscriptions?status=active,trialing")
    api.post("/api/v1/pay/cancel", {"customer": "user_2"})
    invoice = data_of(api.get("/api/v1/pay/invoices?customer=user_1"))[0]
    api.get(f"/api/v1/pay/invoices/{invoice['id']}")
    public.get("/api/v1/pay/customers?id=user_1")
    api.get("/api/v1/pay/customers?id=user_1")
    api.get("/api/v1/pay/customers")

    api.post("/api/v1/pay/balances/create", {"customer": "user_2", "feature": "messages",
                                             "grantedBalance": 10})
    api.post("/api/v1/pay/balances/update", {"customer": "user_2", "feature": "messages",
                                             "usage": 2.5})
    api.post("/api/v1/pay/entities", {"customer": "user_1", "entityId": "seat_1",
                                      "featureId": "messages", "name": "Seat"})
    api.get("/api/v1/pay/entities?customer=user_1")
    api.delete("/api/v1/pay/entities", {"customer": "user_1", "entityId": "seat_1"})
    api.post("/api/v1/pay/spend-caps", {"customer": "user_1", "feature": "messages",
                                        "capCents": 500})
    api.post("/api/v1/pay/spend-caps", {"scope": "product", "productId": "pro",
                                        "featureId": "messages", "capCents": None})
    api.get("/api/v1/pay/spend-caps?customer=user_1&feature=messages")
    api.post("/api/v1/pay/events", {"customer": "user_2", "feature": "messages"})
    public.post("/api/v1/pay/check", {"customer": "user_1", "feature": "premium_support"})
    api.post("/api/v1/pay/check", {"customer": "user_1", "feature": "messages",
                                   "sendEvent": True})
    held = data_of(api.post("/api/v1/pay/check", {
        "customer": "user_1", "feature": "messages", "requiredBalance": 2,
        "lock": {"enabled": True, "expiresAt": int(time.time() * 1000) + 60_000}}))
    api.post("/api/v1/pay/balances/finalize", {"lockId": held["lockId"], "action": "confirm"})
    api.post("/api/v1/pay/track", {"customer": "user_1", "feature": "messages", "amount": 3,
                                   "idempotencyKey": "openapi-1"})
    api.post("/api/v1/pay/track", {"customer": "user_1", "feature": "messages", "amount": 3,
                                   "idempotencyKey": "openapi-1"})
    api.post("/api/v1/pay/track/batch", {"events": [
        {"customer": "user_1", "feature": "messages", "idempotencyKey": "openapi-1"},
        {"customer": "user_1", "feature": "messages", "amount": 2},
        {"customer": "nobody", "feature": "messages"}]})

    program = data_of(api.post("/api/v1/pay/rewards", {"name": "Friends", "rewardType": "credit",
                                                       "rewardValue": 500}), 201)
    api.post("/api/v1/pay/rewards?action=code", {"programId": program["id"],
                                                 "customer": "user_1", "code": "ANN"})
    api.post("/api/v1/pay/rewards?action=redeem", {"programId": program["id"], "code": "ANN",
                                                   "customer": "user_2"})
    api.get("/api/v1/pay/rewards")
    api.get("/api/v1/pay/rewards?customer=user_1")

    hook = data_of(api.post("/api/v1/pay/webhooks", {"url": URL}), 201)
    api.get("/api/v1/pay/webhooks")
    api.delete(f"/api/v1/pay/webhooks?id={hook['id']}")
    key = data_of(api.post("/api/v1/pay/api-keys", {"name": "Browser", "type": "publishable",
                                                    "scopes": ["track"]}), 201)
    api.get("/api/v1/pay/api-keys")
    api.delete(f"/api/v1/pay/api-keys?id={key['id']}")
    api.delete(f"/api/v1/pay/coupons/{coupon['id']}")

    api.get("/api/v1/pay/test/clock")
    api.post("/api/v1/pay/test/clock/advance", {"seconds": 32 * 24 * 3600})
    api.get("/api/v1/pay/analytics")
    api.get("/api/v1/pay/analytics?view=timeline&months=3")
    api.get("/api/v1/pay/portal?customer=user_1")
    api.get("/api/v1/pay/audit?limit=20")
    api.patch("/api/v1/pay/billing-settings", {"invoice": {"legalName": "Acme Sdn Bhd"},
                                               "emails": {"kinds": {"trial_ending": False}}})
    api.get("/api/v1/pay/billing-settings")
    api.post("/api/v1/pay/customers", {"customerId": "user_3"})
    paid = subscribe(api, "pro", "user_3")
    api.post(complete_path(paid["checkoutId"]), {"card": "4242424242424242"})
    api.post("/api/v1/pay/subscriptions/update",
             {"customer": "user_3", "product": "pro", "cancelAction": "cancel_immediately"})
    note = data_of(api.get("/api/v1/pay/credit-notes?customer=user_3&type=refund"))[0]
    api.get(f"/api/v1/pay/credit-notes/{note['id']}")

    api.get("/api/v1/ledger/accounts")
    entry = data_of(api.get("/api/v1/ledger/journal-entries?source=invoice"))[0]
    api.get(f"/api/v1/ledger/journal-entries/{entry['id']}")
    api.get("/api/v1/ledger/reports/trial-balance")
    api.get("/api/v1/ledger/reports/balance-sheet")
    api.get("/api/v1/ledger/reports/profit-loss?from=2000-01-01")

    described = {(method, path) for method, path, _ in operations(document)
                 if path not in NOT_DESCRIBED_YET}
    assert described - conformance.answered == set()


def test_error_answers_match_the_shared_error_envelope(document, merchant):
    conformance = Conformance(document)
    api = CheckedApi(Api(merchant.secret_test), conformance)
    assert error_of(CheckedApi(Api(None), conformance).get("/api/v1/pay/products"))[
        "code"] == "UNAUTHORIZED"
    public = CheckedApi(Api(merchant.publishable_test), conformance)
    assert error_of(public.get("/api/v1/pay/products"))["code"] == "FORBIDDEN"
    assert error_of(api.get("/api/v1/pay/invoices/pinv_missing"))["code"] == "NOT_FOUND"
    invalid = error_of(api.post("/api/v1/pay/customers", {"customerId": 12}))
    assert invalid["details"] == [{"field": "customerId", "message": "Not a valid string."}]
    api.post("/api/v1/pay/coupons", {"code": "ONCE", "type": "fixed", "value": 100,
                                     "duration": "once"})
    assert error_of(api.post("/api/v1/pay/coupons", {"code": "once", "type": "fixed",
                                                     "value": 100, "duration": "once"}))[
        "code"] == "CONFLICT"
