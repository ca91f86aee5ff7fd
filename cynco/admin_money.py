"""Money and quantities in the operator console: admin columns and read-only fields that print
amounts with the one formatter (cynco.money), so a list, a detail page and an inline read alike.
"""

from __future__ import annotations

from django.contrib import admin

from cynco.money import show_money, show_quantity


def _follow(obj, path: str):
    """The value at an attribute path ("price.currency"), None when a step is empty."""
    for name in path.split("."):
        obj = getattr(obj, name, None) if obj is not None else None
    return obj


def money_field(name: str, *, currency: str = "currency", description: str | None = None):
    """An admin column or read-only field for the minor-unit amount `name`, in the currency at
    `currency` (an attribute path, e.g. "price.currency").

    Returned as a staticmethod so it can sit on a ModelAdmin or inline under its own name (and
    be listed in `fields`, `readonly_fields` and `list_display` by that name)."""

    @admin.display(description=description or name.replace("_", " "), ordering=name)
    def show(obj):
        return show_money(_follow(obj, name), _follow(obj, currency))

    show.__name__ = f"{name}_money"
    return staticmethod(show)


def quantity_field(name: str, *, description: str | None = None):
    """An admin column or read-only field for the decimal quantity `name` (see show_quantity)."""

    @admin.display(description=description or name.replace("_", " "), ordering=name)
    def show(obj):
        return show_quantity(_follow(obj, name))

    show.__name__ = f"{name}_quantity"
    return staticmethod(show)
