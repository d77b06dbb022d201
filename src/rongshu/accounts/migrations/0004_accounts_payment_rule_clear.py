"""PostgreSQL: ``accounts_payment_rule_clear(debit, credit)``, the SQL twin of the common
case of ``accounts.rules.check_account_type_rules`` for an internal payment.

It answers true only where the Python rule would certainly pass WITHOUT writing anything:
the debit side is none of our customer accounts, or is open, not frozen by its owner and
either Type I or paying its bound account; the credit side is none of ours, or is open and
not Type III. It takes the lock the Python rule takes (the credit side's row ``FOR
UPDATE``). Every other case — a refusal, a Type II/III usage counter to raise, a Type III
balance cap to check — answers false, and the caller lets the Python rule decide (the
payments domain's one-call order falls back to its general path, docs/decisions/0006).
Nothing to do on SQLite.
"""

from __future__ import annotations

from django.db import migrations

from rongshu.kernel.migration_ops import postgresql_only

CREATE = """
CREATE OR REPLACE FUNCTION accounts_payment_rule_clear(p_debit uuid, p_credit uuid)
RETURNS boolean
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    d record;
    c record;
BEGIN
    SELECT status, self_frozen, account_type INTO c
      FROM accounts_customeraccount WHERE ledger_account_id = p_credit FOR UPDATE;
    IF FOUND AND (c.status <> 'open' OR c.account_type = 3) THEN
        RETURN false;
    END IF;
    SELECT status, self_frozen, account_type, bound_ledger_account_id INTO d
      FROM accounts_customeraccount WHERE ledger_account_id = p_debit;
    IF FOUND AND (d.status <> 'open' OR d.self_frozen
                  OR (d.account_type IN (2, 3)
                      AND d.bound_ledger_account_id IS DISTINCT FROM p_credit)) THEN
        RETURN false;
    END IF;
    RETURN true;
END
$$;
"""

DROP = "DROP FUNCTION IF EXISTS accounts_payment_rule_clear(uuid, uuid)"


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_notification_title_msgid")]

    operations = [postgresql_only(CREATE, DROP)]
