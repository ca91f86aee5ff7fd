"""Billing emails: what a merchant wants sent, and the outbox of emails to send.

An `EmailMessage` is written in the same transaction as the event that causes it (the hook in
`billing.services.webhooks.emit_events`, or the notice job for trial ends and renewals), unique
per (merchant, environment, source, kind), so an event causes each kind of email at most once.
A worker renders it, sends it through Django's mail framework and records each try as an
`EmailAttempt` (billing.services.email_delivery).
"""

from __future__ import annotations

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from cynco.history import model_history
from cynco.ids import new_id
from cynco.models import Merchant, TenantModel

__all__ = ["EMAIL_KINDS", "EmailAttempt", "EmailKind", "EmailMessage", "EmailSettings"]


class EmailKind(models.TextChoices):
    RECEIPT = "payment_receipt", "Payment receipt"
    PAYMENT_FAILED = "payment_failed", "Payment failed"
    ACTION_REQUIRED = "action_required", "Payment needs authentication (3-D Secure)"
    TRIAL_ENDING = "trial_ending", "Trial ending"
    RENEWAL_UPCOMING = "renewal_upcoming", "Upcoming renewal (yearly plans)"
    SUBSCRIPTION_CANCELED = "subscription_canceled", "Subscription canceled"
    REFUND_ISSUED = "refund_issued", "Refund issued"


EMAIL_KINDS = tuple(EmailKind.values)


def new_email_message_id() -> str:
    return new_id("pem")


class EmailSettings(models.Model):
    """One merchant's choices for billing emails (shared by its live and test environments).

    `disabled_kinds` lists the kinds the merchant turned off (every kind is on by default).
    Nothing is sent for the test environment unless `send_in_test_mode`; what is sent then is
    marked as a test (subject prefix and an `X-Cynco-Test` header).
    """

    merchant = models.OneToOneField(Merchant, on_delete=models.CASCADE,
                                    related_name="email_settings", primary_key=True)
    sender_name = models.CharField(max_length=100, blank=True,
                                   help_text="Shown as the sender; empty: the merchant's name")
    reply_to = models.EmailField(blank=True, help_text="Where customers' replies go")
    disabled_kinds = models.JSONField(default=list, blank=True)
    send_in_test_mode = models.BooleanField(
        default=False, help_text="Send emails for test-mode events too (marked as test)")
    trial_ending_days = models.PositiveSmallIntegerField(
        default=3, help_text="Days before a trial ends that the reminder is sent")
    renewal_notice_days = models.PositiveSmallIntegerField(
        default=7, help_text="Days before a yearly plan renews that the notice is sent")
    updated_at = models.DateTimeField(auto_now=True)
    history = model_history()

    class Meta:
        verbose_name_plural = "email settings"

    def __str__(self) -> str:
        return f"Email settings of {self.merchant}"

    def sends(self, kind: str) -> bool:
        return kind not in (self.disabled_kinds or [])


class EmailMessage(TenantModel):
    """One email to one customer, from queueing to delivery.

    `source` is what caused it: the outgoing event's id, or for a notice the subscription and
    the moment it announces (`trial:<sub>:<trial end>`). `context` holds the event's data; the
    message is rendered when sent, with the merchant's identity as it is then.
    `next_attempt_at` is leased forward by the worker that claims the row (SKIP LOCKED).
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    id = models.CharField(primary_key=True, max_length=40, default=new_email_message_id,
                          editable=False)
    kind = models.CharField(max_length=32, choices=EmailKind.choices)
    source = models.CharField(max_length=120)
    customer_id = models.CharField(max_length=40, blank=True)
    to = models.EmailField()
    context = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    is_test = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempt_count = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "environment", "source", "kind"],
                                    name="email_message_once_per_source"),
        ]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=models.Q(status="pending"),
                         name="email_message_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.to}"


class EmailAttempt(models.Model):
    """One hand-over of a message to the SMTP server, and what it answered."""

    class Outcome(models.TextChoices):
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        BOUNCED = "bounced", "Bounced"

    message = models.ForeignKey(EmailMessage, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveIntegerField()
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    error = models.TextField(blank=True, default="")
    attempted_at = models.DateTimeField()

    class Meta:
        ordering = ["message", "number"]
        constraints = [
            models.UniqueConstraint(fields=["message", "number"], name="email_attempt_unique")
        ]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.message_id}: {self.outcome}"
