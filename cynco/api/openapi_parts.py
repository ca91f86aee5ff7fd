"""The shared pieces of the OpenAPI document (cynco.api.schema): area tags, the error
envelope and its responses, pagination, the Idempotency-Key header, component names, the
bearer key scheme and the schema of usage amounts."""

from __future__ import annotations

from drf_spectacular.extensions import (
    OpenApiAuthenticationExtension,
    OpenApiSerializerFieldExtension,
)
from drf_spectacular.utils import OpenApiParameter

from cynco.idempotency import KEY_PATTERN
from cynco.ids import IDENTIFIER_PATTERN

# (tag, description), in the order the browsable docs list them. A path's first segment after
# /api/v1/pay/ picks its tag from AREAS; every ledger path is "Ledger".
TAGS = [
    ("Subscriptions", "Subscribe, preview, change and cancel plans; list subscriptions."),
    ("Entitlements", "check and track usage, balances, balance locks, entities, spend caps "
                     "and usage history."),
    ("Customers", "Get-or-create, read, update and delete customers (CustomerState)."),
    ("Catalog", "Products (versioned), plans with the customer's eligibility, the pricing "
                "table."),
    ("Invoices", "Invoices with their lines and signed hosted pages."),
    ("Coupons", "Create, read, change, archive and validate coupons."),
    ("Rewards", "Referral programs, referral codes and redemptions."),
    ("Webhooks", "Endpoints that receive signed event deliveries."),
    ("API keys", "Create, list and revoke the merchant's keys."),
    ("Analytics", "MRR, ARR, churn and revenue over time."),
    ("Portal", "Signed links to the customer billing portal."),
    ("Audit", "The merchant's audit trail."),
    ("Billing settings", "The merchant's invoice identity and billing email settings."),
    ("Test helpers", "Sandbox checkouts and the test clock (test-mode keys only)."),
    ("Ledger", "The double-entry general ledger and its reports (secret keys only)."),
]
AREAS = {
    "subscribe": "Subscriptions", "multi-attach": "Subscriptions", "preview": "Subscriptions",
    "cancel": "Subscriptions", "subscriptions": "Subscriptions",
    "check": "Entitlements", "track": "Entitlements", "balances": "Entitlements",
    "entities": "Entitlements", "spend-caps": "Entitlements", "events": "Entitlements",
    "customers": "Customers",
    "products": "Catalog", "plans": "Catalog", "components": "Catalog",
    "invoices": "Invoices", "credit-notes": "Invoices", "coupons": "Coupons",
    "rewards": "Rewards", "webhooks": "Webhooks",
    "api-keys": "API keys", "analytics": "Analytics", "portal": "Portal", "audit": "Audit",
    "billing-settings": "Billing settings",
    "test": "Test helpers",
}

# Each error status: its shared response (components/responses) and what it means here
# (API.md, Transport). Every one answers the `Error` envelope.
ERROR_RESPONSES = {
    400: ("BadRequest", "BAD_REQUEST: malformed HTTP, a request line over 4,094 bytes or a "
                        "header over 8,190, refused before the API reads the request."),
    401: ("Unauthorized", "UNAUTHORIZED: the key is missing, malformed, unknown or revoked."),
    402: ("PaymentRequired", "LIMIT_EXCEEDED or PAYMENT_FAILED."),
    403: ("Forbidden", "FORBIDDEN: this key may not do this (a publishable key, a missing "
                       "scope, a live key on a test helper)."),
    404: ("NotFound", "NOT_FOUND, CUSTOMER_NOT_FOUND, FEATURE_NOT_FOUND or PRODUCT_NOT_FOUND."),
    409: ("Conflict", "CONFLICT (the object's state forbids it), IDEMPOTENCY_IN_PROGRESS (the "
                      "first request with this Idempotency-Key is still running; retry later) "
                      "or LOCK_ALREADY_FINALIZED."),
    410: ("Gone", "LOCK_EXPIRED."),
    413: ("PayloadTooLarge", "PAYLOAD_TOO_LARGE: the body is over 1 MiB."),
    422: ("ValidationError", "VALIDATION_ERROR (`details` names each bad field, query "
                             "parameter or header) or IDEMPOTENCY_KEY_REUSED (the same "
                             "Idempotency-Key with a different request)."),
    429: ("TooManyRequests", "CONCURRENT_REQUEST (another operation for the same customer "
                             "held its lock too long) or RATE_LIMITED. Safe to retry after a "
                             "short wait."),
}

# Component names of input serializers whose class names say too little on their own.
COMPONENT_NAMES = {
    "billing.api.subscription_input.UpdateInput": "SubscriptionUpdateInput",
    "billing.api.test_helpers.CompleteInput": "CheckoutCompleteInput",
    "billing.api.test_helpers.AdvanceInput": "ClockAdvanceInput",
    "billing.api.products.MigrateInput": "ProductVersionMigrateInput",
    "billing.api.rewards.ProgramInput": "RewardProgramInput",
    "billing.api.rewards.CodeInput": "ReferralCodeInput",
    "billing.api.rewards.RedeemInput": "ReferralRedeemInput",
    "billing.api.spend_caps.CustomerCapInput": "CustomerSpendCapInput",
    "billing.api.spend_caps.ProductCapInput": "ProductSpendCapInput",
    "billing.api.usage_events.EventsInput": "UsageEventsInput",
    "ledger.api.queries.EntriesQuery": "JournalEntriesQuery",
}

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key", location=OpenApiParameter.HEADER, required=False,
    type={"type": "string", "minLength": 1, "maxLength": 255, "pattern": KEY_PATTERN},
    description="1-255 characters. A replay with the same key and body answers the stored "
                "status and body (header `Idempotent-Replayed: true`) and does nothing else.",
)
PAGE_BOUNDS = {"limit": {"minimum": 1, "maximum": 100}, "offset": {"minimum": 0}}
PAGINATION = {
    "type": "object",
    "properties": {"total": {"type": "integer"}, "limit": {"type": "integer"},
                   "offset": {"type": "integer"}},
    "required": ["total", "limit", "offset"],
}
ERROR_ENVELOPE = {
    "type": "object",
    "properties": {
        "success": {"type": "boolean", "description": "Always false."},
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string", "description": "A stable code such as "
                         "VALIDATION_ERROR or CUSTOMER_NOT_FOUND; new codes may appear."},
                "message": {"type": "string"},
                "details": {"type": "array", "items": {
                    "type": "object",
                    "properties": {
                        "field": {"type": "string", "description": "Dotted path "
                                  "(`prices[0].tiers[2].upTo`), a query parameter, a header, "
                                  "or `body`."},
                        "message": {"type": "string"},
                    },
                    "required": ["field", "message"],
                }},
            },
            "required": ["code", "message", "details"],
        },
    },
    "required": ["success", "error"],
}


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """`Authorization: Bearer cp_…` (cynco.authentication.ApiKeyAuthentication)."""

    target_class = "cynco.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "cp_{sk|pk}_{live|test}_…",
            "description": (
                "An API key of one merchant and one environment (live or test). Secret keys "
                "(`cp_sk_live_…`, `cp_sk_test_…`) may call every endpoint and belong on the "
                "merchant's server. Publishable keys (`cp_pk_live_…`, `cp_pk_test_…`) are safe "
                "in a browser and may only call the operations that say so (check without "
                "sendEvent or lock, read one customer, plans, the pricing table, validate a "
                "coupon, subscribe to a checkout URL; track and portal with those scopes). "
                "Anything else is 403 FORBIDDEN for them."
            ),
        }


class UsageAmountSchema(OpenApiSerializerFieldExtension):
    """cynco.fields.UsageAmountField: a JSON number with at most 6 decimal places."""

    target_class = "cynco.fields.UsageAmountField"

    def map_serializer_field(self, auto_schema, direction):
        schema = {"type": "number", "description": "At most 6 decimal places."}
        if self.target.positive:
            schema.update(minimum=0, exclusiveMinimum=True)
        elif self.target.min_value is not None:
            schema["minimum"] = float(self.target.min_value)
        return schema


def _tighten_parameters(result: dict) -> None:
    """Every query, path and header parameter as the server checks it (cynco.api.views): a
    string is non-empty and follows the identifier rule (cynco.ids); `limit` is 1-100 and
    `offset` at least 0 (cynco.responses)."""
    for path in result["paths"].values():
        for operation in path.values():
            for parameter in operation.get("parameters", []):
                schema = parameter.setdefault("schema", {})
                if parameter["name"] in PAGE_BOUNDS:
                    schema.update(PAGE_BOUNDS[parameter["name"]])
                elif schema.get("type", "string") == "string" and not (
                        {"enum", "format"} & set(schema)):
                    schema.setdefault("minLength", 1)
                    schema.setdefault("pattern", IDENTIFIER_PATTERN)


def finish_document(result: dict, generator, request, public) -> dict:
    """Postprocessing hook: the tags in TAGS order, each with its description, the shared
    error responses that operations refer to, and parameters as strict as the server."""
    _tighten_parameters(result)
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    result.setdefault("components", {})["responses"] = {
        name: {"description": text, "content": error} for name, text in ERROR_RESPONSES.values()
    }
    used = {tag for path in result["paths"].values() for op in path.values()
            for tag in op.get("tags", [])}
    result["tags"] = [{"name": name, "description": text} for name, text in TAGS
                      if name in used]
    return result
