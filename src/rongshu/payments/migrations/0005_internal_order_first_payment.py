"""PostgreSQL: ``payments_internal_order`` also takes a customer's first payment of the day or
the year (docs/decisions/0006, third addendum).

Version 0004 raised the day and year limit rows with one conditional ``UPDATE`` and left the
order to Python when a row was missing, so every customer's first payment of a day went the
general way. This version raises the rows that exist the same way and then creates the
missing ones with the order's amount (``INSERT … ON CONFLICT DO NOTHING``; the caps were
checked before anything was written). A row that exists but did not take the amount — a
refusal — or one a concurrent first payment created meanwhile leaves the order to Python, as
before, with everything the call wrote undone. The rest of the function is 0004's; the
history it writes is the ``path`` its caller passes (one row for a new order since this
addendum).
"""

from __future__ import annotations

import importlib

from django.db import migrations

from rongshu.kernel.migration_ops import postgresql_only

_V4 = importlib.import_module("rongshu.payments.migrations.0004_payments_internal_order")

_RAISE_V4 = """        UPDATE payments_limitusage SET used_minor = used_minor + o.amount_minor
         WHERE customer_id = o.customer_id AND channel = o.channel AND currency = o.currency
           AND ((period = 'day' AND starts_on = p_day AND used_minor <= p_day_room)
                OR (period = 'year' AND starts_on = p_year AND used_minor <= p_year_room));
        GET DIAGNOSTICS n = ROW_COUNT;
        IF n <> 2 THEN
            RAISE EXCEPTION USING ERRCODE = 'RSP01';
        END IF;
"""

# the rows that exist, raised within their caps (the statement of limits._change_both); then
# the missing ones created with the amount (the caps allow it: checked before the block)
_RAISE_V5 = """        WITH u AS (
            UPDATE payments_limitusage SET used_minor = used_minor + o.amount_minor
             WHERE customer_id = o.customer_id AND channel = o.channel
               AND currency = o.currency
               AND ((period = 'day' AND starts_on = p_day AND used_minor <= p_day_room)
                    OR (period = 'year' AND starts_on = p_year
                        AND used_minor <= p_year_room))
            RETURNING period)
        SELECT array_agg(period) INTO raised FROM u;
        IF raised IS NULL OR cardinality(raised) < 2 THEN
            INSERT INTO payments_limitusage
                   (customer_id, channel, period, starts_on, currency, used_minor)
            SELECT o.customer_id, o.channel, v.period, v.starts_on, o.currency, o.amount_minor
              FROM (VALUES ('day'::varchar, p_day), ('year'::varchar, p_year))
                   AS v (period, starts_on)
             WHERE raised IS NULL OR NOT v.period = ANY (raised)
            ON CONFLICT DO NOTHING;
            GET DIAGNOSTICS n = ROW_COUNT;
            IF n <> 2 - coalesce(cardinality(raised), 0) THEN
                RAISE EXCEPTION USING ERRCODE = 'RSP01';  -- a refusal, or a concurrent first
            END IF;
        END IF;
"""

_CAPS_CHECK = """    IF p_day_room < 0 OR p_year_room < 0 THEN
        RETURN;  -- over a cap by itself: the general path refuses it
    END IF;
    BEGIN
        INSERT INTO payments_paymentorder"""


def _v5(v4: str) -> str:
    for old, new in (
        (_RAISE_V4, _RAISE_V5),
        ("    BEGIN\n        INSERT INTO payments_paymentorder", _CAPS_CHECK),
        ("    n integer;\n", "    n integer;\n    raised varchar[];\n"),
    ):
        assert v4.count(old) == 1, old
        v4 = v4.replace(old, new)
    return v4


CREATE = _v5(_V4.CREATE)


class Migration(migrations.Migration):
    dependencies = [("payments", "0004_payments_internal_order")]

    operations = [postgresql_only(CREATE, _V4.CREATE)]
