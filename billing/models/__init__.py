"""Billing records, one module per area; every model is imported here so Django finds it.

Areas add a line below (`from billing.models.<area> import *`, with `__all__` in the module).
"""
