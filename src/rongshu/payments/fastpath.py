"""PostgreSQL: a fresh payment order in one database call, or its start in one statement.

:func:`internal_order` (docs/decisions/0006, second addendum) sends a whole password-level
internal order — owners' checks, order row, limits, the payment rules' SQL twins, history,
ledger posting and outbox events — as ONE prepared statement around the SQL function
``payments_internal_order`` (migrations 0004 and 0005), which writes all of it or nothing;
whatever it leaves to Python goes the general way below.

:func:`start` puts in ONE statement (docs/decisions/0006, addendum) what the general path
of ``services._carry_out`` sends as four: the order row (``INSERT … ON CONFLICT DO
NOTHING``), the conditional day-and-year ``UPDATE`` of the limit rows (exactly the statement
of ``limits._change_both``: :func:`limits.both_rows_sql`, day row locked first) and — only
when both limit rows took the amount — the order's state history (one row: nothing →
final) and its outbox events. It decides nothing itself: every refusal still comes from
the Python code, which carries on from what the statement answers:

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
from rongshu.ledger import services as ledger
from rongshu.ledger.types import TransferIn
from rongshu.payments import limits
from rongshu.payments.models import PaymentOrder, PaymentStateChange

__all__ = ["BOTH", "DONE", "GENERAL", "TAKEN", "internal_order", "start"]

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
        limit_rows = limits.both_rows_sql(where=" AND EXISTS (SELECT 1 FROM o)")
        self.sql = (
            f"WITH o AS ({fastsql.json_insert_sql(PaymentOrder, skip_conflict=True)}), "  # noqa: S608
            f"{limit_rows.removeprefix('WITH ')}, "
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
        order.customer_id,
        order.channel,
        order.currency,
        day,
        day.replace(month=1, day=1),
        amount,
        caps[0] - amount,
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
    fastsql.saved(order, pk)
    raised = frozenset(periods)
    if raised == BOTH:
        if history != len(path):  # pragma: no cover - the order row is ours
            raise RuntimeError("the order's history was not written")
        dispatch_after_commit(event_ids)
    return raised


# ---------------------------------------------------------------- the whole order in one call
class _OneCall:
    """The statement of :func:`internal_order` for orders with history ``path`` and
    ``events`` outbox rows of their own (plus the posting's): the SQL function
    ``payments_internal_order`` (migrations 0004, 0005) and, where it answered 0, the outbox rows in
    the same statement. The path's states and reasons (the code's own constants) are part of
    the statement's text: three fewer array parameters to convert on every call."""

    def __init__(
        self, path: tuple[tuple[str, str, str], ...], events: int, posted: OutboxRowTemplate
    ) -> None:
        self.event = OutboxRowTemplate("", connection)  # each row says its own type
        rows = [f"SELECT {self.event.values} FROM r WHERE r.r_status = 0"] * events  # noqa: S608
        rows.append(f"SELECT {posted.values} FROM r WHERE r.r_status = 0")  # noqa: S608
        inserts = " UNION ALL ".join(rows)
        steps = ", ".join(
            "ARRAY[" + ", ".join(_literal(step[k]) for step in path) + "]::varchar[]"
            for k in range(3)
        )
        self.sql = (
            "WITH r AS MATERIALIZED (SELECT * FROM payments_internal_order(%s::jsonb, "  # noqa: S608
            "%s::varchar, %s::date, %s::bigint, %s::date, %s::bigint, %s::varchar, "
            f"{steps}, %s::varchar, %s::jsonb, %s::timestamptz)), "
            f"e AS (INSERT INTO {self.event.table} ({self.event.columns}) {inserts} "
            "RETURNING id) "
            "SELECT r.r_status, r.r_order, r.r_name, ARRAY(SELECT id FROM e ORDER BY id) FROM r"
        )


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


_ONE_CALL: dict[tuple[str, tuple[tuple[str, str, str], ...], int], _OneCall] = {}

DONE, TAKEN, GENERAL = 0, 1, 2


def internal_order(
    order: PaymentOrder,
    *,
    payee_name: str,
    actor: str,
    path: Sequence[tuple[str, str, str]],
    events: Sequence[tuple[DomainEvent, str]],
    caps: tuple[int, int],
    day: dt.date,
    posting: TransferIn,
) -> int:
    """A fresh internal order (``order``, in memory, stamped in its final state) in ONE
    call: :data:`DONE` — the order, its limits, history, events and ledger posting are
    written and ``order`` is saved (its ``creditor_name`` from the payee's account unless
    ``payee_name``); :data:`TAKEN` — its key is taken, nothing written; :data:`GENERAL` —
    anything else (a refusal or a case the function leaves to Python), nothing written."""
    now = clock.now()
    found = ledger.single_posting(posting, now)
    if found is None:
        return GENERAL
    metadata, posted, posted_params = found
    steps = tuple(path)
    key = (connection.alias, steps, len(events))
    statement = _ONE_CALL.get(key)
    if statement is None:
        statement = _ONE_CALL[key] = _OneCall(steps, len(events), posted)
    amount = order.amount_minor
    params: list[Any] = [
        fastsql.json_row(order),
        payee_name,
        day,
        caps[0] - amount,
        day.replace(month=1, day=1),
        caps[1] - amount,
        actor,
        posting.code,
        metadata,
        now,
    ]
    template = statement.event
    for event, dedupe_key in events:
        params += template.event_params(event, dedupe_key, now)
    params += posted_params
    cursor = fastsql.prepared_cursor()
    cursor.execute(statement.sql, params)
    status, pk, creditor_name, event_ids = cursor.fetchone()
    if status != DONE:
        return TAKEN if status == TAKEN else GENERAL
    fastsql.saved(order, pk)
    order.creditor_name = creditor_name
    dispatch_after_commit(event_ids)
    return DONE
