"""Indicator values on the fixture lake (DuckDB), checked against the designed customers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rongshu.insight import engine
from rongshu.insight.library.indicators import CATEGORIES, INDICATORS, NEEDS
from tests.insight.lake_fixture import AS_OF, DESIGNED, FILLER


@pytest.fixture(scope="module")
def results(lake: Path) -> engine.Results:
    eng = engine.DuckDBEngine(lake, threads=1)
    try:
        return engine.run(eng, AS_OF)
    finally:
        eng.close()


def _row(results: engine.Results, cid: str) -> dict[str, Any]:
    return next(r for r in results.profile.to_pylist() if r["customer_id"] == cid)


def _segments(results: engine.Results, cid: str) -> set[str]:
    row = next(r for r in results.segments.to_pylist() if r["customer_id"] == cid)
    return {k for k, v in row.items() if v is True}


def test_library_shape() -> None:
    assert len(INDICATORS) >= 150
    cats = {i["category"] for i in INDICATORS}
    assert set(NEEDS) <= cats and cats <= set(CATEGORIES)
    for i in INDICATORS:
        assert i["zh"] and i["en"] and i["sql"] and i["version"] >= 1


def test_one_grouped_query_per_source_and_window() -> None:
    sql = engine.compile_profile(INDICATORS, AS_OF)
    groups = {
        (i["source"], i["window"])
        for i in INDICATORS
        if i["source"] not in ("customers", "derived")
    }
    # accounts share one group whatever their window
    expected = len({(s, 0 if s == "accounts" else w) for s, w in groups})
    assert sql.count("GROUP BY customer_id") == expected


def test_designed_customers(results: engine.Results) -> None:
    elder = _row(results, "c-elder")
    assert elder["age"] == 76
    assert elder["pension_amount_12m"] == 3_600_000
    assert elder["pension_monthly_avg_6m"] == 300_000
    assert elder["pension_months_12m"] == 12
    diner = _row(results, "c-diner")
    assert diner["food_spend_6m"] == 60_000
    assert diner["food_spend_12m"] == 120_000
    assert diner["food_count_1m"] == 1
    assert diner["salary_monthly_avg_6m"] == 800_000
    assert diner["food_share_6m"] == 1.0
    assert diner["channel_pos_count_12m"] == 12
    abroad = _row(results, "c-abroad")
    assert abroad["cross_border_count_12m"] == 3
    assert abroad["cross_border_countries_12m"] == 2
    assert abroad["cross_border_amount_12m"] == 150_000
    car = _row(results, "c-car")
    assert car["holds_loan_car"] == 1
    assert car["fuel_count_12m"] == 4
    assert car["car_spend_12m"] == 120_000
    assert car["first_car_loan_months"] == 15
    mortgage = _row(results, "c-mortgage")
    assert mortgage["balance_loan_mortgage"] == 100_000_000
    assert mortgage["aum"] == 1_000_000
    assert mortgage["products_held"] == 2
    assert mortgage["first_mortgage_months"] == 5
    assert mortgage["txn_count_12m"] == 0
    assert mortgage["days_since_last_txn"] is None


def test_named_groups_and_consent(results: engine.Results) -> None:
    ids = results.profile.column("customer_id").to_pylist()
    assert "c-optout" not in ids
    assert len(ids) == len(DESIGNED) - 1 + FILLER
    assert "elderly" in _segments(results, "c-elder")
    assert "mortgage_holders" in _segments(results, "c-mortgage")
    assert "cross_border" in _segments(results, "c-abroad")
    assert "car_owners" in _segments(results, "c-car")
    assert "car_owners" not in _segments(results, "c-diner")


def test_stages(results: engine.Results) -> None:
    stages = dict(
        zip(*(results.stages.column(c).to_pylist() for c in ("customer_id", "stage")), strict=True)
    )
    assert stages["c-mortgage"] == "dormant"
    assert stages["c-diner"] == "mature"
    assert set(stages.values()) <= {
        "prospect",
        "churned",
        "dormant",
        "new",
        "declining",
        "growing",
        "mature",
    }
