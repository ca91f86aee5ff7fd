"""Admin base: a merchant's staff see and change only their merchant's rows."""

from __future__ import annotations

from django.contrib import admin


def staff_merchant_id(request) -> str | None:
    """The merchant a staff user works for (None for superusers, who see everything)."""
    if request.user.is_superuser:
        return None
    staff = getattr(request.user, "merchant_staff", None)
    return staff.merchant_id if staff else ""


def report_choice(request):
    """For admin report pages: (merchants the user may pick, the picked merchant or None, the
    picked environment) from `?merchant=` and `?environment=` (default: first merchant, live)."""
    from cynco.models import Environment, Merchant

    merchants = Merchant.objects.all()
    own = staff_merchant_id(request)
    if own is not None:
        merchants = merchants.filter(pk=own)
    merchant = merchants.filter(pk=request.GET.get("merchant")).first() or merchants.first()
    environment = request.GET.get("environment")
    if environment not in Environment.values:
        environment = Environment.LIVE
    return merchants, merchant, environment


class MerchantScopedAdmin(admin.ModelAdmin):
    """For models with a `merchant` field. Staff without a merchant see nothing."""

    merchant_field = "merchant"

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        merchant_id = staff_merchant_id(request)
        if merchant_id is None:
            return queryset
        return queryset.filter(**{f"{self.merchant_field}_id": merchant_id})

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if staff_merchant_id(request) is not None and self.merchant_field not in fields:
            fields.append(self.merchant_field)
        return fields

    def save_model(self, request, obj, form, change):
        merchant_id = staff_merchant_id(request)
        if merchant_id:
            setattr(obj, f"{self.merchant_field}_id", merchant_id)
        super().save_model(request, obj, form, change)
