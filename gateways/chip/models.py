"""What the CHIP gateway remembers of its own calls: CHIP takes no idempotency key, so the
contract's key is kept here with the purchase it made (one row per money-moving request).

A charge is two CHIP calls: create an unpaid purchase, then charge it with the recurring token.
The purchase id is recorded before the charge, and CHIP pays a purchase at most once, so a
retried key charges that same purchase or answers its outcome; it never creates a second
payment. `claimed_at` lets a retry take over a claim whose first call died before CHIP
answered (a purchase it may have created is unpaid and harmless).
"""

from __future__ import annotations

from django.db import models


class ChipRequest(models.Model):
    class Kind(models.TextChoices):
        CHECKOUT = "checkout"
        CHARGE = "charge"
        REFUND = "refund"

    merchant_id = models.CharField(max_length=40)
    environment = models.CharField(max_length=4)
    account_id = models.CharField(max_length=40, blank=True)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    idempotency_key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    customer_reference = models.CharField(max_length=64, blank=True)
    purchase_id = models.CharField(max_length=64, blank=True, db_index=True)
    # The caller's metadata (a CHIP purchase has no field for it): events and sessions read it
    # from here.
    metadata = models.JSONField(default=dict, blank=True)
    # Refunds: the amount asked, what was refundable when the refund was sent (to tell, after a
    # lost answer, whether it happened), and CHIP's id of the refund payment.
    amount = models.BigIntegerField(null=True, blank=True)
    refundable_before = models.BigIntegerField(null=True, blank=True)
    refund_id = models.CharField(max_length=64, blank=True)
    claimed_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["merchant_id", "environment", "kind", "idempotency_key"],
                name="chip_request_key_unique",
            )
        ]

    def __str__(self) -> str:
        return f"CHIP {self.kind} {self.idempotency_key} → {self.purchase_id or '?'}"
