"""Admin base: a merchant's staff see and change only their merchant's rows."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.http import Http404

from cynco.tenancy import Scope


def staff_merchant_id(request) -> str | None:
    """The merchant a staff user works for (None for superusers, who see everything)."""
    if request.user.is_superuser:
        return None
    staff = getattr(request.user, "merchant_staff", None)
    return staff.merchant_id if staff else ""


def report_choice(request, *, has_data=None):
    """For admin report pages: (merchants the user may pick, the picked merchant or None, the
    picked environment) from `?merchant=` and `?environment=`.

    Without `?merchant=` the first merchant is shown. Without `?environment=` the page opens on
    live, unless live is empty and test is not (`has_data(scope)` says whether a scope has
    anything to report): a first look at a demo, which is all test, shows its figures."""
    from cynco.models import Environment, Merchant

    merchants = Merchant.objects.all()
    own = staff_merchant_id(request)
    if own is not None:
        merchants = merchants.filter(pk=own)
    merchant = merchants.filter(pk=request.GET.get("merchant")).first() or merchants.first()
    environment = request.GET.get("environment")
    if environment not in Environment.values:
        environment = Environment.LIVE
        if (merchant is not None and has_data is not None
                and not has_data(Scope(merchant.pk, Environment.LIVE))
                and has_data(Scope(merchant.pk, Environment.TEST))):
            environment = Environment.TEST
    return merchants, merchant, environment


class ScopedHistory:
    """History pages (django-simple-history's list, its `/history/<n>/` detail and revert) scoped
    to the staff user's merchant.

    simple-history looks a row up in the admin's queryset and, when it is not there, falls back to
    the row's history records, which are not scoped: that fallback showed another merchant's rows
    to staff. Here the history records themselves are filtered by `history_scope_field` (the
    merchant column the historical model copies), so a row of another merchant has no history
    (404) and a deleted row of one's own merchant still shows its history."""

    history_scope_field = "merchant_id"

    def get_history_queryset(self, request, history_manager, pk_name, object_id):
        records = super().get_history_queryset(request, history_manager, pk_name, object_id)
        merchant_id = staff_merchant_id(request)
        if merchant_id is None:
            return records
        return records.filter(**{self.history_scope_field: merchant_id})

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        model = self.model
        history = getattr(model, model._meta.simple_history_manager_attribute)
        pk_name = model._meta.pk.attname
        records = self.get_history_queryset(request, history, pk_name, unquote(object_id))
        if not records.filter(history_id=version_id).exists():
            raise Http404
        return super().history_form_view(request, object_id, version_id, extra_context)


class MerchantScopedAdmin(ScopedHistory, admin.ModelAdmin):
    """For models with a `merchant` field. Staff without a merchant see nothing, including in
    history pages and in the choices of foreign keys to other merchants' rows."""

    merchant_field = "merchant"

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        merchant_id = staff_merchant_id(request)
        if merchant_id is None:
            return queryset
        return queryset.filter(**{f"{self.merchant_field}_id": merchant_id})

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        choices = _scoped_choices(db_field, request)
        if choices is not None and "queryset" not in kwargs:
            kwargs["queryset"] = choices
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        choices = _scoped_choices(db_field, request)
        if choices is not None and "queryset" not in kwargs:
            kwargs["queryset"] = choices
        return super().formfield_for_manytomany(db_field, request, **kwargs)

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


def _scoped_choices(db_field, request):
    """The rows a staff user may pick for a relation: their merchant's only, when the related
    model belongs to merchants (None leaves Django's default)."""
    merchant_id = staff_merchant_id(request)
    related = db_field.remote_field.model
    if merchant_id is None:
        return None
    names = {field.name for field in related._meta.get_fields()}
    if related._meta.label == "cynco.Merchant":
        return related._default_manager.filter(pk=merchant_id)
    if "merchant" in names:
        return related._default_manager.filter(merchant_id=merchant_id)
    return None
