"""Sending billing emails: claim due messages, send them over SMTP, record each attempt.

Like webhook delivery: a worker claims a batch with `SELECT … FOR UPDATE SKIP LOCKED` and, in
that short transaction, leases the rows (moves `next_attempt_at` forward), then commits and
sends with no database lock held; the outcome is recorded in a second short transaction that
only a row still pending can take. Two workers therefore never send the same message (short of
a worker dying between the SMTP server's "250 OK" and recording it, when the lease runs out and
the message is sent again: SMTP has no idempotency key).

Outcomes: accepted (sent); refused for good by the server (5xx, every recipient refused: a
bounce, recorded and not retried); anything else (connection refused, timeout, 4xx) is retried
with the webhooks' backoff (about 1, 2, 4 … minutes) until EMAIL_MAX_ATTEMPTS.
"""

from __future__ import annotations

import logging
import random
import smtplib
from datetime import datetime, timedelta
from email.utils import formataddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction

from billing.models import EmailAttempt, EmailMessage
from billing.selectors.email_content import email_render
from billing.webhook_retries import retry_delay
from cynco.clock import wall_now

logger = logging.getLogger(__name__)

ERROR_LIMIT = 1000
LEASE = timedelta(minutes=5)  # well past one SMTP conversation (EMAIL_TIMEOUT)
TEST_HEADER = "X-Cynco-Test"


def emails_send_due(*, now: datetime | None = None, message_ids: list[str] | None = None,
                    batch_size: int = 50) -> int:
    """Send every pending message due at `now` (default: the wall clock), batch by batch, or
    only `message_ids` (the task queued on commit). Returns how many attempts were made.
    Row locks only while claiming (SKIP LOCKED) and recording; no ledger entry."""
    attempts = 0
    for _ in range(20):
        claimed = _claim(now=now or wall_now(), message_ids=message_ids, batch_size=batch_size)
        for message_id in claimed:
            attempts += _attempt(message_id)
        if len(claimed) < batch_size:
            break
    return attempts


def _claim(*, now: datetime, message_ids: list[str] | None, batch_size: int) -> list[str]:
    with transaction.atomic():
        due = EmailMessage.objects.filter(status=EmailMessage.Status.PENDING,
                                          next_attempt_at__lte=now)
        if message_ids is not None:
            due = due.filter(id__in=message_ids)
        ids = list(due.order_by("next_attempt_at").select_for_update(skip_locked=True)
                   .values_list("id", flat=True)[:batch_size])
        if ids:
            EmailMessage.objects.filter(id__in=ids).update(next_attempt_at=now + LEASE)
    return ids


def _attempt(message_id: str) -> int:
    message = EmailMessage.objects.get(pk=message_id)
    try:
        rendered = email_render(message)
    except Exception as exc:  # a template or data problem: recorded, retried like a failure
        logger.exception("rendering email %s failed", message_id)
        _record(message, EmailAttempt.Outcome.FAILED, f"Rendering failed: {exc}", "")
        return 1
    email = EmailMultiAlternatives(
        subject=rendered.subject, body=rendered.text, to=[message.to],
        from_email=formataddr((rendered.from_name, settings.EMAIL_FROM_ADDRESS)),
        reply_to=[rendered.reply_to] if rendered.reply_to else None,
        headers={"X-Cynco-Email-Id": message.id, **({TEST_HEADER: "1"} if message.is_test
                                                    else {})},
    )
    email.attach_alternative(rendered.html, "text/html")
    try:
        with get_connection(timeout=settings.EMAIL_TIMEOUT) as connection:
            connection.send_messages([email])
    except smtplib.SMTPRecipientsRefused as exc:
        _record(message, EmailAttempt.Outcome.BOUNCED, _describe(exc), rendered.subject)
    except smtplib.SMTPResponseException as exc:
        outcome = (EmailAttempt.Outcome.BOUNCED if exc.smtp_code >= 500
                   else EmailAttempt.Outcome.FAILED)
        _record(message, outcome, _describe(exc), rendered.subject)
    except (smtplib.SMTPException, OSError) as exc:
        _record(message, EmailAttempt.Outcome.FAILED, _describe(exc), rendered.subject)
    else:
        _record(message, EmailAttempt.Outcome.SENT, "", rendered.subject)
    return 1


def _describe(exc: Exception) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        refused = "; ".join(f"{to}: {code} {reply.decode(errors='replace')}"
                            for to, (code, reply) in exc.recipients.items())
        return f"Recipient refused: {refused}"[:ERROR_LIMIT]
    if isinstance(exc, smtplib.SMTPResponseException):
        error = exc.smtp_error.decode(errors="replace") if isinstance(
            exc.smtp_error, bytes) else str(exc.smtp_error)
        return f"SMTP {exc.smtp_code}: {error}"[:ERROR_LIMIT]
    return f"{type(exc).__name__}: {exc}"[:ERROR_LIMIT]


def _record(message: EmailMessage, outcome: str, error: str, subject: str) -> None:
    """Record one attempt on a message still pending (a message another worker finished
    meanwhile is left alone), and what happens next: done, given up, or retried later."""
    now = wall_now()
    with transaction.atomic():
        row = EmailMessage.objects.select_for_update().filter(
            pk=message.pk, status=EmailMessage.Status.PENDING).first()
        if row is None:
            return
        row.attempt_count += 1
        EmailAttempt.objects.create(message=row, number=row.attempt_count, outcome=outcome,
                                    error=error, attempted_at=now)
        row.subject, row.last_error = subject[:300], error
        if outcome == EmailAttempt.Outcome.SENT:
            row.status, row.sent_at, row.next_attempt_at = EmailMessage.Status.SENT, now, None
        elif (outcome == EmailAttempt.Outcome.BOUNCED
              or row.attempt_count >= settings.EMAIL_MAX_ATTEMPTS):
            row.status, row.next_attempt_at = EmailMessage.Status.FAILED, None
            logger.warning("email %s (%s to %s) given up: %s", row.id, row.kind, row.to, error)
        else:
            row.next_attempt_at = now + retry_delay(row.attempt_count,
                                                    random_fraction=random.random())
        row.save()


def email_retry(*, message_id: str) -> None:
    """The console's "send again": a failed message goes back to pending, due now."""
    EmailMessage.objects.filter(pk=message_id, status=EmailMessage.Status.FAILED).update(
        status=EmailMessage.Status.PENDING, next_attempt_at=wall_now())
