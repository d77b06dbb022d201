"""Migration operations the domains' migrations share."""

from __future__ import annotations

import functools
from typing import Any

from django.db import migrations


def _on_postgresql(sql: str, apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(sql, params=None)  # no placeholders: "%" in the SQL is literal


def postgresql_only(forward: str, backward: str) -> migrations.RunPython:
    """Run ``forward`` (and ``backward`` when the migration is unapplied) as one statement on
    PostgreSQL and nothing elsewhere: the SQL functions and storage settings some domains keep
    for their PostgreSQL fast paths (SQLite goes the Python way)."""
    return migrations.RunPython(
        functools.partial(_on_postgresql, forward),
        functools.partial(_on_postgresql, backward),
        elidable=False,
    )
