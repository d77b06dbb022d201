from __future__ import annotations

import pytest

from rongshu.insight.errors import InvalidRule
from rongshu.insight.library.segments import CIRCLES, SEGMENTS, STAGES
from rongshu.insight.rules import compile_rule, explain, tokenize


def test_compiles_precedence_and_in_lists() -> None:
    rule = compile_rule("age >= 60 or pension_months_12m >= 3 and province_code in ('11', '31')")
    assert rule.sql == (
        "((age >= 60) OR ((pension_months_12m >= 3) AND (province_code IN ('11', '31'))))"
    )
    assert rule.indicators == {"age", "pension_months_12m", "province_code"}


def test_division_is_null_safe_and_between() -> None:
    sql = compile_rule("aum / txn_count_3m not between 1 and 2").sql
    assert sql == "((CAST(aum AS DOUBLE) / NULLIF(txn_count_3m, 0)) NOT BETWEEN 1 AND 2)"


@pytest.mark.parametrize(
    "text",
    [
        "unknown_thing > 1",
        "age + 1",
        "age > 'x'",
        "gender > 1",
        "age >",
        "age > 1; DROP TABLE profile",
        "__import__('os')",
        "age > 1 )",
        "not age",
        "(" * 50 + "age > 1" + ")" * 50,
    ],
)
def test_rejects_invalid_rules(text: str) -> None:
    with pytest.raises(InvalidRule):
        compile_rule(text)


def test_strings_are_requoted() -> None:
    assert compile_rule("gender = 'F''; drop'").sql == "(gender = 'F''; drop')"
    with pytest.raises(InvalidRule):
        tokenize("age > 1 \\")


def test_explain_reports_errors_without_raising() -> None:
    assert explain("age >")["ok"] is False
    assert explain("age > 60")["indicators"] == ["age"]


def test_every_shipped_rule_compiles() -> None:
    assert len(SEGMENTS) >= 100
    for s in SEGMENTS:
        compile_rule(s["rule"])
    for stage in STAGES:
        compile_rule(stage[3])
    for c in CIRCLES:
        compile_rule(c["engagement"])
