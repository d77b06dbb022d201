"""Helpers to run ledger work in forked worker processes (concurrency and crash tests)."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from typing import Any

from django.db import connections

CTX = multiprocessing.get_context("fork")


def start(target: Callable[..., None], *args: Any) -> Any:
    """Fork a process running ``target(*args)``; the parent's connections are closed first so
    the child opens its own (to the same test database)."""
    connections.close_all()

    def run() -> None:
        code = 0
        try:
            target(*args)
        except BaseException:
            import traceback

            traceback.print_exc()
            code = 1
        finally:
            connections.close_all()
            os._exit(code)

    process = CTX.Process(target=run, daemon=True)
    process.start()
    return process
