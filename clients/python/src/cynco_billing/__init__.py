"""Python client of the Cynco Billing API (`CyncoBilling`, `AsyncCyncoBilling`) and the
webhook verifier (`verify_webhook`). See README.md."""

from cynco_billing._async.client import AsyncCyncoBilling
from cynco_billing._sync.client import CyncoBilling
from cynco_billing._transport import NOT_GIVEN, VERSION, Page, RetryPolicy
from cynco_billing.errors import CyncoBillingError, ErrorDetail
from cynco_billing.inputs import (
    AttachItem,
    CarryOver,
    FeatureInput,
    FeatureQuantity,
    InlineCustomer,
    Lock,
    PriceInput,
    TierInput,
    TrackEvent,
)
from cynco_billing.track_buffer import TrackBuffer
from cynco_billing.webhooks import WebhookVerificationError, sign_webhook_payload, verify_webhook

__version__ = VERSION
__all__ = [
    "AsyncCyncoBilling", "AttachItem", "CarryOver", "CyncoBilling", "CyncoBillingError",
    "ErrorDetail", "FeatureInput", "FeatureQuantity", "InlineCustomer", "Lock", "NOT_GIVEN",
    "Page", "PriceInput", "RetryPolicy", "TierInput", "TrackBuffer", "TrackEvent", "WebhookVerificationError",
    "sign_webhook_payload", "verify_webhook",
]
