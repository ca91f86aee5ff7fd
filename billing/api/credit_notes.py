"""`GET /credit-notes?customer=X` and `GET /credit-notes/{id}`: the documents of refunds,
credits and write-offs, each with the tax it gives back (docs/api.md, CreditNote)."""

from __future__ import annotations

from billing.api.shapes.subscriptions import CreditNoteShape
from billing.models import CreditNote
from billing.selectors.credit_notes import credit_note_find, credit_notes_list
from billing.selectors.customers import customer_find
from cynco.api.schema import PageOf, choices_param, openapi, query_param
from cynco.api.views import ApiView
from cynco.responses import choices_of, ok, page_of, paginated


def credit_note_data(note: CreditNote) -> dict:
    return {
        "id": note.id,
        "number": note.number,
        "type": note.type,
        "customerId": note.customer_id,
        "invoiceId": note.invoice_id,
        "invoiceNumber": note.invoice.number,
        "refundId": note.refund_id,
        "currency": note.currency,
        "lines": [{"type": line.type, "description": line.description, "amount": line.amount}
                  for line in note.lines.all()],
        "subtotal": note.subtotal,
        "taxAmount": note.tax_amount,
        "total": note.total,
        "reason": note.reason,
        "createdAt": note.created_at,
    }


class CreditNotesView(ApiView):
    @openapi("credit_notes_list", summary="Credit notes, newest first",
             query=[query_param("customer", "Only this customer's (external id)."),
                    choices_param("type", "Only these types", CreditNote.Type.values)],
             data=PageOf(CreditNoteShape), errors=(404,))
    def get(self, request):
        page = page_of(request)
        external_id = request.query_params.get("customer")
        customer = customer_find(self.scope, external_id) if external_id else None
        types = choices_of(request, "type", CreditNote.Type.values)
        rows = credit_notes_list(self.scope, customer, types or None)
        return paginated([credit_note_data(n) for n in page.slice(rows)], total=rows.count(),
                         page=page)


class CreditNoteView(ApiView):
    @openapi("credit_note_get", summary="One credit note", data=CreditNoteShape, errors=(404,))
    def get(self, request, credit_note_id):
        return ok(credit_note_data(credit_note_find(self.scope, credit_note_id)))
