"""Slot extraction (no database): amounts, dates, names, account tails, confirmations."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from rongshu.assistant.slots import (
    chinese_number,
    extract_account_tail,
    extract_amount,
    extract_code,
    extract_date,
    is_no,
    is_yes,
    match_name,
)


@pytest.mark.parametrize(
    ("text", "minor"),
    [
        ("给张三转500块", 500_00),
        ("转五百元给李四", 500_00),
        ("¥1,200.50", 1_200_50),
        ("￥1,200.50 to bob", 1_200_50),
        ("转1.2万给妈妈", 12_000_00),
        ("两千五百块", 2_500_00),
        ("转两千五", 2_500_00),
        ("一万二千元", 12_000_00),
        ("send 300 yuan to alice", 300_00),
        ("RMB 88.8", 88_80),
        ("3k", 3_000_00),
        ("三百五十元", 350_00),
        ("一千零五块", 1_005_00),
    ],
)
def test_amounts(text: str, minor: int) -> None:
    assert extract_amount(text) == minor


@pytest.mark.parametrize("text", ["转账给张三", "我的余额", "尾号1234", "验证码 123456", "¥1.001"])
def test_no_amount(text: str) -> None:
    assert extract_amount(text) is None


def test_chinese_numerals() -> None:
    assert chinese_number("十五") == 15
    assert chinese_number("二十五万") == 250_000
    assert chinese_number("三点五") == Decimal("3.5")
    assert chinese_number("abc") is None


TODAY = dt.date(2026, 11, 30)  # a Monday


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("今天的交易", TODAY),
        ("明天转", dt.date(2026, 12, 1)),
        ("后天", dt.date(2026, 12, 2)),
        ("下周五去网点", dt.date(2026, 12, 11)),
        ("周五", dt.date(2026, 12, 4)),
        ("next Friday", dt.date(2026, 12, 11)),
        ("tomorrow please", dt.date(2026, 12, 1)),
        ("12月5日", dt.date(2026, 12, 5)),
        ("2027-01-02", dt.date(2027, 1, 2)),
    ],
)
def test_dates(text: str, day: dt.date) -> None:
    assert extract_date(text, TODAY) == day


def test_names_and_tails() -> None:
    payees = [("a", ("李四",)), ("b", ("妈妈", "王芳")), ("c", ("Alice Wong",))]
    assert match_name("给妈妈转500", payees) == "b"
    assert match_name("send 5 to alice wong", payees) == "c"
    assert match_name("给张三转", payees) is None
    assert extract_account_tail("从尾号6789转") == "6789"
    assert extract_account_tail("account ending 0201") == "0201"
    assert extract_code("验证码是 482913") == "482913"
    assert extract_code("12345") is None


def test_confirmations() -> None:
    assert is_yes("确认") and is_yes("Yes") and is_yes("好的。")
    assert is_no("取消") and is_no("cancel") and is_no("不要")
    assert not is_yes("取消") and not is_no("确认")
