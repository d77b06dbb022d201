"""PostgreSQL: ``ledger_post_single``, the one-round-trip write of a fresh single transfer.

The function decides only whether a single-phase transfer is certainly ``created`` under the
evaluator's rules (both accounts exist and are open, same currency, no overflow, no balance
constraint broken, id not stored) and, if so, writes it: locks both accounts in primary-key
order, inserts the transfer ``ON CONFLICT (transfer_id) DO NOTHING`` and adds the amount to
both posted totals. It never refuses: in every other case it writes nothing and answers 1
(the id is stored) or 2 (anything else), and the Python evaluator in ``ledger/services.py``
answers the item, with its codes (ADR 0005, "Single transfers in one statement").
Nothing to do on SQLite.
"""

from __future__ import annotations

from django.db import migrations

from rongshu.kernel.migration_ops import postgresql_only

CREATE = """
CREATE OR REPLACE FUNCTION ledger_post_single(
    p_transfer_id uuid, p_debit uuid, p_credit uuid, p_amount bigint, p_currency varchar,
    p_code varchar, p_reference varchar, p_metadata jsonb, p_created_at timestamptz
) RETURNS integer
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    r ledger_account%ROWTYPE;
    d ledger_account%ROWTYPE;
    c ledger_account%ROWTYPE;
    found_accounts integer := 0;
BEGIN
    IF p_debit = p_credit OR p_amount IS NULL OR p_amount <= 0 THEN
        RETURN 2;
    END IF;
    -- The same lock as every other writer: both accounts, in primary-key order.
    FOR r IN SELECT * FROM ledger_account WHERE public_id IN (p_debit, p_credit)
             ORDER BY id FOR UPDATE LOOP
        IF r.public_id = p_debit THEN d := r; ELSE c := r; END IF;
        found_accounts := found_accounts + 1;
    END LOOP;
    IF found_accounts <> 2
       OR d.currency <> p_currency OR c.currency <> p_currency
       OR d.status <> 'open' OR c.status <> 'open'
       -- numeric: a sum past 2^63-1 must answer "no", not raise
       OR d.debits_pending::numeric + d.debits_posted + p_amount > 9223372036854775807
       OR c.credits_pending::numeric + c.credits_posted + p_amount > 9223372036854775807
       OR (d.debits_must_not_exceed_credits
           AND d.debits_pending::numeric + d.debits_posted + p_amount
               > d.credits_posted::numeric + d.overdraft_limit)
       OR (c.credits_must_not_exceed_debits
           AND c.credits_pending::numeric + c.credits_posted + p_amount > c.debits_posted)
    THEN
        RETURN 2;
    END IF;
    INSERT INTO ledger_transfer (
        transfer_id, debit_account_id, credit_account_id, amount, currency, kind, linked,
        pending_id, timeout, code, reference, metadata, created_at,
        debit_account_net_after, credit_account_net_after)
    VALUES (
        p_transfer_id, d.id, c.id, p_amount, p_currency, 'single', false,
        NULL, 0, p_code, p_reference, p_metadata, p_created_at,
        d.credits_posted - (d.debits_posted + p_amount),
        (c.credits_posted + p_amount) - c.debits_posted)
    ON CONFLICT (transfer_id) DO NOTHING;
    IF NOT FOUND THEN
        RETURN 1;  -- stored already (a replay or a concurrent writer): nothing written
    END IF;
    UPDATE ledger_account
       SET debits_posted = debits_posted + CASE WHEN id = d.id THEN p_amount ELSE 0 END,
           credits_posted = credits_posted + CASE WHEN id = c.id THEN p_amount ELSE 0 END
     WHERE id IN (d.id, c.id);
    RETURN 0;
END
$$;
"""

DROP = (
    "DROP FUNCTION IF EXISTS ledger_post_single("
    "uuid, uuid, uuid, bigint, varchar, varchar, varchar, jsonb, timestamptz)"
)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0005_transfer_no_db_fk")]

    operations = [postgresql_only(CREATE, DROP)]
