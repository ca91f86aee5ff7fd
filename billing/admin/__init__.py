"""Billing's operator console, one module per area (Django imports this package at start-up)."""

from billing.admin import (  # noqa: F401
    audit,
    catalog,
    coupons,
    customers,
    invoices,
    subscriptions,
    unapplied_payments,
    webhooks,
)
