"""PostgreSQL: ``ledger_owners(uuid[])`` becomes a SQL function the planner inlines.

Migration 0007 wrote it in PL/pgSQL so that its plan would be kept for the session. The
statement was kept, its plan was not: for ``public_id = ANY (p_ids)`` with an array
parameter the plan cache always prefers a custom plan, so the query was planned again on
every call (each planning locking all nine indexes of ``ledger_account``), and every call
also filled and read back a tuplestore. As a ``LANGUAGE sql STABLE`` set-returning
function with one ``SELECT``, a call in a query's ``FROM`` is inlined into that query
(``SELECT * FROM ledger_owners(ARRAY[$1, $2])`` is planned as an index scan of
``ledger_account``), and the caller's cached plan covers it: about 30 µs of server time
less per one-call internal order (docs/decisions/0006, sixth addendum). Same name, same
signature, same rows; nothing to do on SQLite.
"""

from __future__ import annotations

import importlib

from django.db import migrations

from rongshu.kernel.migration_ops import postgresql_only

_V7 = importlib.import_module("rongshu.ledger.migrations.0007_ledger_owners")

CREATE = """
CREATE OR REPLACE FUNCTION ledger_owners(p_ids uuid[])
RETURNS TABLE (public_id uuid, owner_type varchar, owner_id varchar, currency varchar,
               name varchar)
LANGUAGE sql STABLE
AS $$
    SELECT a.public_id, a.owner_type, a.owner_id, a.currency, a.name
      FROM ledger_account a
     WHERE a.public_id = ANY (p_ids)
$$
"""

# back: 0007's definition (a function's language can be replaced in place)
BACK = _V7.CREATE


class Migration(migrations.Migration):
    dependencies = [("ledger", "0007_ledger_owners")]

    operations = [postgresql_only(CREATE, BACK)]
