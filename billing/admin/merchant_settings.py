"""The console's pages for a merchant's one-row settings (email settings, invoice identity):
one row per merchant, the merchant fixed once saved, and every save through the settings'
own service (so the console and the API validate and audit alike)."""

from __future__ import annotations

from typing import Callable

from billing.services.audit import SYSTEM
from cynco.admin_scoping import MerchantScopedAdmin, staff_merchant_id
from cynco.tenancy import Scope


class MerchantSettingsAdmin(MerchantScopedAdmin):
    """Subclasses set `update` to the settings' service: `(scope=, changes=, actor=) -> row`,
    and their form's `changes` to what was changed."""

    update: Callable

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return fields + ["merchant"] if obj is not None and "merchant" not in fields else fields

    def has_add_permission(self, request):
        own = staff_merchant_id(request)
        return super().has_add_permission(request) and not (
            own and self.model.objects.filter(merchant_id=own).exists())

    def save_model(self, request, obj, form, change):
        merchant_id = staff_merchant_id(request) or obj.merchant_id
        saved = type(self).update(scope=Scope(merchant_id, "live"), changes=form.changes,
                                  actor=SYSTEM)
        obj.pk, obj._state.adding = saved.pk, False
