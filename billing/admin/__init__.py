"""Billing's operator console, one module per area (Django imports this package at start-up)."""

from billing.admin import audit, catalog, customers, webhooks  # noqa: F401
