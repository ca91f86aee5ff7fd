"""More of the ledger's rules enforced by PostgreSQL (issue 13, DESIGN.md Ledger).

1. At commit, whatever order its rows were inserted in, every line belongs to the merchant
   environment of its entry and of its account, and an entry's lines are in one currency
   (deferred constraint triggers on lines and on entries; the BEFORE trigger of 0002 still gives
   the early error when the entry is inserted first). The check takes a share lock on the line's
   account, so a concurrent change of the account waits for the posting (and is then refused).
2. Lines are posted only on leaf accounts (a parent's balance is the sum of its sub-accounts),
   and an account with lines cannot become a parent.
3. An account's merchant, environment, code, type, normal balance and parent are fixed once it
   has lines (its name may change).
"""

from django.db import migrations

AT_COMMIT = """
CREATE FUNCTION ledger_entry_must_be_of_one_book() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    -- TG_ARGV[0] names the column holding the entry id: `id` on entries, `entry_id` on lines.
    checked_entry text := to_jsonb(NEW) ->> TG_ARGV[0];
    entry record;
    stray record;
BEGIN
    SELECT id, merchant_id, environment INTO entry
      FROM ledger_journalentry WHERE id = checked_entry;
    IF NOT FOUND THEN
        RETURN NULL;  -- the foreign key of the line reports the missing entry
    END IF;
    PERFORM 1 FROM ledger_account a JOIN ledger_journalline l ON l.account_id = a.id
      WHERE l.entry_id = checked_entry FOR SHARE OF a;
    SELECT l.id INTO stray
      FROM ledger_journalline l JOIN ledger_account a ON a.id = l.account_id
     WHERE l.entry_id = checked_entry
       AND ((l.merchant_id, l.environment) IS DISTINCT FROM (entry.merchant_id, entry.environment)
            OR (a.merchant_id, a.environment)
               IS DISTINCT FROM (entry.merchant_id, entry.environment))
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'journal line % of entry %: a journal line, its entry and its account '
                        'must belong to one merchant environment', stray.id, checked_entry
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_line_of_one_book';
    END IF;
    IF (SELECT count(DISTINCT currency) FROM ledger_journalline
         WHERE entry_id = checked_entry) > 1 THEN
        RAISE EXCEPTION 'journal entry % must be in one currency', checked_entry
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_entry_one_currency';
    END IF;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER ledger_line_of_one_book
    AFTER INSERT ON ledger_journalline
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_entry_must_be_of_one_book('entry_id');

CREATE CONSTRAINT TRIGGER ledger_entry_of_one_book
    AFTER INSERT ON ledger_journalentry
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_entry_must_be_of_one_book('id');
"""

AT_COMMIT_REVERSE = """
DROP TRIGGER IF EXISTS ledger_entry_of_one_book ON ledger_journalentry;
DROP TRIGGER IF EXISTS ledger_line_of_one_book ON ledger_journalline;
DROP FUNCTION IF EXISTS ledger_entry_must_be_of_one_book();
"""

LEAVES = """
CREATE FUNCTION ledger_line_on_a_leaf() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM ledger_account WHERE parent_id = NEW.account_id) THEN
        RAISE EXCEPTION 'account % has sub-accounts: post to one of them', NEW.account_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_line_on_a_leaf';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER ledger_line_on_a_leaf
    BEFORE INSERT ON ledger_journalline
    FOR EACH ROW EXECUTE FUNCTION ledger_line_on_a_leaf();

CREATE FUNCTION ledger_account_fixed_once_used() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.parent_id IS NOT NULL
           AND EXISTS (SELECT 1 FROM ledger_journalline WHERE account_id = NEW.parent_id) THEN
            RAISE EXCEPTION 'account % has journal lines and cannot get sub-accounts',
                NEW.parent_id USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN NEW;
    END IF;
    IF (NEW.merchant_id, NEW.environment, NEW.code, NEW.type, NEW.normal_balance, NEW.parent_id)
       IS DISTINCT FROM
       (OLD.merchant_id, OLD.environment, OLD.code, OLD.type, OLD.normal_balance, OLD.parent_id)
       AND EXISTS (SELECT 1 FROM ledger_journalline WHERE account_id = OLD.id) THEN
        RAISE EXCEPTION 'account % (%) has journal lines: its merchant, environment, code, type, '
                        'normal balance and parent are fixed', OLD.code, OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF NEW.parent_id IS DISTINCT FROM OLD.parent_id AND NEW.parent_id IS NOT NULL
       AND EXISTS (SELECT 1 FROM ledger_journalline WHERE account_id = NEW.parent_id) THEN
        RAISE EXCEPTION 'account % has journal lines and cannot get sub-accounts',
            NEW.parent_id USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER ledger_account_fixed_once_used
    BEFORE INSERT OR UPDATE ON ledger_account
    FOR EACH ROW EXECUTE FUNCTION ledger_account_fixed_once_used();
"""

LEAVES_REVERSE = """
DROP TRIGGER IF EXISTS ledger_account_fixed_once_used ON ledger_account;
DROP FUNCTION IF EXISTS ledger_account_fixed_once_used();
DROP TRIGGER IF EXISTS ledger_line_on_a_leaf ON ledger_journalline;
DROP FUNCTION IF EXISTS ledger_line_on_a_leaf();
"""


class Migration(migrations.Migration):
    dependencies = [("ledger", "0003_charts_of_existing_merchants")]

    operations = [
        migrations.RunSQL(AT_COMMIT, AT_COMMIT_REVERSE),
        migrations.RunSQL(LEAVES, LEAVES_REVERSE),
    ]
