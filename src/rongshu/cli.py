"""The ``rongshu`` command: Django's management commands with rongshu's settings.

``rongshu serve``, ``rongshu migrate``, ``rongshu demo``, ``rongshu eod``, ``rongshu audit verify``,
``rongshu outbox …``, ``rongshu idempotency purge``, ``rongshu pii rotate`` and every Django
command (``rongshu help`` lists them).
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rongshu.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["rongshu", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":  # pragma: no cover
    main()
