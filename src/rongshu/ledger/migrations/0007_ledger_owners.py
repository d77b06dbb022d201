"""PostgreSQL: ``ledger_owners(uuid[])``, the ledger's SQL read of its accounts' owners.

The SQL twin of ``ledger.queries.owners_of``: owner type and id, currency and name of each
of these accounts that exists. Other domains' SQL functions read the ledger's accounts
through it, never the table itself (docs/decisions/0004; used by the payments domain's
one-call internal order, docs/decisions/0006). Nothing to do on SQLite.
"""

from __future__ import annotations

from django.db import migrations

from rongshu.kernel.migration_ops import postgresql_only

CREATE = """
CREATE OR REPLACE FUNCTION ledger_owners(p_ids uuid[])
RETURNS TABLE (public_id uuid, owner_type varchar, owner_id varchar, currency varchar,
               name varchar)
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    -- PL/pgSQL, not SQL: its plan is kept for the session (a SQL function called from
    -- another function is planned on every call)
    RETURN QUERY
        SELECT a.public_id, a.owner_type, a.owner_id, a.currency, a.name
          FROM ledger_account a
         WHERE a.public_id = ANY (p_ids);
END
$$;
"""

DROP = "DROP FUNCTION IF EXISTS ledger_owners(uuid[])"


class Migration(migrations.Migration):
    dependencies = [("ledger", "0006_ledger_post_single")]

    operations = [postgresql_only(CREATE, DROP)]
