"""PostgreSQL: the writes that start a fresh payment order, in one prepared statement.

:func:`start` puts in ONE statement (docs/decisions/0006, addendum) what the general path
of ``services._carry_out`` sends as four: the order row (``INSERT … ON CONFLICT DO
NOTHING``), the conditional day-and-year ``UPDATE`` of the limit rows (exactly the statement
of ``limits._change_both``) and — only when both limit rows took the amount — the order's
state history (``created → authorized → final``) and its outbox events. It decides nothing
itself: every refusal still comes from the Python code, which carries on from what the
statement answers:

- the key is taken (a replay or a concurrent twin): nothing was written; the caller answers
  the stored order as before;
- a limit row did not take the amount (its first payment of the day or year, or a refusal):
  the order row is in and the periods that were raised are reported; the caller finishes
  ``limits.do_consume_limits`` for the others (creating the row, or refusing with the same
  ``LimitExceeded``) and writes history and events itself, as the general path does;
- both took it: history and events are written too; the caller runs the payment rules and
  posts to the ledger.

The statement is built from the models (``kernel.fastsql``: the order's cached INSERT and its
fields' own value conversion) and the kernel's outbox row (``OutboxRowTemplate``), so the rows
are the ones the general path writes; ``tests/payments/test_fast_path.py`` compares them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db import connection

from rongshu.kernel import clock, fastsql
from rongshu.kernel.outbox import DomainEvent, OutboxRowTemplate, dispatch_after_commit
from rongshu.payments.models import LimitUsage, PaymentOrder, PaymentStateChange

__all__ = ["BOTH", "start"]

BOTH = frozenset({"day", "year"})


class _Statement:
    """The statement for orders with ``events`` outbox rows, per database alias."""

    def __init__(self, events: int) -> None:
        quote = connection.ops.quote_name
        by_name = {f.name: f for f in PaymentStateChange._meta.concrete_fields}
        history_columns = ", ".join(
            quote(str(by_name[name].column))
            for name in ("order", "from_state", "to_state", "actor", "reason", "at")
        )
        self.event = OutboxRowTemplate("", connection)  # each row says its own type
        used, period, starts = quote("used_minor"), quote("period"), quote("starts_on")
        both = "(SELECT count(*) FROM l) = 2"
        rows = " UNION ALL ".join(
            f"SELECT {self.event.values} FROM o WHERE {both}"  # noqa: S608
            for _ in range(events)
        )
        events_cte = (
            f", e AS (INSERT INTO {self.event.table} ({self.event.columns}) {rows} RETURNING id)"
            if events
            else ""
        )
        self.sql = (
            f"WITH o AS ({fastsql.json_insert_sql(PaymentOrder, skip_conflict=True)}), "  # noqa: S608
            f"l AS (UPDATE {fastsql.table(LimitUsage)} SET {used} = {used} + %s::bigint "
            f"WHERE {quote('customer_id')} = %s::uuid AND {quote('channel')} = %s::varchar "
            f"AND {quote('currency')} = %s::varchar "
            f"AND (({period} = 'day' AND {starts} = %s::date AND {used} <= %s::bigint) "
            f"OR ({period} = 'year' AND {starts} = %s::date AND {used} <= %s::bigint)) "
            f"AND EXISTS (SELECT 1 FROM o) RETURNING {period}), "
            f"h AS (INSERT INTO {fastsql.table(PaymentStateChange)} ({history_columns}) "
            f"SELECT o.id, v.f, v.t, %s::varchar, v.r, %s::timestamptz FROM o, "
            "unnest(%s::varchar[], %s::varchar[], %s::varchar[]) WITH ORDINALITY "
            f"AS v (f, t, r, n) WHERE {both} ORDER BY v.n RETURNING 1)"
            f"{events_cte} "
            "SELECT (SELECT id FROM o), ARRAY(SELECT period FROM l), (SELECT count(*) FROM h), "
            + ("ARRAY(SELECT id FROM e ORDER BY id)" if events else "ARRAY[]::bigint[]")
        )


_STATEMENTS: dict[tuple[str, int], _Statement] = {}


def start(
    order: PaymentOrder,
    *,
    actor: str,
    path: Sequence[tuple[str, str, str]],
    events: Sequence[tuple[DomainEvent, str]],
    caps: tuple[int, int],
    day: dt.date,
) -> frozenset[str] | None:
    """Insert ``order`` (its final state stamped), raise its customer's day and year limit
    rows by its amount within ``caps`` (daily, yearly) and, if both rows took it, write its
    history ``path`` ((from, to, reason) per step; ``actor``, at the order's creation) and
    its ``events`` ((event, dedupe key)). Returns None when the order's key is taken (nothing
    written), else the periods raised (:data:`BOTH`: everything above was written)."""
    assert order.customer_id is not None
    key = (connection.alias, len(events))
    statement = _STATEMENTS.get(key)
    if statement is None:
        statement = _STATEMENTS[key] = _Statement(len(events))
    amount = order.amount_minor
    now = clock.now()
    params: list[Any] = [
        fastsql.json_row(order),
        amount,
        order.customer_id,
        order.channel,
        order.currency,
        day,
        caps[0] - amount,
        day.replace(month=1, day=1),
        caps[1] - amount,
        actor,
        order.created_at,
    ]
    params += [[p[0] for p in path], [p[1] for p in path], [p[2] for p in path]]
    template = statement.event
    for event, dedupe_key in events:
        params += template.event_params(event, dedupe_key, now)
    cursor = fastsql.prepared_cursor()
    cursor.execute(statement.sql, params)
    pk, periods, history, event_ids = cursor.fetchone()
    if pk is None:
        return None
    order.pk = pk
    order._state.adding = False
    order._state.db = connection.alias
    raised = frozenset(periods)
    if raised == BOTH:
        if history != len(path):  # pragma: no cover - the order row is ours
            raise RuntimeError("the order's history was not written")
        dispatch_after_commit(event_ids)
    return raised
