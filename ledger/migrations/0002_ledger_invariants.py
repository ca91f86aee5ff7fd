"""The ledger's invariants, enforced by PostgreSQL itself (DESIGN.md, Ledger).

1. At commit, every journal entry has lines and its debits equal its credits in each currency
   (deferred constraint triggers on entries and lines, so an entry's lines can be inserted one by
   one inside the transaction that posts it).
2. Posted entries and lines are never updated or deleted: a correction is a reversing entry.
3. An entry's `posted_at` is its posting transaction's start time, and lines can be added to an
   entry only in that transaction; a line belongs to the same merchant and environment as its
   entry and its account.
The CHECK constraints on lines (one of debit/credit positive, the other zero; a currency code)
come with the models in 0001.
"""

from django.db import migrations

BALANCED = """
CREATE FUNCTION ledger_entry_must_balance() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    -- TG_ARGV[0] names the column holding the entry id: `id` on entries, `entry_id` on lines.
    checked_entry text := to_jsonb(NEW) ->> TG_ARGV[0];
    off record;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM ledger_journalline WHERE entry_id = checked_entry) THEN
        RAISE EXCEPTION 'journal entry % has no lines', checked_entry
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_entry_balanced';
    END IF;
    SELECT currency, sum(debit) AS debits, sum(credit) AS credits INTO off
      FROM ledger_journalline WHERE entry_id = checked_entry
     GROUP BY currency HAVING sum(debit) <> sum(credit)
     ORDER BY currency LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'journal entry % does not balance in %: debits % <> credits %',
            checked_entry, off.currency, off.debits, off.credits
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_entry_balanced';
    END IF;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER ledger_entry_balanced_on_line
    AFTER INSERT OR UPDATE ON ledger_journalline
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_entry_must_balance('entry_id');

CREATE CONSTRAINT TRIGGER ledger_entry_balanced_on_entry
    AFTER INSERT ON ledger_journalentry
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_entry_must_balance('id');
"""

BALANCED_REVERSE = """
DROP TRIGGER IF EXISTS ledger_entry_balanced_on_entry ON ledger_journalentry;
DROP TRIGGER IF EXISTS ledger_entry_balanced_on_line ON ledger_journalline;
DROP FUNCTION IF EXISTS ledger_entry_must_balance();
"""

IMMUTABLE = """
CREATE FUNCTION ledger_posted_is_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% of a posted % (%) is not allowed; post a reversing entry instead',
        TG_OP, TG_TABLE_NAME, OLD.id
        USING ERRCODE = 'restrict_violation';
END $$;

CREATE TRIGGER ledger_entry_immutable
    BEFORE UPDATE OR DELETE ON ledger_journalentry
    FOR EACH ROW EXECUTE FUNCTION ledger_posted_is_immutable();

CREATE TRIGGER ledger_line_immutable
    BEFORE UPDATE OR DELETE ON ledger_journalline
    FOR EACH ROW EXECUTE FUNCTION ledger_posted_is_immutable();
"""

IMMUTABLE_REVERSE = """
DROP TRIGGER IF EXISTS ledger_line_immutable ON ledger_journalline;
DROP TRIGGER IF EXISTS ledger_entry_immutable ON ledger_journalentry;
DROP FUNCTION IF EXISTS ledger_posted_is_immutable();
"""

POSTING = """
CREATE FUNCTION ledger_entry_stamp_posted_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.posted_at := transaction_timestamp();
    RETURN NEW;
END $$;

CREATE TRIGGER ledger_entry_posted_at
    BEFORE INSERT ON ledger_journalentry
    FOR EACH ROW EXECUTE FUNCTION ledger_entry_stamp_posted_at();

CREATE FUNCTION ledger_line_must_belong() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    entry record;
    account record;
BEGIN
    SELECT merchant_id, environment, posted_at INTO entry
      FROM ledger_journalentry WHERE id = NEW.entry_id;
    IF FOUND AND entry.posted_at <> transaction_timestamp() THEN
        RAISE EXCEPTION 'journal entry % is already posted; post a new entry instead', NEW.entry_id
            USING ERRCODE = 'restrict_violation';
    END IF;
    SELECT merchant_id, environment INTO account FROM ledger_account WHERE id = NEW.account_id;
    IF (FOUND AND (account.merchant_id, account.environment)
                  IS DISTINCT FROM (NEW.merchant_id, NEW.environment))
       OR (entry.merchant_id IS NOT NULL AND (entry.merchant_id, entry.environment)
                  IS DISTINCT FROM (NEW.merchant_id, NEW.environment)) THEN
        RAISE EXCEPTION 'a journal line, its entry and its account must belong to one merchant '
                        'environment' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER ledger_line_belongs
    BEFORE INSERT ON ledger_journalline
    FOR EACH ROW EXECUTE FUNCTION ledger_line_must_belong();
"""

POSTING_REVERSE = """
DROP TRIGGER IF EXISTS ledger_line_belongs ON ledger_journalline;
DROP FUNCTION IF EXISTS ledger_line_must_belong();
DROP TRIGGER IF EXISTS ledger_entry_posted_at ON ledger_journalentry;
DROP FUNCTION IF EXISTS ledger_entry_stamp_posted_at();
"""


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    operations = [
        migrations.RunSQL(BALANCED, BALANCED_REVERSE),
        migrations.RunSQL(IMMUTABLE, IMMUTABLE_REVERSE),
        migrations.RunSQL(POSTING, POSTING_REVERSE),
    ]
