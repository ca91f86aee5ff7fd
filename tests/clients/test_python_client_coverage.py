"""The client covers the API: every operation of the server's OpenAPI document has a method,
and every field the document gives a result has an attribute on the client's model. Also: the
sync client is exactly what the generator makes of the async one."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from cynco_billing import models
from drf_spectacular.generators import SchemaGenerator

CLIENT = Path(__file__).resolve().parents[2] / "clients" / "python"
SOURCES = sorted((CLIENT / "src" / "cynco_billing" / "_async").glob("*.py"))
CALL = re.compile(r'Call\(\s*"(GET|POST|PUT|PATCH|DELETE)",\s*f?"(/api/v1/[^"]+)"')
# Client model → the document's component for the same result.
MODELS = {
    "CheckResult": "CheckResult", "TrackResult": "TrackResult",
    "TrackBatchResult": "TrackBatchResult", "TrackBatchItem": "TrackBatchItem",
    "TrackBatchError": "TrackBatchError",
    "FinalizeLockResult": "FinalizeResult", "Balance": "Balance", "Entity": "Entity",
    "SpendCapStatus": "SpendCapStatus", "ProductSpendCap": "ProductSpendCap",
    "UsageAggregation": "UsageTimeline", "UsagePeriod": "UsagePeriod",
    "UsageTotal": "UsageTotal", "SubscriptionSummary": "SubscriptionRow",
    "FeatureBalance": "FeatureBalance", "PaymentMethod": "PaymentMethod",
    "CustomerState": "CustomerState", "Tier": "Tier", "Price": "Price", "Feature": "Feature",
    "Product": "Product", "ProductVersion": "ProductVersion",
    "ProductVersions": "ProductVersions", "Migrated": "Migrated", "PlanPrice": "PlanPrice",
    "PlanFeature": "PlanFeature", "CustomerEligibility": "Eligibility", "Plan": "Plan",
    "PreviewLine": "PreviewLine", "Proration": "Proration", "Trial": "Trial",
    "PreviewResult": "PreviewResult", "PricingTablePrice": "TablePrice",
    "PricingTableFeature": "TableFeature", "PricingTableEligibility": "TableEligibility",
    "PricingTablePlan": "PricingTablePlan", "PlanGroup": "PlanGroup",
    "PricingTable": "PricingTable", "RequiredAction": "RequiredAction",
    "SubscribeResult": "SubscribeResult", "CancelResult": "CancelResult",
    "UpdatedSubscription": "UpdatedSubscription",
    "UpdateSubscriptionResult": "SubscriptionUpdateResult", "InvoiceLine": "InvoiceLine",
    "Invoice": "Invoice", "CreditNote": "CreditNote", "CreditNoteLine": "CreditNoteLine",
    "PortalLink": "PortalLink", "BillingSettings": "BillingSettings",
    "InvoiceIdentity": "InvoiceIdentity", "EmailSettings": "EmailSettings", "CheckoutCompletion": "CheckoutCompletion",
    "TestClock": "TestClock", "ClockRan": "ClockRan", "ClockAdvance": "ClockAdvance",
    "Coupon": "Coupon", "CouponValidation": "CouponValidation",
    "RewardProgram": "RewardProgram", "ReferralCode": "ReferralCode",
    "RewardGiven": "RewardGiven", "ReferralRedemption": "ReferralRedemption",
    "WebhookEndpoint": "NewWebhookEndpoint", "ApiKey": "NewApiKey", "AuditEvent": "AuditEvent",
    "Analytics": "Analytics", "RevenueMonth": "RevenueMonth", "Account": "Account",
    "EntrySource": "EntrySource", "JournalLine": "JournalLine", "JournalEntry": "JournalEntry",
    "TrialBalanceRow": "TrialBalanceRow", "TrialBalanceBook": "TrialBalanceBook",
    "TrialBalance": "TrialBalance", "StatementRow": "StatementRow",
    "StatementSection": "StatementSection", "EquitySection": "EquitySection",
    "BalanceSheetBook": "BalanceSheetBook", "BalanceSheet": "BalanceSheet",
    "ProfitLossRow": "ProfitLossRow", "ProfitLossSection": "ProfitLossSection",
    "ProfitLossBook": "ProfitLossBook", "ProfitLoss": "ProfitLoss", "Deleted": "Deleted",
    "Archived": "Archived", "Revoked": "Revoked",
}


@pytest.fixture(scope="module")
def document():
    return SchemaGenerator().get_schema(request=None, public=True)


def operations_called_by_the_client() -> set[tuple[str, str]]:
    found = set()
    for source in SOURCES:
        for method, path in CALL.findall(source.read_text()):
            found.add((method, re.sub(r"\{[^}]*\}", "{}", path)))
    return found


def test_every_operation_of_the_api_has_a_client_method(document):
    operations = {(method.upper(), re.sub(r"\{[^}]*\}", "{}", path))
                  for path, item in document["paths"].items()
                  for method in item if method in ("get", "post", "put", "patch", "delete")}
    called = operations_called_by_the_client()
    assert operations - called == set()
    assert called - operations == set()


def test_every_field_of_every_result_has_an_attribute_on_the_clients_model(document):
    components = document["components"]["schemas"]
    missing = {}
    for name, component in MODELS.items():
        model = getattr(models, name)
        aliases = {field.alias or field_name for field_name, field in model.model_fields.items()}
        absent = set(components[component].get("properties", {})) - aliases
        if absent:
            missing[name] = sorted(absent)
    assert missing == {}
    exported = {name for name in models.__all__ if name != "Model"}
    assert exported - set(MODELS) == set(), "a model without its component in MODELS"


def test_the_sync_client_is_generated_from_the_async_one():
    checked = subprocess.run([sys.executable, str(CLIENT / "scripts" / "generate_sync.py"),
                              "--check"], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_package_is_typed():
    assert (CLIENT / "src" / "cynco_billing" / "py.typed").exists()
