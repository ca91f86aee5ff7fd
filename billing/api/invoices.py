"""`GET /invoices?customer=X` and `GET /invoices/{id}` (Invoice of API.md)."""

from __future__ import annotations

from billing.api.shapes.subscriptions import InvoiceShape
from billing.models import Invoice
from billing.selectors.customers import customer_find
from billing.selectors.subscriptions import invoice_find, invoice_hosted_url, invoices_list
from cynco.api.schema import PageOf, choices_param, openapi, query_param
from cynco.api.views import ApiView
from cynco.fields import usage_number
from cynco.responses import choices_of, ok, page_of, paginated


def invoice_data(invoice: Invoice) -> dict:
    return {
        "id": invoice.id,
        "number": invoice.number,
        "status": invoice.status,
        "customerId": invoice.customer_id,
        "subscriptionId": invoice.subscription_id,
        "currency": invoice.currency,
        "lines": [
            {"type": line.type, "description": line.description,
             "quantity": usage_number(line.quantity), "unitAmount": line.unit_amount,
             "amount": line.amount, "periodStart": line.period_start,
             "periodEnd": line.period_end}
            for line in invoice.lines.all()
        ],
        "subtotal": invoice.subtotal,
        "discountAmount": invoice.discount_amount,
        "taxAmount": invoice.tax_amount,
        "total": invoice.total,
        "amountPaid": invoice.amount_paid,
        "amountDue": invoice.amount_due,
        "periodStart": invoice.period_start,
        "periodEnd": invoice.period_end,
        "createdAt": invoice.created_at,
        "dueAt": invoice.due_at,
        "paidAt": invoice.paid_at,
        "hostedUrl": invoice_hosted_url(invoice),
    }


class InvoicesView(ApiView):
    @openapi("invoices_list", summary="Invoices, newest first",
             query=[query_param("customer", "Only this customer's (external id)."),
                    choices_param("status", "Only these statuses", Invoice.Status.values)],
             data=PageOf(InvoiceShape), errors=(404,))
    def get(self, request):
        page = page_of(request)
        external_id = request.query_params.get("customer")
        customer = customer_find(self.scope, external_id) if external_id else None
        statuses = choices_of(request, "status", Invoice.Status.values)
        rows = invoices_list(self.scope, customer, statuses or None)
        return paginated([invoice_data(i) for i in page.slice(rows)], total=rows.count(),
                         page=page)


class InvoiceView(ApiView):
    @openapi("invoice_get", summary="One invoice", data=InvoiceShape, errors=(404,))
    def get(self, request, invoice_id):
        return ok(invoice_data(invoice_find(self.scope, invoice_id)))
