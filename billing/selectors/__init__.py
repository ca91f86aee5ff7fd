"""Reads of billing data, one module per area (HackSoft selectors)."""
