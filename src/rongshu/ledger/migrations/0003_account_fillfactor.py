"""PostgreSQL: leave free space in the account table's pages (fillfactor 70).

Every transfer rewrites the balances of two accounts. With full pages PostgreSQL cannot keep
the new row version on the same page, so each update also inserts into every index of the
table (nine); with room on the page the update is HOT (heap-only) and touches no index. Only a
storage parameter: no schema change, nothing to do on SQLite.
"""

from __future__ import annotations

from django.db import migrations

from rongshu.kernel.migration_ops import postgresql_only


class Migration(migrations.Migration):
    dependencies = [("ledger", "0002_chart_of_accounts")]

    operations = [
        postgresql_only(
            "ALTER TABLE ledger_account SET (fillfactor = 70)",
            "ALTER TABLE ledger_account RESET (fillfactor)",
        )
    ]
