"""CustomerState and SubscriptionSummary (API.md, Customers, products, plans)."""

from __future__ import annotations

from rest_framework import serializers as s

from billing.models import Subscription
from cynco.models import Environment


def usage_number(**kwargs) -> s.FloatField:
    """A usage amount: a JSON number with at most 6 decimal places."""
    return s.FloatField(**kwargs)


class SubscriptionSummaryShape(s.Serializer):
    id = s.CharField()
    status = s.ChoiceField(choices=Subscription.Status.choices)
    productSlug = s.CharField()
    currentPeriodStart = s.DateTimeField()
    currentPeriodEnd = s.DateTimeField(allow_null=True)
    cancelAtPeriodEnd = s.BooleanField()
    quantity = s.IntegerField()


class SubscriptionRowShape(SubscriptionSummaryShape):
    """A SubscriptionSummary in `GET /subscriptions`, with its customer's id (`pcm_…`)."""

    customerId = s.CharField()


class FeatureBalanceShape(s.Serializer):
    """A metered feature's standing this period; `limit` and `granted` are null when
    unlimited."""

    balance = usage_number(allow_null=True, help_text="granted - usage; may be negative.")
    remaining = usage_number(allow_null=True, help_text="The same as balance.")
    limit = usage_number(allow_null=True)
    unlimited = s.BooleanField()
    granted = usage_number(allow_null=True)
    usage = usage_number()


class PaymentMethodShape(s.Serializer):
    id = s.CharField()
    type = s.CharField(help_text="card")
    last4 = s.CharField(allow_null=True)
    brand = s.CharField(allow_null=True)
    expiresAt = s.CharField(allow_null=True, help_text="YYYY-MM")


class CustomerStateShape(s.Serializer):
    """A customer with what they hold now. For a publishable key `name`, `email`, `metadata`
    and `paymentMethods` are left out."""

    id = s.CharField(help_text="The server's id (`pcm_…`).")
    externalId = s.CharField(help_text="The merchant's own id of the customer.")
    environment = s.ChoiceField(choices=Environment.choices)
    name = s.CharField(allow_null=True, required=False)
    email = s.CharField(allow_null=True, required=False)
    metadata = s.DictField(required=False)
    subscriptions = SubscriptionSummaryShape(many=True)
    balances = s.DictField(child=FeatureBalanceShape(), help_text="By feature slug.")
    flags = s.DictField(child=s.BooleanField(), help_text="By feature slug: may it be used.")
    paymentMethods = PaymentMethodShape(many=True, required=False)
    createdAt = s.DateTimeField()
