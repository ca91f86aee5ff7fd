"""How a merchant appears on its invoices and billing emails: legal name, address, logo, footer
and the prefix of its invoice numbers.

The logo is uploaded (console or API) and kept in the database with its content type, and
served by this server at a URL that changes with the file (`logo_digest`), so no external URL
is ever embedded and a page or an email never shows a stale logo.
"""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models

from cynco.history import model_history
from cynco.models import Merchant

__all__ = ["INVOICE_PREFIX_PATTERN", "InvoiceIdentity"]

INVOICE_PREFIX_PATTERN = r"^[A-Z0-9][A-Z0-9-]{0,11}$"


class InvoiceIdentity(models.Model):
    merchant = models.OneToOneField(Merchant, on_delete=models.CASCADE,
                                    related_name="invoice_identity", primary_key=True)
    legal_name = models.CharField(max_length=200, blank=True,
                                  help_text="Empty: the merchant's name")
    address = models.TextField(max_length=1000, blank=True)
    footer = models.TextField(max_length=1000, blank=True,
                              help_text="Printed at the foot of invoices and emails")
    number_prefix = models.CharField(
        max_length=12, default="INV",
        validators=[RegexValidator(INVOICE_PREFIX_PATTERN,
                                   "1 to 12 capital letters, digits or dashes.")],
        help_text="Invoice numbers read PREFIX-000001 (PREFIX-TEST-000001 in test mode); "
                  "numbers already given keep their prefix")
    logo = models.BinaryField(blank=True, default=b"", editable=False)
    logo_content_type = models.CharField(max_length=40, blank=True, editable=False)
    logo_digest = models.CharField(max_length=64, blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    history = model_history(excluded_fields=["logo"])

    class Meta:
        verbose_name_plural = "invoice identities"

    def __str__(self) -> str:
        return f"Invoice identity of {self.merchant}"
