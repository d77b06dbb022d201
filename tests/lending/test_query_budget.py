"""One decision (and the cancel the benchmark does between rounds) stays within a fixed number
of SQL statements. ``LENDING_PROFILE=1 … -s`` prints a cProfile of one decision and its SQL;
``LENDING_TIMING=1 … -s`` prints the mean time of 100 (never asserted)."""

from __future__ import annotations

import os

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rongshu.kernel.money import Money
from rongshu.lending import services
from rongshu.lending.models import ModelVersion
from tests.lending.conftest import make_borrower

pytestmark = pytest.mark.django_db
BUDGET = 30  # decide (~22, with the outbox event and audit entry) + cancel (untimed in bench)


def test_one_decision_query_budget(active_model: ModelVersion) -> None:
    b = make_borrower()

    def apply() -> str:
        app = services.do_apply(
            b.principal,
            product_code="kuaidai",
            amount=Money.parse("5000.00", "CNY"),
            term_months=12,
            method="annuity",
            consent=True,
        )
        if app.state in ("approved", "referred"):
            services.do_cancel(b.principal, app.public_id)
        return app.state

    assert apply() == "approved"  # warm: model cache, consent recorded, borrower cached
    if os.environ.get("LENDING_TIMING"):  # a local measurement, never asserted
        import time

        started = time.perf_counter()
        for _ in range(100):
            apply()
        print(f"decide+cancel: {(time.perf_counter() - started) * 10:.2f} ms")
    with CaptureQueriesContext(connection) as ctx:
        if os.environ.get("LENDING_PROFILE"):
            import cProfile
            import pstats

            prof = cProfile.Profile()
            prof.enable()
            apply()
            prof.disable()
            pstats.Stats(prof).sort_stats("cumulative").print_stats(40)
        else:
            apply()
    if os.environ.get("LENDING_PROFILE"):
        for q in ctx.captured_queries:
            print(q["sql"][:160])
    assert len(ctx.captured_queries) <= BUDGET, len(ctx.captured_queries)
