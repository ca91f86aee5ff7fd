"""Issued invoices, payments and refunds, enforced by PostgreSQL (issue 13).

- An issued invoice (any status but draft) keeps its customer, number, currency and amounts
  (subtotal, discount, tax, total), never goes back to draft, and is never deleted. Payment
  and voiding still change its status, `amount_paid`, `amount_due` and dates. A correction is
  a credit note: a new row, not an edit.
- An issued invoice's lines are written in the transaction that issues it, and never after:
  no line is added, changed or deleted later. `issued_in` (a column the application never
  reads or writes; a trigger sets it) records that transaction.
- Refunds and payment attempts are never deleted.
"""

from django.db import migrations

INVOICES = """
ALTER TABLE billing_invoice ADD COLUMN issued_in xid8;

CREATE FUNCTION billing_invoice_fixed_once_issued() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.status <> 'draft' THEN
            RAISE EXCEPTION 'invoice % is issued and cannot be deleted; issue a credit note',
                OLD.id USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN OLD;
    END IF;
    IF TG_OP = 'INSERT' THEN
        NEW.issued_in := CASE WHEN NEW.status <> 'draft' THEN pg_current_xact_id() END;
        RETURN NEW;
    END IF;
    IF OLD.status = 'draft' THEN
        NEW.issued_in := CASE WHEN NEW.status <> 'draft' THEN pg_current_xact_id() END;
        RETURN NEW;
    END IF;
    IF NEW.status = 'draft'
       OR (NEW.merchant_id, NEW.environment, NEW.customer_id, NEW.number, NEW.currency,
           NEW.subtotal, NEW.discount_amount, NEW.tax_amount, NEW.total)
          IS DISTINCT FROM
          (OLD.merchant_id, OLD.environment, OLD.customer_id, OLD.number, OLD.currency,
           OLD.subtotal, OLD.discount_amount, OLD.tax_amount, OLD.total) THEN
        RAISE EXCEPTION 'invoice % is issued: its amounts are fixed; issue a credit note', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    NEW.issued_in := OLD.issued_in;
    RETURN NEW;
END $$;

CREATE TRIGGER billing_invoice_fixed_once_issued
    BEFORE INSERT OR UPDATE OR DELETE ON billing_invoice
    FOR EACH ROW EXECUTE FUNCTION billing_invoice_fixed_once_issued();

CREATE FUNCTION billing_invoiceline_fixed_once_issued() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    invoice record;
    line record := CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
BEGIN
    SELECT status, issued_in INTO invoice FROM billing_invoice WHERE id = line.invoice_id;
    IF NOT FOUND OR invoice.status = 'draft'
       OR (TG_OP = 'INSERT' AND invoice.issued_in = pg_current_xact_id()) THEN
        RETURN line;
    END IF;
    RAISE EXCEPTION '% of a line of invoice %: the invoice is issued and its lines are fixed; '
                    'issue a credit note', TG_OP, line.invoice_id
        USING ERRCODE = 'restrict_violation';
END $$;

CREATE TRIGGER billing_invoiceline_fixed_once_issued
    BEFORE INSERT OR UPDATE OR DELETE ON billing_invoiceline
    FOR EACH ROW EXECUTE FUNCTION billing_invoiceline_fixed_once_issued();
"""

INVOICES_REVERSE = """
DROP TRIGGER IF EXISTS billing_invoiceline_fixed_once_issued ON billing_invoiceline;
DROP FUNCTION IF EXISTS billing_invoiceline_fixed_once_issued();
DROP TRIGGER IF EXISTS billing_invoice_fixed_once_issued ON billing_invoice;
DROP FUNCTION IF EXISTS billing_invoice_fixed_once_issued();
ALTER TABLE billing_invoice DROP COLUMN IF EXISTS issued_in;
"""

NEVER_DELETED = """
CREATE FUNCTION billing_money_record_never_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% % cannot be deleted: money moved (or was about to) and the record stays',
        TG_TABLE_NAME, OLD.id USING ERRCODE = 'restrict_violation';
END $$;

CREATE TRIGGER billing_refund_never_deleted
    BEFORE DELETE ON billing_refund
    FOR EACH ROW EXECUTE FUNCTION billing_money_record_never_deleted();

CREATE TRIGGER gateways_paymentattempt_never_deleted
    BEFORE DELETE ON gateways_paymentattempt
    FOR EACH ROW EXECUTE FUNCTION billing_money_record_never_deleted();
"""

NEVER_DELETED_REVERSE = """
DROP TRIGGER IF EXISTS gateways_paymentattempt_never_deleted ON gateways_paymentattempt;
DROP TRIGGER IF EXISTS billing_refund_never_deleted ON billing_refund;
DROP FUNCTION IF EXISTS billing_money_record_never_deleted();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0014_balance_without_redundant_indexes"),
        ("gateways", "0003_chip_metadata_refund_amount"),
    ]

    operations = [
        migrations.RunSQL(INVOICES, INVOICES_REVERSE),
        migrations.RunSQL(NEVER_DELETED, NEVER_DELETED_REVERSE),
    ]
