"""Writes of the gateways app. Billing calls these and gets dataclasses back (gateways.outcomes)."""
