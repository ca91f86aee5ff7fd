"""The customer page's actions: each opens a page that says exactly what will happen (the
service's own preview where it has one), and only the confirmation (a POST) runs the same
service as the API and writes an audit row naming the staff user.

GET never changes anything: the action's form is filled and checked by GET, which shows the
preview; the preview's "Confirm" button POSTs the same values, checked again."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Callable

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from billing.api.portal import portal_url
from billing.models import Feature, Invoice, Product, Subscription, WebhookDelivery
from billing.selectors.subscriptions import subscribe_preview
from billing.services.audit import SYSTEM, audit_record
from billing.services.invoice_refunds import invoice_refund, invoice_refundable
from billing.services.manual_balances import balance_grant_create
from billing.services.subscribe import SubscribeRequest
from billing.services.subscribe_payment import subscribe_and_pay
from billing.services.subscription_updates import UpdateRequest, subscription_update, update_plan
from billing.services.webhook_deliveries import webhook_deliveries_resend
from cynco import clock
from cynco.errors import ApiError
from cynco.money import show_money
from cynco.tenancy import Scope

Status = Subscription.Status


def scope_of(customer) -> Scope:
    return Scope(customer.merchant_id, customer.environment)


def _subscriptions(customer, statuses):
    return Subscription.objects.filter(customer=customer, status__in=statuses).select_related(
        "product", "price")


class SubscriptionForm(forms.Form):
    subscription = forms.ModelChoiceField(queryset=Subscription.objects.none())

    def __init__(self, *args, customer, statuses, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["subscription"].queryset = _subscriptions(customer, statuses)
        self.fields["subscription"].label_from_instance = (
            lambda s: f"{s.product.name} ({s.get_status_display()})")


class GrantForm(forms.Form):
    feature = forms.ModelChoiceField(queryset=Feature.objects.none())
    amount = forms.DecimalField(min_value=Decimal("0.000001"), max_digits=20, decimal_places=6,
                                help_text="Units of the feature, on top of the plans'.")
    reset_interval = forms.ChoiceField(choices=[("one_off", "once (kept until used)"),
                                                ("month", "every month"),
                                                ("year", "every year")])

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["feature"].queryset = Feature.objects.filter(
            merchant_id=customer.merchant_id, environment=customer.environment,
            ).exclude(type=Feature.Type.BOOLEAN).order_by("name")
        self.fields["feature"].label_from_instance = lambda f: f.name or f.slug


class ChangePlanForm(forms.Form):
    product = forms.ModelChoiceField(queryset=Product.objects.none(), label="New plan")

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        held = _subscriptions(customer, (Status.ACTIVE, Status.TRIALING, Status.PAST_DUE))
        groups = {s.product.group_slug for s in held if not s.product.is_add_on}
        self.fields["product"].queryset = (
            Product.objects.filter(merchant_id=customer.merchant_id,
                                   environment=customer.environment, group_slug__in=groups,
                                   is_add_on=False, status=Product.Status.ACTIVE)
            .exclude(pk__in=[s.product_id for s in held]).order_by("sort_order", "name"))
        self.fields["product"].label_from_instance = lambda p: p.name


class DeliveryForm(forms.Form):
    delivery = forms.ModelChoiceField(queryset=WebhookDelivery.objects.none())

    def __init__(self, *args, customer, deliveries, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["delivery"].queryset = WebhookDelivery.objects.filter(
            pk__in=[d.pk for d in deliveries]).select_related("event", "endpoint")
        self.fields["delivery"].label_from_instance = (
            lambda d: f"{d.event.type} to {d.endpoint.url} ({d.status})")


class RefundForm(forms.Form):
    invoice = forms.ModelChoiceField(queryset=Invoice.objects.none())
    amount = forms.IntegerField(
        required=False, min_value=1,
        help_text="Minor units (2000 is 20.00). Leave empty to refund all that is left.")
    reason = forms.CharField(required=False, max_length=200)

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["invoice"].queryset = Invoice.objects.filter(
            customer=customer, status=Invoice.Status.PAID).order_by("-created_at")
        self.fields["invoice"].label_from_instance = (
            lambda i: f"{i.number or i.pk}: paid {show_money(i.amount_paid, i.currency)}")

    def clean(self):
        values = super().clean()
        invoice, amount = values.get("invoice"), values.get("amount")
        if invoice is not None:
            left = invoice_refundable(invoice)
            if left <= 0:
                self.add_error("invoice", "Nothing is left to refund on this invoice.")
            elif amount is not None and amount > left:
                self.add_error("amount", f"At most {show_money(left, invoice.currency)} "
                                         f"({left}) is left to refund.")
        return values


class NoForm(forms.Form):
    def __init__(self, *args, **kwargs):
        kwargs.pop("customer", None)
        super().__init__(*args, **kwargs)


@dataclass(frozen=True)
class ConsoleAction:
    title: str
    form: Callable
    preview: Callable  # (customer, values) -> list of (label, text)
    run: Callable  # (customer, values) -> (message, audit details)
    in_transaction: bool = True  # False: the service commits before calling a gateway


def _update_action(cancel_action=None, pause_action=None, statuses=()):
    def form(data, customer, **_):
        return SubscriptionForm(data, customer=customer, statuses=statuses)

    def request():
        return UpdateRequest(cancel_action=cancel_action, pause_action=pause_action)

    def preview(customer, values):
        subscription = values["subscription"]
        plan = update_plan(subscription, request(), clock.now(scope_of(customer)))
        rows = [("Subscription", subscription.product.name), ("Result", plan.action)]
        if plan.effective_at:
            rows.append(("Takes effect", f"{plan.effective_at:%Y-%m-%d %H:%M} UTC"))
        if plan.refund_amount is not None:
            currency = subscription.price.currency if subscription.price else ""
            rows.append(("Refund to the customer", show_money(plan.refund_amount, currency)))
        return rows

    def run(customer, values):
        subscription = values["subscription"]
        _, plan = subscription_update(
            scope=scope_of(customer), customer=customer, product=subscription.product,
            request=request(), at=clock.now(scope_of(customer)), actor=SYSTEM)
        return (f"{subscription.product.name}: {plan.action.replace('_', ' ')}.",
                {"subscriptionId": subscription.pk, "result": plan.action})

    return form, preview, run


def _grant_preview(customer, values):
    return [("Feature", values["feature"].name or values["feature"].slug),
            ("Units granted", f"{values['amount'].normalize():f}"),
            ("Renews", dict(GrantForm.base_fields["reset_interval"].choices)[
                values["reset_interval"]])]


def _grant_run(customer, values):
    balance_grant_create(scope=scope_of(customer), customer=customer.external_id,
                         feature=values["feature"].slug, granted=values["amount"],
                         reset_interval=values["reset_interval"])
    return (f"Granted {values['amount'].normalize():f} {values['feature'].slug}.",
            {"feature": values["feature"].slug, "granted": f"{values['amount'].normalize():f}",
             "resetInterval": values["reset_interval"]})


def _plan_preview(customer, values):
    product = values["product"]
    result = subscribe_preview(scope_of(customer), customer, product, None, 1,
                               clock.now(scope_of(customer)))
    price = product.prices.filter(version_id=product.latest_version_id).first()
    currency = price.currency if price else ""
    rows = [("From", result["currentPlan"] or "—"), ("To", product.name),
            ("Kind of change", result["scenario"])]
    for line in result["lineItems"]:
        rows.append((line["title"] + (f" ({line['description']})" if line.get("description")
                                      else ""), show_money(line["amount"], currency)))
    if result["scenario"] in ("new", "upgrade"):
        rows.append(("Charged now to the saved card", show_money(result["amountDue"], currency)))
    else:
        rows.append(("When", "at the end of the current period; nothing is charged now"))
    return rows


def _plan_run(customer, values):
    product = values["product"]
    outcome = subscribe_and_pay(scope=scope_of(customer), customer=customer,
                                request=SubscribeRequest(product=product),
                                at=clock.now(scope_of(customer)), actor=SYSTEM)
    return (f"Plan change to {product.name}: {outcome.action}.",
            {"product": product.slug, "result": outcome.action})


def _refund_preview(customer, values):
    invoice = values["invoice"]
    left = invoice_refundable(invoice)
    amount = values["amount"] or left
    rows = [("Invoice", invoice.number or invoice.pk),
            ("Paid", show_money(invoice.amount_paid, invoice.currency)),
            ("Left to refund", show_money(left, invoice.currency)),
            ("Refund now, to the card that paid", show_money(amount, invoice.currency))]
    if invoice.tax_amount:
        rows.append(("Tax given back (credit note)", "its share of the invoice's "
                     f"{show_money(invoice.tax_amount, invoice.currency)} of tax"))
    return rows


def _refund_run(customer, values):
    invoice = values["invoice"]
    refund = invoice_refund(scope=scope_of(customer), invoice_id=invoice.pk,
                            amount=values["amount"], reason=values["reason"],
                            at=clock.now(scope_of(customer)), actor=SYSTEM)
    return (f"Refund of {show_money(refund.amount, refund.currency)} on "
            f"{invoice.number or invoice.pk} sent to the gateway.",
            {"invoiceId": invoice.pk, "refundId": refund.pk, "amount": refund.amount})


def _resend_run(customer, values):
    delivery = values["delivery"]
    queued = webhook_deliveries_resend(delivery_ids=[delivery.pk])
    note = "queued again" if queued else "not queued (its endpoint is no longer active)"
    return f"Delivery of {delivery.event.type}: {note}.", {"deliveryId": delivery.pk,
                                                           "queued": queued}


def _action_table() -> dict[str, ConsoleAction]:
    cancel_end = _update_action("cancel_end_of_cycle", statuses=(
        Status.ACTIVE, Status.TRIALING, Status.PAST_DUE, Status.PAUSED))
    cancel_now = _update_action("cancel_immediately", statuses=(
        Status.ACTIVE, Status.TRIALING, Status.PAST_DUE, Status.PAUSED))
    uncancel = _update_action("uncancel", statuses=(Status.ACTIVE, Status.TRIALING,
                                                    Status.PAST_DUE, Status.PAUSED))
    pause = _update_action(pause_action="pause", statuses=(Status.ACTIVE, Status.TRIALING))
    resume = _update_action(pause_action="resume", statuses=(Status.PAUSED,))
    return {
        "grant": ConsoleAction("Grant units of a feature",
                               lambda data, customer, **_: GrantForm(data, customer=customer),
                               _grant_preview, _grant_run),
        "cancel_at_period_end": ConsoleAction("Cancel at period end", *cancel_end),
        "cancel_now": ConsoleAction("Cancel now (refund the unused part)", *cancel_now),
        "uncancel": ConsoleAction("Undo a scheduled cancellation", *uncancel),
        "pause": ConsoleAction("Pause a subscription", *pause),
        "resume": ConsoleAction("Resume a paused subscription", *resume),
        "change_plan": ConsoleAction(
            "Change plan", lambda data, customer, **_: ChangePlanForm(data, customer=customer),
            _plan_preview, _plan_run, in_transaction=False),
        "refund_invoice": ConsoleAction(
            "Refund an invoice (all or part)",
            lambda data, customer, **_: RefundForm(data, customer=customer),
            _refund_preview, _refund_run),
        "resend_webhook": ConsoleAction(
            "Resend a webhook", lambda data, customer, deliveries, **_: DeliveryForm(
                data, customer=customer, deliveries=deliveries),
            lambda customer, values: [("Event", values["delivery"].event.type),
                                      ("Endpoint", values["delivery"].endpoint.url),
                                      ("Status now", values["delivery"].status)],
            _resend_run, in_transaction=False),
        "portal": ConsoleAction(
            "Open the portal as the customer", lambda data, **_: NoForm(data or {}),
            lambda customer, values: [("Customer", str(customer)),
                                      ("What happens", "a signed portal link (valid one hour) "
                                                       "opens; the visit is audited")],
            lambda customer, values: ("Portal opened.", {})),
    }


ACTIONS = _action_table()


def customer_action_view(model_admin, request, object_id: str, action: str, deliveries):
    """GET: the action's form, then (once valid) its preview with a Confirm button.
    POST: run it, audit it, and go back to the customer page (or, for the portal, to it)."""
    customer = model_admin.get_object(request, object_id)
    chosen = ACTIONS.get(action)
    if customer is None or chosen is None:
        raise Http404
    if not model_admin.has_change_permission(request, customer):
        raise Http404
    data = request.POST if request.method == "POST" else (request.GET or None)
    form = chosen.form(data, customer=customer, deliveries=deliveries)
    back = reverse("admin:billing_customer_change", args=[customer.pk])
    preview, error = None, ""
    if form.is_bound and form.is_valid():
        try:
            if request.method == "POST":
                return _confirmed(request, customer, action, chosen, form.cleaned_data, back)
            preview = chosen.preview(customer, form.cleaned_data)
        except ApiError as refusal:
            error = refusal.message
    context = {
        **model_admin.admin_site.each_context(request),
        "title": chosen.title, "opts": model_admin.model._meta, "original": customer,
        "customer": customer, "form": form, "preview": preview, "error": error,
        "back": back, "action": action,
    }
    return TemplateResponse(request, "admin/billing/customer/action.html", context)


def _confirmed(request, customer, action, chosen, values, back):
    staff = request.user.get_username()

    def run_and_audit():
        message, details = chosen.run(customer, values)
        audit_record(scope=scope_of(customer), event=f"console.{action}", actor=SYSTEM,
                     customer_id=customer.id, subscription_id=details.get("subscriptionId"),
                     resource_type="customer", resource_id=customer.id,
                     details={"staff": staff, **details})
        return message

    if chosen.in_transaction:
        with transaction.atomic():
            message = run_and_audit()
    else:
        message = run_and_audit()
    if action == "portal":
        return HttpResponseRedirect(portal_url(customer))
    messages.success(request, message)
    return HttpResponseRedirect(back)
