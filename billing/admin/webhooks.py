"""Outgoing webhooks in the console: endpoints, events, deliveries with their attempts, resend."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html

from billing.models import OutgoingEvent, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from billing.services.audit import SYSTEM
from billing.services.webhook_deliveries import webhook_deliveries_resend
from billing.services.webhooks import (
    clean_endpoint_url,
    clean_event_types,
    webhook_endpoint_create,
    webhook_endpoint_delete,
)
from cynco.admin_scoping import MerchantScopedAdmin
from cynco.errors import ValidationFailed
from cynco.tenancy import Scope


class WebhookEndpointForm(forms.ModelForm):
    """The API's rules for a URL and event types, as form errors."""

    class Meta:
        model = WebhookEndpoint
        fields = "__all__"

    def clean(self):
        values = super().clean()
        if not self.instance._state.adding:
            return values  # only `status` changes after creation
        environment = values.get("environment") or "live"
        checks = (("url", lambda url: clean_endpoint_url(url, environment)),
                  ("events", clean_event_types))
        for name, check in checks:
            if name in values and (name == "events" or values[name]):
                try:
                    values[name] = check(values[name])
                except ValidationFailed as error:
                    self.add_error(name, "; ".join(d["message"] for d in error.details))
        return values


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(MerchantScopedAdmin):
    """Endpoints are created through the service, so the secret is generated (and shown once,
    in the success message) exactly as through the API; deleting keeps the row as `deleted`."""

    form = WebhookEndpointForm
    list_display = ("url", "id", "status", "events", "environment", "created_at")
    list_filter = ("status", "environment")
    search_fields = ("id", "url")
    fields = ("merchant", "environment", "url", "events", "status", "created_at", "deleted_at")
    readonly_fields = ("created_at", "deleted_at")
    actions = ["delete_endpoints"]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            fields += ["merchant", "environment", "url", "events"]
        return fields

    def has_delete_permission(self, request, obj=None):
        return False  # the "delete" action marks endpoints deleted and keeps their history

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)  # only `status` is editable
            return
        created = webhook_endpoint_create(
            scope=Scope(obj.merchant_id, obj.environment),
            url=obj.url,
            events=obj.events,
            actor=SYSTEM,
        )
        obj.pk, obj.secret, obj.created_at = created.pk, created.secret, created.created_at
        obj._state.adding = False
        messages.warning(request, f"Signing secret (copy it now, it is not shown again): "
                                  f"{created.secret}")

    @admin.action(description="Delete selected endpoints (pending deliveries are canceled)")
    def delete_endpoints(self, request, queryset):
        count = 0
        for endpoint in queryset.exclude(status=WebhookEndpoint.Status.DELETED):
            webhook_endpoint_delete(
                scope=Scope(endpoint.merchant_id, endpoint.environment),
                endpoint_id=endpoint.pk,
                actor=SYSTEM,
            )
            count += 1
        messages.success(request, f"Deleted {count} endpoint(s).")


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    fields = ("number", "attempted_at", "outcome", "response_code", "latency_ms", "error",
              "response_body")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


def resend(modeladmin, request, deliveries):
    queued = webhook_deliveries_resend(delivery_ids=list(deliveries.values_list("pk", flat=True)))
    skipped = deliveries.count() - queued
    note = f" ({skipped} skipped: endpoint no longer active)" if skipped else ""
    messages.success(request, f"Queued {queued} delivery(ies) again{note}.")


resend.short_description = "Resend selected deliveries"


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(MerchantScopedAdmin):
    list_display = ("event", "event_type", "endpoint_url", "status", "attempt_count",
                    "last_response_code", "next_attempt_at", "delivered_at", "environment")
    list_filter = ("status", "environment", "event__type")
    search_fields = ("id", "event__id", "endpoint__url", "endpoint__id")
    list_select_related = ("event", "endpoint")
    readonly_fields = ("id", "merchant", "environment", "event", "endpoint", "status",
                       "attempt_count", "next_attempt_at", "retry_from", "last_response_code",
                       "created_at", "delivered_at")
    inlines = [WebhookAttemptInline]
    actions = [resend]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="type", ordering="event__type")
    def event_type(self, delivery):
        return delivery.event.type

    @admin.display(description="endpoint", ordering="endpoint__url")
    def endpoint_url(self, delivery):
        return delivery.endpoint.url


class WebhookDeliveryInline(admin.TabularInline):
    model = WebhookDelivery
    fields = ("endpoint", "status", "attempt_count", "last_response_code", "next_attempt_at",
              "delivered_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(OutgoingEvent)
class OutgoingEventAdmin(MerchantScopedAdmin):
    list_display = ("id", "type", "created_at", "environment")
    list_filter = ("type", "environment")
    search_fields = ("id",)
    date_hierarchy = "created_at"
    fields = ("id", "merchant", "environment", "type", "created_at", "body")
    readonly_fields = fields
    inlines = [WebhookDeliveryInline]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="body (as sent)")
    def body(self, event):
        return format_html("<pre>{}</pre>", json.dumps(json.loads(event.payload), indent=2))
