"""Changing a merchant's billing email settings (console and API)."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import transaction

from billing.models import EMAIL_KINDS, EmailSettings
from billing.services.audit import Actor, audit_record
from cynco.errors import ValidationFailed
from cynco.tenancy import Scope

MAX_NOTICE_DAYS = 60


def email_settings_clean(changes: dict) -> None:
    """Check `changes` (email_settings_update's); a ValidationFailed lists every field at
    fault by its wire name."""
    details = []
    if changes.get("reply_to"):
        try:
            validate_email(changes["reply_to"])
        except DjangoValidationError:
            details.append({"field": "replyTo", "message": "Must be an email address."})
    if len(changes.get("sender_name", "")) > 100:
        details.append({"field": "senderName", "message": "At most 100 characters."})
    if any(ch in changes.get("sender_name", "") for ch in "\r\n<>\""):
        details.append({"field": "senderName", "message": "No line breaks, quotes or <>."})
    for field, wire in (("trial_ending_days", "trialEndingDays"),
                        ("renewal_notice_days", "renewalNoticeDays")):
        if field in changes and not 1 <= changes[field] <= MAX_NOTICE_DAYS:
            details.append({"field": wire, "message": f"From 1 to {MAX_NOTICE_DAYS} days."})
    details += [{"field": f"kinds.{kind}", "message": "Unknown email kind."}
                for kind in changes.get("kinds") or {} if kind not in EMAIL_KINDS]
    if details:
        raise ValidationFailed("Invalid email settings", details=details)


def email_settings_update(*, scope: Scope, changes: dict, actor: Actor) -> EmailSettings:
    """Set some of the merchant's email settings — `sender_name`, `reply_to`,
    `send_in_test_mode`, `trial_ending_days`, `renewal_notice_days`, and `kinds` (a dict of
    kind → on/off, merged into what is set) — validated, and audit it (`email_settings.updated`).
    Locks the settings row; no customer lock, no ledger entry."""
    email_settings_clean(changes)
    changes = dict(changes)
    kinds = changes.pop("kinds", None) or {}
    with transaction.atomic():
        EmailSettings.objects.get_or_create(merchant_id=scope.merchant_id)
        chosen = EmailSettings.objects.select_for_update().get(merchant_id=scope.merchant_id)
        for field, value in changes.items():
            setattr(chosen, field, value)
        disabled = set(chosen.disabled_kinds or [])
        for kind, on in kinds.items():
            (disabled.discard if on else disabled.add)(kind)
        chosen.disabled_kinds = [kind for kind in EMAIL_KINDS if kind in disabled]
        chosen.save()
        audit_record(scope=scope, event="email_settings.updated", actor=actor,
                     resource_type="merchant", resource_id=scope.merchant_id,
                     details={**changes, "kinds": kinds})
    return chosen
