"""Changing a merchant's invoice identity (console and API): text fields and the logo."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re

from django.db import transaction

from billing.models import INVOICE_PREFIX_PATTERN, InvoiceIdentity
from billing.services.audit import Actor, audit_record
from cynco.errors import ValidationFailed
from cynco.tenancy import Scope

LOGO_MAX_BYTES = 256 * 1024
# What a logo may be, recognized by the file's first bytes (not by what the upload claims).
LOGO_SIGNATURES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg",
                   b"GIF87a": "image/gif", b"GIF89a": "image/gif"}
TEXT_LIMITS = {"legal_name": 200, "address": 1000, "footer": 1000}


def logo_content_type(data: bytes) -> str:
    """The image type of `data` (PNG, JPEG or GIF), or a ValidationFailed on `logo`. SVG is
    refused: it can carry scripts, and many mail programs do not show it."""
    if len(data) > LOGO_MAX_BYTES:
        raise ValidationFailed.field("logo", f"At most {LOGO_MAX_BYTES // 1024} KB.")
    for signature, content_type in LOGO_SIGNATURES.items():
        if data.startswith(signature):
            return content_type
    raise ValidationFailed.field("logo", "Must be a PNG, JPEG or GIF image.")


def logo_from_data_url(value: str) -> bytes:
    """The bytes of a `data:image/…;base64,…` URL (how the API takes a logo)."""
    match = re.fullmatch(r"data:image/[a-z+.-]+;base64,([A-Za-z0-9+/=\s]+)", value or "")
    if match is None:
        raise ValidationFailed.field("logo", "Must be a data URL: data:image/png;base64,….")
    try:
        return base64.b64decode(match.group(1), validate=False)
    except (binascii.Error, ValueError):
        raise ValidationFailed.field("logo", "The base64 part does not decode.")


def invoice_identity_clean(changes: dict) -> str:
    """Check `changes` (invoice_identity_update's) and return the logo's content type ("" when
    no logo is given); a ValidationFailed names the wire field at fault."""
    for field, limit in TEXT_LIMITS.items():
        if field in changes and len(changes[field]) > limit:
            raise ValidationFailed.field(_wire(field), f"At most {limit} characters.")
    if "number_prefix" in changes and not re.fullmatch(INVOICE_PREFIX_PATTERN,
                                                         changes["number_prefix"]):
        raise ValidationFailed.field("numberPrefix",
                                     "1 to 12 capital letters, digits or dashes, e.g. ACME.")
    logo = changes.get("logo")
    return logo_content_type(logo) if logo is not None else ""


def invoice_identity_update(*, scope: Scope, changes: dict, actor: Actor) -> InvoiceIdentity:
    """Set some of the merchant's identity fields (`legal_name`, `address`, `footer`,
    `number_prefix`, and `logo`: bytes, or None to remove it), validated, and audit it
    (`invoice_identity.updated`). Locks the identity row; no customer lock, no ledger entry.
    A new prefix applies to numbers given from now on."""
    content_type = invoice_identity_clean(changes)
    changes = dict(changes)
    logo = changes.pop("logo", ...)
    with transaction.atomic():
        InvoiceIdentity.objects.get_or_create(merchant_id=scope.merchant_id)
        identity = InvoiceIdentity.objects.select_for_update().get(merchant_id=scope.merchant_id)
        for field, value in changes.items():
            setattr(identity, field, value)
        if logo is None:
            identity.logo, identity.logo_content_type, identity.logo_digest = b"", "", ""
        elif logo is not ...:
            identity.logo, identity.logo_content_type = logo, content_type
            identity.logo_digest = hashlib.sha256(logo).hexdigest()[:32]
        identity.save()
        details = {_wire(field): value for field, value in changes.items()}
        if logo is not ...:
            details["logo"] = identity.logo_digest or None
        audit_record(scope=scope, event="invoice_identity.updated", actor=actor,
                     resource_type="merchant", resource_id=scope.merchant_id, details=details)
    return identity


def _wire(field: str) -> str:
    head, *rest = field.split("_")
    return head + "".join(part.title() for part in rest)
