"""The portal's saved cards: remove one, or make one the default, through the gateways' own
services (payment_method_detach; payment_method_save with make_default, which finds the saved
card by its token). Adding a card goes through a gateway's page and is not offered here yet."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from billing.models import Customer
from cynco.tenancy import Scope
from gateways.base import SavedPaymentMethod
from gateways.models import PaymentMethod
from gateways.services.checkout import payment_method_detach, payment_method_save
from portal.views import link_problem, portal_link


@require_POST
@portal_link
def portal_payment_method_change(request, token: str, *, scope: Scope, customer: Customer,
                                 method_id: str):
    """`action` remove|default on one of the link's customer's active cards (another
    customer's card, or an unknown action, is 404)."""
    method = PaymentMethod.objects.for_scope(scope).filter(
        pk=method_id, customer_reference=customer.id,
        status=PaymentMethod.Status.ACTIVE).first()
    action = request.POST.get("action", "")
    if method is None or action not in ("remove", "default"):
        return link_problem(request, expired=False)
    label = f"{(method.brand or method.type).title()} •••• {method.last4}"
    if action == "remove":
        payment_method_detach(scope=scope, payment_method_id=method.pk)
        messages.success(request, f"{label} was removed.")
    else:
        payment_method_save(
            scope=scope, customer_reference=customer.id, gateway=method.gateway,
            gateway_account_id=method.gateway_account_id, make_default=True,
            method=SavedPaymentMethod(token=method.token, type=method.type, brand=method.brand,
                                      last4=method.last4, exp_month=method.exp_month,
                                      exp_year=method.exp_year))
        messages.success(request, f"{label} is now your default card.")
    return HttpResponseRedirect(reverse("portal-home", args=[token]))
