"""Customers in the admin (search by id, external id or email). A customer's page is the one
screen an operator needs (billing.admin.customer_page), with its actions
(billing.admin.customer_actions)."""

from django.contrib import admin
from django.urls import path
from simple_history.admin import SimpleHistoryAdmin

from billing.admin.customer_actions import ACTIONS, customer_action_view
from billing.admin.customer_page import customer_overview
from billing.models import Customer
from cynco.admin_scoping import MerchantScopedAdmin


@admin.register(Customer)
class CustomerAdmin(MerchantScopedAdmin, SimpleHistoryAdmin):
    list_display = ("external_id", "email", "name", "id", "environment", "created_at",
                    "deleted_at")
    list_filter = ("environment", ("deleted_at", admin.EmptyFieldListFilter))
    search_fields = ("id", "external_id", "email", "name")
    readonly_fields = ("id", "merchant", "environment", "external_id", "created_at",
                       "updated_at", "deleted_at")
    fields = readonly_fields[:4] + ("name", "email", "metadata") + readonly_fields[4:]
    change_form_template = "admin/billing/customer/change_form.html"

    def has_add_permission(self, request):
        return False  # customers come from the API (get-or-create on login)

    def get_urls(self):
        page = self.admin_site.admin_view(self.action_view)
        return [path("<path:object_id>/actions/<str:action>/", page,
                     name="billing_customer_action"), *super().get_urls()]

    def action_view(self, request, object_id, action):
        customer = self.get_object(request, object_id)
        deliveries = customer_overview(customer)["deliveries"] if customer else []
        return customer_action_view(self, request, object_id, action, deliveries)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        customer = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if customer is not None:
            extra["overview"] = customer_overview(customer)
            extra["environment"] = customer.environment
            if self.has_change_permission(request, customer):
                extra["customer_actions"] = [(name, a.title) for name, a in ACTIONS.items()]
        return super().change_view(request, object_id, form_url, extra)

