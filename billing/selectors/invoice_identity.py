"""Reading a merchant's invoice identity, as invoice pages, PDFs and emails show it."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse

from billing.models import InvoiceIdentity
from cynco.links import absolute_url
from cynco.models import Merchant

DEFAULT_PREFIX = "INV"


@dataclass(frozen=True)
class MerchantIdentity:
    """What a customer reads about the merchant on an invoice or an email."""

    name: str  # the legal name, or the merchant's name when none is set
    address: str
    footer: str
    number_prefix: str
    logo_url: str  # absolute, served by this server; "" when no logo was uploaded


def identity_of(merchant: Merchant) -> MerchantIdentity:
    """`merchant`'s identity, with defaults when it never set one."""
    row = InvoiceIdentity.objects.filter(merchant=merchant).defer("logo").first()
    if row is None:
        return MerchantIdentity(merchant.name, "", "", DEFAULT_PREFIX, "")
    return MerchantIdentity(
        name=row.legal_name or merchant.name, address=row.address, footer=row.footer,
        number_prefix=row.number_prefix or DEFAULT_PREFIX, logo_url=logo_url(row),
    )


def logo_url(row: InvoiceIdentity) -> str:
    if not row.logo_digest:
        return ""
    return absolute_url(reverse("merchant-logo", args=[row.merchant_id, row.logo_digest]))


def invoice_number_prefix(merchant_id: str) -> str:
    """The prefix of the merchant's next invoice numbers."""
    prefix = InvoiceIdentity.objects.filter(merchant_id=merchant_id).values_list(
        "number_prefix", flat=True).first()
    return prefix or DEFAULT_PREFIX
