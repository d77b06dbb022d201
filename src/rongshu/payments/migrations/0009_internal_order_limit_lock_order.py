"""PostgreSQL: ``payments_internal_order`` locks the customer's day limit row before the year
row (docs/decisions/0006, ninth addendum).

Versions 0004 and 0005 raised both rows with one ``UPDATE``, which locks them in the order
its scan meets them — for any scan but one of the unique index, their order in the table.
Once an update had moved one row past the other, two payments of the same customer could
each hold one row and wait for the other: a deadlock, one payment failing with a database
error. This version locks both rows first, ordered by period (``ORDER BY … FOR UPDATE``),
then raises them within their caps — the statement of ``limits.both_rows_sql``; the rest of
the function is 0005's.
"""

from __future__ import annotations

import importlib

from django.db import migrations

from rongshu.kernel.migration_ops import postgresql_only

_V5 = importlib.import_module("rongshu.payments.migrations.0005_internal_order_first_payment")

# 0005's statement raising the rows that exist (the rest of its block creates missing ones)
_RAISE_V5 = _V5._RAISE_V5.split("        IF raised IS NULL")[0]

# both rows locked in the order of their period first, then raised within their caps
_RAISE_V6 = """        WITH k AS MATERIALIZED (
            SELECT id FROM payments_limitusage
             WHERE customer_id = o.customer_id AND channel = o.channel
               AND currency = o.currency
               AND ((period = 'day' AND starts_on = p_day)
                    OR (period = 'year' AND starts_on = p_year))
             ORDER BY period FOR UPDATE),
        u AS (
            UPDATE payments_limitusage t SET used_minor = t.used_minor + o.amount_minor
              FROM k
             WHERE t.id = k.id
               AND ((t.period = 'day' AND t.used_minor <= p_day_room)
                    OR (t.period = 'year' AND t.used_minor <= p_year_room))
            RETURNING t.period)
        SELECT array_agg(period) INTO raised FROM u;
"""

assert _V5.CREATE.count(_RAISE_V5) == 1
CREATE = _V5.CREATE.replace(_RAISE_V5, _RAISE_V6)


class Migration(migrations.Migration):
    dependencies = [("payments", "0008_dynamic_qr")]

    operations = [postgresql_only(CREATE, _V5.CREATE)]
