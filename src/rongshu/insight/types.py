"""Values crossing the insight boundary: the lake's table schemas (``docs/lake.md``).

The lake contract belongs to insight. Both writers — the OLTP export (:mod:`rongshu.insight.export`)
and the synthetic bank's generator (``rongshu.simulation.bank.lake``) — write these schemas, and
the engine reads them.
"""

from __future__ import annotations

import pyarrow as pa

# The lake's transaction ``kind`` vocabulary (docs/lake.md); the generator encodes kinds by
# their position here, so append new kinds at the end.
LAKE_KINDS = (
    "salary",
    "pension",
    "transfer_in",
    "transfer_out",
    "card",
    "qr",
    "bill",
    "loan_disbursement",
    "loan_repayment",
    "interest",
    "fee",
    "fx",
    "investment",
    "cash",
)
CUSTOMERS_SCHEMA = pa.schema(
    [
        ("customer_id", pa.string()),
        ("kind", pa.string()),
        ("gender", pa.string()),
        ("birth_on", pa.date32()),
        ("province_code", pa.string()),
        ("city_code", pa.string()),
        ("district_code", pa.string()),
        ("onboarded_on", pa.date32()),
        ("employer_id", pa.string()),
        ("kyc_level", pa.int32()),
        ("profiling_consent", pa.bool_()),
    ]
)
ACCOUNTS_SCHEMA = pa.schema(
    [
        ("account_id", pa.string()),
        ("customer_id", pa.string()),
        ("product_code", pa.string()),
        ("opened_on", pa.date32()),
        ("closed_on", pa.date32()),
        ("currency", pa.string()),
    ]
)
TRANSACTIONS_SCHEMA = pa.schema(
    [
        ("txn_id", pa.string()),
        ("customer_id", pa.string()),
        ("account_id", pa.string()),
        ("booked_at", pa.timestamp("us", tz="UTC")),
        ("amount_minor", pa.int64()),
        ("currency", pa.string()),
        ("kind", pa.string()),
        ("channel", pa.string()),
        ("mcc", pa.string()),
        ("need_category", pa.string()),
        ("counterparty_id", pa.string()),
        ("cross_border", pa.bool_()),
        ("country", pa.string()),
    ]
)
BALANCES_SCHEMA = pa.schema(
    [
        ("customer_id", pa.string()),
        ("account_id", pa.string()),
        ("product_code", pa.string()),
        ("balance_minor", pa.int64()),
        ("currency", pa.string()),
    ]
)
EVENTS_SCHEMA = pa.schema(
    [
        ("event_id", pa.string()),
        ("type", pa.string()),
        ("occurred_at", pa.timestamp("us", tz="UTC")),
        ("customer_id", pa.string()),
        ("payload", pa.string()),
    ]
)
# table (folder) → schema, in the order of docs/lake.md
LAKE_SCHEMAS: dict[str, pa.Schema] = {
    "customers": CUSTOMERS_SCHEMA,
    "accounts": ACCOUNTS_SCHEMA,
    "transactions": TRANSACTIONS_SCHEMA,
    "balances": BALANCES_SCHEMA,
    "events": EVENTS_SCHEMA,
}
