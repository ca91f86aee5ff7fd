"""The operator console for billing: catalog, customers, subscriptions."""

from billing.admin import catalog, customers  # noqa: F401
