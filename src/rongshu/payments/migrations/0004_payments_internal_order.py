"""PostgreSQL: ``payments_internal_order``, a fresh password-level internal order in one
database call (docs/decisions/0006, second addendum).

It does, in the general path's order and with its locks, what ``services.do_create_payment``
does for such an order, and writes either all of it or nothing:

1. the two accounts' owners through the ledger's ``ledger_owners`` — the payer's account is
   the customer's, in the order's currency; the payee's exists, is not the bank's, is in the
   currency and is another account (the payee's name, unless given, is its account's name);
2. the order row ``ON CONFLICT DO NOTHING`` (a taken key: nothing written, answer 1);
3. the day and year limit rows raised by the amount within their caps (one conditional
   ``UPDATE``, the statement of ``limits._change_both``);
4. the accounts domain's ``accounts_payment_rule_clear`` (its rule, where it certainly passes
   without writing);
5. the three history rows;
6. the posting through the ledger's ``ledger_post_single`` (it answers 0 only where it wrote).

Any other outcome at 1, 3, 4 or 6 — a refusal, a first payment of the day or year (no limit
row yet), an account rule that must count or refuse, a posting the ledger's evaluator must
answer — undoes whatever the call wrote (the block's own subtransaction) and answers 2: the
Python general path then handles the order from scratch, with its typed errors. The order's
and the posting's outbox rows are inserted by the calling statement when the answer is 0
(``payments.fastpath``). Nothing to do on SQLite.
"""

from __future__ import annotations

from django.db import migrations

from rongshu.kernel.migration_ops import postgresql_only

# the columns of payments_paymentorder but its id (tests/payments/test_fast_path.py checks
# this against the model: a new column needs a new version of this function)
ORDER_COLUMNS = (
    "public_id, customer_id, idempotency_key, rail, channel, auth_level, state, "
    "debit_account_id, debtor_name, amount_minor, fee_minor, currency, creditor_account_id, "
    "creditor_account_number, creditor_name, creditor_bank_code, network, remittance_info, "
    "reason_code, hold_transfer_id, settle_transfer_id, fee_transfer_id, "
    "reversal_transfer_id, refunded_minor, limits_released, created_at, updated_at, "
    "settled_at, merchant_id"
)

ORDER_VALUES = ", ".join(f"o.{column}" for column in ORDER_COLUMNS.split(", "))

CREATE = f"""
CREATE OR REPLACE FUNCTION payments_internal_order(
    p_order jsonb, p_payee_name varchar, p_day date, p_day_room bigint, p_year date,
    p_year_room bigint, p_actor varchar, p_from varchar[], p_to varchar[],
    p_reasons varchar[], p_code varchar, p_metadata jsonb,
    p_posted_at timestamptz,
    OUT r_status integer, OUT r_order bigint, OUT r_name varchar)
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    o payments_paymentorder%ROWTYPE;
    a record;
    debit_ok boolean := false;
    credit_name varchar;
    n integer;
BEGIN
    o := jsonb_populate_record(NULL::payments_paymentorder, p_order);
    r_status := 2;
    IF o.rail <> 'internal' OR o.creditor_account_id IS NULL
       OR o.creditor_account_id = o.debit_account_id THEN
        RETURN;
    END IF;
    FOR a IN SELECT * FROM ledger_owners(ARRAY[o.debit_account_id, o.creditor_account_id]) LOOP
        IF a.public_id = o.debit_account_id THEN
            debit_ok := a.owner_type = 'customer' AND a.owner_id = o.customer_id::text
                        AND a.currency = o.currency;
        ELSIF a.owner_type <> 'bank' AND a.currency = o.currency THEN
            credit_name := a.name;
        END IF;
    END LOOP;
    IF NOT debit_ok OR credit_name IS NULL THEN
        RETURN;  -- nothing written: the general path answers
    END IF;
    o.creditor_name := left(CASE WHEN p_payee_name <> '' THEN p_payee_name
                                 ELSE credit_name END, 140);
    r_name := o.creditor_name;
    BEGIN
        INSERT INTO payments_paymentorder ({ORDER_COLUMNS})
        VALUES ({ORDER_VALUES})
        ON CONFLICT DO NOTHING
        RETURNING id INTO r_order;
        IF r_order IS NULL THEN
            r_status := 1;  -- the key is taken: nothing written
            RETURN;
        END IF;
        UPDATE payments_limitusage SET used_minor = used_minor + o.amount_minor
         WHERE customer_id = o.customer_id AND channel = o.channel AND currency = o.currency
           AND ((period = 'day' AND starts_on = p_day AND used_minor <= p_day_room)
                OR (period = 'year' AND starts_on = p_year AND used_minor <= p_year_room));
        GET DIAGNOSTICS n = ROW_COUNT;
        IF n <> 2 THEN
            RAISE EXCEPTION USING ERRCODE = 'RSP01';
        END IF;
        IF NOT accounts_payment_rule_clear(o.debit_account_id, o.creditor_account_id) THEN
            RAISE EXCEPTION USING ERRCODE = 'RSP01';
        END IF;
        INSERT INTO payments_paymentstatechange (order_id, from_state, to_state, actor, reason, at)
        SELECT r_order, v.f, v.t, p_actor, v.r, o.created_at
          FROM unnest(p_from, p_to, p_reasons) WITH ORDINALITY AS v (f, t, r, k)
         ORDER BY v.k;
        IF ledger_post_single(
               o.settle_transfer_id, o.debit_account_id, o.creditor_account_id,
               o.amount_minor, o.currency, p_code,
               left(CASE WHEN o.remittance_info <> '' THEN o.remittance_info
                         ELSE o.creditor_name END, 140),
               p_metadata, p_posted_at) <> 0 THEN
            RAISE EXCEPTION USING ERRCODE = 'RSP01';
        END IF;
        r_status := 0;
    EXCEPTION WHEN SQLSTATE 'RSP01' THEN
        r_status := 2;  -- everything this block wrote is undone
        r_order := NULL;
    END;
END
$$;
"""

DROP = (
    "DROP FUNCTION IF EXISTS payments_internal_order(jsonb, varchar, date, bigint, date, "
    "bigint, varchar, varchar[], varchar[], varchar[], varchar, jsonb, timestamptz)"
)


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0003_quickpaybinding_code_expires_at_and_more"),
        ("ledger", "0007_ledger_owners"),
        ("accounts", "0004_accounts_payment_rule_clear"),
    ]

    operations = [postgresql_only(CREATE, DROP)]
