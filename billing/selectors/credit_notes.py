"""Reads of credit notes (`GET /credit-notes`, the portal's list, the admin)."""

from __future__ import annotations

from django.db.models import QuerySet

from billing.models import CreditNote
from cynco.errors import NotFound
from cynco.tenancy import Scope


def credit_notes_list(scope: Scope, customer=None, types: list[str] | None = None
                      ) -> QuerySet[CreditNote]:
    """The scope's credit notes (one customer's when given), newest first."""
    rows = (CreditNote.objects.for_scope(scope).select_related("invoice")
            .prefetch_related("lines").order_by("-created_at", "-id"))
    if customer is not None:
        rows = rows.filter(customer=customer)
    return rows.filter(type__in=types) if types else rows


def credit_note_find(scope: Scope, credit_note_id: str) -> CreditNote:
    note = credit_notes_list(scope).filter(pk=credit_note_id).first()
    if note is None:
        raise NotFound(f"No credit note '{credit_note_id}'")
    return note
