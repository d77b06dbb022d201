"""Loading the synthetic bank through identity, accounts and the ledger; the demo step."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.core.management import call_command

from rongshu.accounts import queries as accounts_queries
from rongshu.identity.types import Principal, PrincipalKind
from rongshu.ledger import queries as ledger_queries
from rongshu.ledger import services as ledger
from rongshu.simulation.bank.ids import one_id
from rongshu.simulation.bank.load import load_bank
from rongshu.simulation.bank.people import generate_people

pytestmark = pytest.mark.django_db
END = dt.date(2026, 11, 29)


def test_customers_accounts_and_money_go_through_the_services(
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        counts = load_bank(customers=60, months=2, seed=5, end_on=END)
    assert counts["customers"] == 60
    assert counts["accounts"] == 60
    assert counts["created"] > 60 * 2 * 10
    assert counts["refused"] < counts["created"] * 0.05
    # the lake's transaction ids are the ledger's transfer ids
    first_salary = ledger_queries.find_transfer(one_id(5, "txn", 1 << 63))
    assert first_salary is not None
    assert first_salary.code == "opening"
    view = ledger_queries.get_account(first_salary.credit_account)
    assert view.credits_posted > view.debits_posted
    owner = Principal(kind=PrincipalKind.CUSTOMER, customer_id=one_id(5, "customer", 0))
    overview = accounts_queries.get_overview(owner)
    assert [a.account_type for a in overview.accounts] == [1]
    assert overview.unread == 0  # the history did not flood the notification centre
    trial = ledger_queries.get_trial_balance("CNY")
    assert trial.balanced


def test_a_second_load_changes_nothing(
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        first = load_bank(customers=30, months=1, seed=6, end_on=END)
    again = load_bank(customers=30, months=1, seed=6, end_on=END)
    assert first["created"] > 0
    assert again["created"] == 0
    assert again["exists"] == -1


def test_the_imported_customers_are_the_generated_people() -> None:
    from rongshu.identity import services as identity

    people = generate_people(8, 0, END)
    rows = [
        identity.CustomerImport(
            customer_id=one_id(8, "customer", i),
            phone=people.phone(i),
            real_name=people.name(i),
            resident_id=people.resident_id(i),
        )
        for i in range(20)
    ]
    assert len(identity.do_import_customers(rows)) == 20
    assert identity.do_import_customers(rows) == []  # idempotent


def test_seed_writes_lake_and_sources(tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    ledger.do_create_chart_of_accounts(("CNY",))
    call_command(
        "seed",
        "--customers",
        "40",
        "--months",
        "1",
        "--end-on",
        "2026-11-29",
        "--lake",
        str(tmp_path / "lake"),
        "--sources",
        str(tmp_path / "src"),
    )
    out = capsys.readouterr().out
    assert "lake" in out and "sources" in out
    assert (tmp_path / "lake" / "ground_truth" / "life_events.parquet").exists()
    assert (tmp_path / "lake" / "ground_truth" / "typologies.parquet").exists()
    assert (tmp_path / "src" / "truth.csv").exists()
