"""What reduces an invoice besides its own lines: a coupon on later cycles, and customer credit.

Called by `invoice_issue` inside its transaction (the caller holds lock_customer). Credits are
locked row by row (SELECT … FOR UPDATE) and only go down, so one credit never pays twice.

- A coupon redeemed on subscribe (docs/coupons.md) discounts the first invoice when it is
  priced (billing.services.subscribe) and every renewal invoice while its cycles last: a
  `discount` line, posted in invoice_finalized(discount=…) (DR 4900).
- A referral credit (`CustomerCredit`, source referral) is a promotion: it becomes a
  `discount` line "Referral credit" on the next invoices (DR 4900), never more than what is
  left to pay after other discounts.
- An upgrade credit (source upgrade: an upgrade or quantity decrease whose credit was larger
  than its invoice) was posted DR 4001 / CR 2100 when granted; an invoice using it keeps its
  total and has its `amountDue` reduced, posted DR 2100 / CR 1200 (customer credit applied).
"""

from __future__ import annotations

from billing.models import CouponRedemption, CustomerCredit, Invoice, InvoiceLine
from billing.services.coupons import coupon_redemption_apply
from billing.services.invoices import LineDraft
from cynco.tenancy import Scope

LineType = InvoiceLine.Type
Source = CustomerCredit.Source


def renewal_discount_lines(*, scope: Scope, subscription, reason: str,
                           lines: list[LineDraft]) -> list[LineDraft]:
    """The coupon's `discount` line for a renewal (or trial-end) invoice of `subscription`,
    counting one cycle of its redemption (coupon_redemption_apply); none once used up."""
    if subscription is None or reason != Invoice.Reason.SUBSCRIPTION_CYCLE:
        return []
    subscription_id = getattr(subscription, "id", subscription)
    redemption = (CouponRedemption.objects.for_scope(scope).select_related("coupon")
                  .filter(subscription_id=subscription_id).order_by("created_at").first())
    base = sum(line.amount for line in lines if line.type == LineType.SUBSCRIPTION)
    if redemption is None or base <= 0:
        return []
    discount = coupon_redemption_apply(scope=scope, redemption_id=redemption.id, amount=base)
    if not discount:
        return []
    return [LineDraft(LineType.DISCOUNT, f"Discount ({redemption.coupon.code})", -discount)]


def _take(scope: Scope, customer, currency: str, sources: tuple[str, ...], wanted: int) -> int:
    """Lower the customer's credits of `sources` in `currency`, oldest first, by up to
    `wanted`."""
    taken = 0
    credits = (CustomerCredit.objects.for_scope(scope).select_for_update()
               .filter(customer=customer, currency=currency, source__in=sources,
                       remaining__gt=0)
               .order_by("created_at", "id"))
    for credit in credits:
        if taken >= wanted:
            break
        use = min(credit.remaining, wanted - taken)
        credit.remaining -= use
        credit.save(update_fields=["remaining"])
        taken += use
    return taken


def referral_credit_lines(*, scope: Scope, customer, currency: str,
                          lines: list[LineDraft]) -> list[LineDraft]:
    """A `discount` line using the customer's referral credit on what is left to pay."""
    left = sum(line.amount for line in lines)
    if left <= 0:
        return []
    used = _take(scope, customer, currency, (Source.REFERRAL,), left)
    return [LineDraft(LineType.DISCOUNT, "Referral credit", -used)] if used else []


def upgrade_credit_take(*, scope: Scope, customer, currency: str, amount_due: int) -> int:
    """How much of `amount_due` the customer's credit in 2100 pays (lowering it): upgrade
    credit, and unapplied payments kept as credit because their refund failed."""
    if amount_due <= 0:
        return 0
    return _take(scope, customer, currency, (Source.UPGRADE, Source.PAYMENT), amount_due)


def upgrade_credit_keep(*, scope: Scope, customer, currency: str, amount: int, invoice,
                        at) -> CustomerCredit:
    """Keep what an invoice's credit lines left over (more than it owed) as customer credit
    for the next invoices (already in 2100: the invoice posted the whole credit)."""
    return CustomerCredit.objects.create(
        merchant_id=scope.merchant_id, environment=scope.environment, customer=customer,
        amount=amount, remaining=amount, currency=currency, source=Source.UPGRADE,
        source_id=invoice.id, description=f"Credit left from invoice {invoice.number}",
        created_at=at,
    )


def adjusted_among(*, scope: Scope, drafts) -> set[str]:
    """Subscription ids of a renewal batch (invoices_issue_many) whose invoices need an
    adjustment: a coupon redemption, or a customer with credit left. Two queries per batch,
    so the batch stays a few statements when nobody has either."""
    subscription_ids = [draft.subscription_id for draft in drafts]
    with_coupon = set(CouponRedemption.objects.for_scope(scope).filter(
        subscription_id__in=subscription_ids).values_list("subscription_id", flat=True))
    with_credit = set(CustomerCredit.objects.for_scope(scope).filter(
        customer_id__in=[draft.customer_id for draft in drafts], remaining__gt=0,
    ).values_list("customer_id", flat=True))
    return with_coupon | {draft.subscription_id for draft in drafts
                          if draft.customer_id in with_credit}


def draft_adjust(*, scope: Scope, draft) -> tuple[list[LineDraft], int]:
    """A batch draft's lines with its coupon discount and referral credit, and the upgrade
    credit that pays part of it (exactly what invoice_issue does for one invoice)."""
    from decimal import Decimal

    from django.conf import settings

    from billing.services.invoices import invoice_totals

    lines = [*draft.lines, *renewal_discount_lines(
        scope=scope, subscription=draft.subscription_id, reason=draft.reason, lines=draft.lines)]
    lines = [*lines, *referral_credit_lines(scope=scope, customer=draft.customer_id,
                                            currency=draft.currency, lines=lines)]
    due = invoice_totals(lines, Decimal(str(settings.INVOICE_TAX_RATE_PERCENT))).amount_due
    return lines, upgrade_credit_take(scope=scope, customer=draft.customer_id,
                                      currency=draft.currency, amount_due=due)
