"""`manage.py check` for billing emails: a server that would print customers' emails instead
of sending them, or send them from an address that is not one, says so at start-up."""

from __future__ import annotations

from django.conf import settings
from django.core import checks
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

PRINTING_BACKENDS = ("django.core.mail.backends.console.EmailBackend",
                     "django.core.mail.backends.dummy.EmailBackend")


def check_email_settings(app_configs=None, **kwargs):
    problems = []
    try:
        validate_email(settings.EMAIL_FROM_ADDRESS)
    except ValidationError:
        problems.append(checks.Error(
            f"EMAIL_FROM_ADDRESS={settings.EMAIL_FROM_ADDRESS!r} is not an email address",
            hint="Set it to the address billing emails come from (docs/emails.md)",
            id="billing.E001"))
    if settings.EMAIL_BACKEND in PRINTING_BACKENDS and not settings.DEBUG:
        problems.append(checks.Info(
            "Billing emails are not sent: EMAIL_URL is unset (or a console/dummy backend)",
            hint="Set EMAIL_URL to your SMTP server, e.g. smtp+tls://user:pw@host:587",
            id="billing.I001"))
    return problems
