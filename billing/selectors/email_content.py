"""What a billing email says: subject, plain text and HTML, from templates/emails/.

One function renders every message, the real ones when they are sent and the console's
previews (with sample figures), so a preview shows exactly what customers get. Links are made
at rendering time: the portal link of an email opens a fresh portal session for 7 days
(cynco.links, `portal_email`), the invoice link is the invoice's hosted page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.dateparse import parse_datetime

from billing import pricing
from billing.models import (
    CreditNote,
    Customer,
    EmailKind,
    EmailMessage,
    EmailSettings,
    Invoice,
    Subscription,
)
from billing.selectors.invoice_identity import identity_of
from billing.selectors.subscriptions import invoice_hosted_url
from cynco.links import LinkTarget, absolute_url, make_token
from cynco.models import Merchant
from cynco.money import format_money

SUBJECTS = {
    EmailKind.RECEIPT: "Receipt for your payment of {amount}",
    EmailKind.PAYMENT_FAILED: "Your payment of {amount} failed",
    EmailKind.ACTION_REQUIRED: "Confirm your payment of {amount}",
    EmailKind.TRIAL_ENDING: "Your {product} trial ends on {date}",
    EmailKind.RENEWAL_UPCOMING: "Your {product} plan renews on {date}",
    EmailKind.SUBSCRIPTION_CANCELED: "Your {product} subscription was canceled",
    EmailKind.REFUND_ISSUED: "Refund of {amount} issued",
}
TEST_PREFIX = "[TEST] "


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str
    from_name: str
    reply_to: str


def portal_email_url(*, merchant_id: str, environment: str, customer_id: str) -> str:
    """A link from an email into the customer's portal (valid 7 days)."""
    token = make_token(LinkTarget("portal_email", customer_id, merchant_id, environment))
    return absolute_url(reverse("portal-from-email", args=[token]))


def email_render(message: EmailMessage) -> RenderedEmail:
    """The message as it is sent now, with the merchant's current identity and settings."""
    merchant = Merchant.objects.get(pk=message.merchant_id)
    customer = Customer.objects.filter(pk=message.customer_id).first()
    facts = _facts(message, customer)
    return _render(merchant, message.kind, facts, customer_name=_name(customer),
                   is_test=message.is_test)


def email_preview(*, merchant: Merchant, kind: str) -> RenderedEmail:
    """What `kind` looks like for `merchant`, with sample figures and links that go nowhere
    harmful (the console shows it)."""
    when = datetime(2026, 1, 15, 9, 0)
    facts = {
        "amount": format_money(2000, merchant.default_currency), "product": "Pro",
        "date": when, "next_retry": when + timedelta(days=3), "reason": "Card was declined",
        "invoice_number": "INV-000123", "invoice_url": absolute_url("/invoices/preview"),
        "portal_url": absolute_url("/portal/preview"),
        "action_url": absolute_url("/checkout/preview"),
        "credit_note_number": "CN-000045", "credit_note_tax": "",
    }
    return _render(merchant, kind, facts, customer_name="Aisha Rahman", is_test=False)


def _render(merchant: Merchant, kind: str, facts: dict, *, customer_name: str,
            is_test: bool) -> RenderedEmail:
    identity = identity_of(merchant)
    chosen = EmailSettings.objects.filter(merchant=merchant).first()
    subject = SUBJECTS[kind].format(
        amount=facts.get("amount", ""), product=facts.get("product", "your"),
        date=facts["date"].strftime("%-d %b %Y") if facts.get("date") else "")
    if is_test:
        subject = TEST_PREFIX + subject
    context = {**facts, "kind": kind, "identity": identity, "customer_name": customer_name,
               "is_test": is_test, "subject": subject}
    return RenderedEmail(
        subject=subject,
        text=render_to_string(f"emails/{kind}.txt", context),
        html=render_to_string(f"emails/{kind}.html", context),
        from_name=(chosen.sender_name if chosen and chosen.sender_name else identity.name),
        reply_to=chosen.reply_to if chosen else "",
    )


def _name(customer: Customer | None) -> str:
    return (customer.name or "") if customer is not None else ""


def _facts(message: EmailMessage, customer: Customer | None) -> dict:
    """The figures and links of one message, read from its context and the rows it names."""
    data = message.context
    facts: dict = {"reason": data.get("reason") or ""}
    if data.get("amount") is not None and data.get("currency"):
        facts["amount"] = format_money(int(data["amount"]), data["currency"])
    invoice = Invoice.objects.filter(pk=data.get("invoiceId") or "-",
                                     merchant_id=message.merchant_id).first()
    if invoice is not None:
        facts["invoice_number"] = invoice.number or invoice.id
        facts["invoice_url"] = invoice_hosted_url(invoice)
    subscription = Subscription.objects.select_related("product", "price").filter(
        pk=data.get("subscriptionId") or data.get("id") or "-",
        merchant_id=message.merchant_id).first()
    if subscription is not None:
        facts["product"] = subscription.product.name
    if customer is not None:
        facts["portal_url"] = portal_email_url(merchant_id=message.merchant_id,
                                               environment=message.environment,
                                               customer_id=customer.id)
    if message.kind == EmailKind.REFUND_ISSUED:
        note = CreditNote.objects.filter(refund_id=data.get("id") or "-",
                                         merchant_id=message.merchant_id).first()
        if note is not None:
            facts["credit_note_number"] = note.number
            facts["credit_note_tax"] = format_money(note.tax_amount, note.currency) \
                if note.tax_amount else ""
    if data.get("actionUrl"):
        facts["action_url"] = data["actionUrl"]
    if data.get("nextRetryAt"):
        facts["next_retry"] = parse_datetime(data["nextRetryAt"])
    if message.kind in (EmailKind.TRIAL_ENDING, EmailKind.RENEWAL_UPCOMING):
        facts["date"] = parse_datetime(data["at"])
        if subscription is not None and subscription.price is not None:
            price = subscription.price
            facts["amount"] = format_money(pricing.price_amount(
                amount=price.amount, quantity=subscription.quantity,
                tiers_mode=price.tiers_mode, tiers=price.tiers if price.tiers_mode else None,
            ), price.currency)
    elif message.kind == EmailKind.SUBSCRIPTION_CANCELED:
        # canceled at the period end: the customer keeps access until then
        facts["access_until"] = parse_datetime(data["effectiveAt"]) if data.get(
            "atPeriodEnd") and data.get("effectiveAt") else None
        if subscription is not None and facts["access_until"] is None:
            facts["date"] = subscription.canceled_at
    return facts
