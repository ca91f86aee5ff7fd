"""Billing's operator console, one module per area (Django imports this package at start-up)."""

from billing.admin import (  # noqa: F401
    audit,
    billing_emails,
    catalog,
    coupons,
    customers,
    invoice_identity,
    invoices,
    subscriptions,
    unapplied_payments,
    webhooks,
)
