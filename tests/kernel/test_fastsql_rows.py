"""The rows the hot paths build as SQL text (kernel.fastsql's JSON row, the outbox's row
template) are exactly the rows the ORM / record_events write — on either database."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from typing import Any

import pytest
from django.db import connection, models

from rongshu.kernel import clock, fastsql, outbox
from rongshu.kernel.ids import new_id
from rongshu.kernel.models import OutboxEvent
from rongshu.payments.models import PaymentOrder

pytestmark = pytest.mark.django_db


def _as_json(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _order(**overrides: Any) -> PaymentOrder:
    now = clock.now()
    fields: dict[str, Any] = {
        "customer_id": uuid.uuid4(),
        "idempotency_key": "k-1",
        "rail": "internal",
        "channel": "api",
        "auth_level": "password",
        "state": "settled",
        "debit_account_id": new_id(),
        "debtor_name": "张三",
        "amount_minor": 12_345,
        "currency": "CNY",
        "creditor_account_id": new_id(),
        "creditor_name": "李四",
        "remittance_info": "rent",
        "created_at": now,
        "updated_at": now,
        "settled_at": now,
    }
    fields.update(overrides)
    return PaymentOrder(**fields)


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"customer_id": None, "settled_at": None, "creditor_account_id": None},
        {"created_at": dt.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=dt.UTC)},
    ],
)
def test_json_row_holds_what_each_field_converts_for_its_column(overrides: dict[str, Any]) -> None:
    order = _order(**overrides)
    row = json.loads(fastsql.json_row(order))
    sql = fastsql.json_insert_sql(PaymentOrder, skip_conflict=True)
    columns = re.search(r"\((.*?)\) SELECT", sql)
    assert columns is not None
    named = [c.strip().strip('"') for c in columns.group(1).split(",")]
    assert list(row) == named  # every column of the INSERT, in its order
    assert "ON CONFLICT DO NOTHING" in sql and sql.endswith('RETURNING "id"')
    fields = {f.column: f for f in PaymentOrder._meta.concrete_fields}
    for column, value in row.items():
        field = fields[column]
        expected = field.get_db_prep_save(field.pre_save(order, True), connection)
        if isinstance(field, models.DateTimeField) and value is not None:
            # a datetime: the same instant, whichever text form the database takes
            got = dt.datetime.fromisoformat(str(value).replace(" ", "T"))
            want = (
                expected
                if isinstance(expected, dt.datetime)
                else dt.datetime.fromisoformat(str(expected).replace(" ", "T"))
            )
            if got.tzinfo is None:
                got = got.replace(tzinfo=dt.UTC)
            if want.tzinfo is None:
                want = want.replace(tzinfo=dt.UTC)
            assert got == want, column
        else:
            assert value == _as_json(expected), column


def test_json_row_refuses_a_value_it_cannot_write_as_json() -> None:
    with pytest.raises(TypeError, match="not a plain column value"):
        fastsql._json_value(object())


def test_outbox_row_template_is_the_row_record_events_writes() -> None:
    @outbox.dataclasses.dataclass(frozen=True)
    class Happened(outbox.DomainEvent):
        event_type = "test.Happened"
        ref: str
        amount: int

    event = Happened("r1", 7)
    now = clock.now()
    template = outbox.OutboxRowTemplate(Happened.event_type, connection)
    columns = [c.strip().strip('"') for c in template.columns.split(",")]
    stored = [f.column for f in OutboxEvent._meta.concrete_fields if not f.primary_key]
    assert columns == stored
    assert template.values.count("%s") == len(columns)
    params = dict(zip(columns, template.params(event.payload(), now), strict=True))
    second = dict(zip(columns, template.params(event.payload(), now), strict=True))
    assert params["event_id"] != second["event_id"]  # a fresh id per row

    (row,) = outbox.record_events([(event, None)])
    row.refresh_from_db()
    assert params["event_type"] == row.event_type
    assert json.loads(params["payload"]) == row.payload == {"ref": "r1", "amount": 7}
    assert params["dedupe_key"] is None and row.dedupe_key is None
    assert params["state"] == row.state == OutboxEvent.PENDING
    assert params["attempts"] == row.attempts == 0
    assert json.loads(params["delivered_handlers"]) == row.delivered_handlers == []
    assert params["last_error"] == row.last_error == ""
    assert params["delivered_at"] is None and row.delivered_at is None
    assert params["next_attempt_at"] == params["created_at"] == now
    assert isinstance(params["event_id"], uuid.UUID | str)


def _stored(record: Any) -> dict[str, Any]:
    row = type(record).objects.filter(pk=record.pk).values().get()
    row["response_body"] = bytes(row["response_body"])  # memoryview on PostgreSQL
    return row


def test_update_writes_what_save_with_update_fields_writes() -> None:
    """``fastsql.update`` (the idempotent answer's hot path) stores exactly what the ORM's
    ``save(update_fields=…)`` stores — bytes, JSON, text, integers — and touches no other
    column; a row that is gone answers 0."""
    from rongshu.kernel.models import IdempotencyRecord

    now = clock.now()
    fields = ("state", "response_status", "response_body", "response_headers")

    def claimed(key: str) -> IdempotencyRecord:
        return IdempotencyRecord.objects.create(
            scope="s", key=key, fingerprint="f", lease_until=now, created_at=now
        )

    by_orm, by_sql = claimed("a"), claimed("b")
    for record in (by_orm, by_sql):
        record.state = IdempotencyRecord.DONE
        record.response_status = 201
        record.response_body = '{"名": "é"}'.encode() + bytes([0, 255])
        record.response_headers = {"Location": "/x/1", "X-Note": "引号\"'"}
        record.fingerprint = "changed in memory only"
    by_orm.save(update_fields=fields)
    assert fastsql.update(by_sql, fields) == 1
    orm_row, sql_row = _stored(by_orm), _stored(by_sql)
    for row in (orm_row, sql_row):
        assert row["fingerprint"] == "f"  # not among the fields: untouched
        del row["id"], row["key"]
    assert sql_row == orm_row
    assert sql_row["response_headers"] == by_sql.response_headers
    IdempotencyRecord.objects.filter(pk=by_sql.pk).delete()
    assert fastsql.update(by_sql, fields) == 0


@pytest.mark.django_db(transaction=True)
def test_hot_path_cursors_take_the_requests_health_check() -> None:
    """A kept connection is checked once per request before its first use (Django's
    ``CONN_HEALTH_CHECKS``): by the hot paths' own cursors too, which are often a request's
    first (the token's look-up), so that a dead connection is replaced, not failed on."""
    connection.ensure_connection()
    dead = connection.connection
    enabled, usable = connection.health_check_enabled, connection.is_usable
    connection.health_check_enabled = True
    connection.health_check_done = False  # as at the start of a request
    connection.is_usable = lambda: False  # type: ignore[method-assign]
    try:
        assert fastsql.fetchall("SELECT 1", []) == [(1,)]
    finally:
        connection.is_usable = usable  # type: ignore[method-assign]
        connection.health_check_enabled = enabled
    assert connection.connection is not dead  # replaced before the statement
    assert connection.health_check_done
