from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rongshu.kernel.money import (
    MAX_MINOR,
    CurrencyMismatch,
    Money,
    MoneyError,
    chinese_uppercase,
    currency_exponent,
    format_money,
    total,
)

minor_units = st.integers(min_value=-(10**15), max_value=10**15)
currencies = st.sampled_from(["CNY", "USD", "JPY", "KWD", "EUR", "HKD"])


class TestParse:
    @pytest.mark.parametrize(
        ("text", "currency", "minor"),
        [
            ("12.34", "CNY", 1234),
            ("0.5", "CNY", 50),
            ("-0.05", "CNY", -5),
            ("100", "CNY", 10000),
            ("  7.10 ", "CNY", 710),
            ("100", "JPY", 100),
            ("1.234", "KWD", 1234),
            (42, "CNY", 4200),
        ],
    )
    def test_valid(self, text: str, currency: str, minor: int) -> None:
        assert Money.parse(text, currency) == Money(minor, currency)

    @pytest.mark.parametrize(
        "text",
        [
            "12.345",
            "1e3",
            "NaN",
            "Infinity",
            "-inf",
            "1,000.00",
            "",
            " ",
            "12.",
            ".5",
            "+1",
            "0x10",
            "１２",
            "1 000",
            "--1",
            "12.3.4",
        ],
    )
    def test_refused(self, text: str) -> None:
        with pytest.raises(MoneyError):
            Money.parse(text, "CNY")

    def test_excess_precision_has_its_own_code(self) -> None:
        with pytest.raises(MoneyError) as info:
            Money.parse("12.345", "CNY")
        assert info.value.code == "amount_precision"
        assert info.value.status == 422

    def test_jpy_has_no_decimals(self) -> None:
        with pytest.raises(MoneyError):
            Money.parse("1.5", "JPY")

    @pytest.mark.parametrize("value", [1.5, Decimal("1.5"), None, True, [1]])
    def test_non_strings_refused(self, value: object) -> None:
        with pytest.raises(MoneyError):
            Money.parse(value, "CNY")

    @pytest.mark.parametrize("currency", ["XXXX", "cny", "", "ABC"])
    def test_unknown_currency(self, currency: str) -> None:
        with pytest.raises(MoneyError) as info:
            Money.parse("1", currency)
        assert info.value.code == "invalid_currency"

    def test_constructor_refuses_floats_bools_and_huge(self) -> None:
        with pytest.raises(MoneyError):
            Money(1.0, "CNY")  # type: ignore[arg-type]
        with pytest.raises(MoneyError):
            Money(True, "CNY")
        with pytest.raises(MoneyError):
            Money(MAX_MINOR + 1, "CNY")

    @given(minor_units, currencies)
    def test_round_trip(self, minor: int, currency: str) -> None:
        money = Money(minor, currency)
        assert Money.parse(money.amount_str(), currency) == money
        assert Money.from_decimal(money.to_decimal(), currency, rounding=ROUND_HALF_UP) == money


class TestArithmetic:
    def test_mixed_currencies_refused(self) -> None:
        with pytest.raises(CurrencyMismatch):
            Money(1, "CNY") + Money(1, "USD")
        with pytest.raises(CurrencyMismatch):
            _ = Money(1, "CNY") < Money(1, "USD")
        with pytest.raises(TypeError):
            Money(1, "CNY") + 1  # type: ignore[operator]

    def test_operations(self) -> None:
        a, b = Money(150, "CNY"), Money(50, "CNY")
        assert a - b == Money(100, "CNY")
        assert -a == Money(-150, "CNY")
        assert abs(Money(-3, "CNY")) == Money(3, "CNY")
        assert a * 3 == 3 * a == Money(450, "CNY")
        assert b < a and b <= a and a > b and a >= b
        assert not Money.zero("CNY") and a
        assert a.is_positive and (-a).is_negative
        assert total([a, b], "CNY") == Money(200, "CNY")
        assert total([], "CNY") == Money(0, "CNY")
        with pytest.raises(TypeError):
            a * 1.5  # type: ignore[operator]

    def test_apply_rate_names_rounding(self) -> None:
        amount = Money(1005, "CNY")  # 10.05
        assert amount.apply_rate(Decimal("0.5")) == Money(503, "CNY")  # half-up 502.5 → 503
        assert amount.apply_rate(Decimal("0.5"), rounding=ROUND_HALF_EVEN) == Money(502, "CNY")
        assert amount.apply_rate(Decimal("0.5"), rounding=ROUND_DOWN) == Money(502, "CNY")
        with pytest.raises(TypeError):
            amount.apply_rate(0.5)  # type: ignore[arg-type]

    def test_from_decimal(self) -> None:
        assert Money.from_decimal(Decimal("1.005"), "CNY", rounding=ROUND_HALF_UP) == Money(
            101, "CNY"
        )
        with pytest.raises(MoneyError):
            Money.from_decimal(Decimal("NaN"), "CNY", rounding=ROUND_HALF_UP)

    @given(minor_units, st.lists(st.integers(0, 1000), min_size=1, max_size=12))
    def test_allocate_never_loses_a_fen(self, minor: int, ratios: list[int]) -> None:
        if sum(ratios) == 0:
            ratios[0] = 1
        parts = Money(minor, "CNY").allocate(ratios)
        assert sum(p.minor for p in parts) == minor
        assert len(parts) == len(ratios)
        exact = [Decimal(minor) * r / sum(ratios) for r in ratios]
        for part, share in zip(parts, exact, strict=True):
            assert abs(Decimal(part.minor) - share) < 1

    @given(minor_units, st.integers(1, 50))
    def test_split_is_fair(self, minor: int, parts: int) -> None:
        shares = Money(minor, "CNY").split(parts)
        assert sum(s.minor for s in shares) == minor
        assert max(s.minor for s in shares) - min(s.minor for s in shares) <= 1

    def test_allocate_examples_and_errors(self) -> None:
        assert [m.minor for m in Money(100, "CNY").allocate([1, 1, 1])] == [34, 33, 33]
        assert [m.minor for m in Money(-100, "CNY").allocate([1, 1, 1])] == [-34, -33, -33]
        assert [m.minor for m in Money(5, "CNY").allocate([0, 1])] == [0, 5]
        for bad in ([], [0, 0], [-1, 2]):
            with pytest.raises(ValueError):
                Money(5, "CNY").allocate(bad)
        with pytest.raises(ValueError):
            Money(5, "CNY").split(0)


class TestDisplay:
    def test_amount_str(self) -> None:
        assert Money(5, "CNY").amount_str() == "0.05"
        assert Money(-5, "CNY").amount_str() == "-0.05"
        assert Money(123456, "CNY").amount_str() == "1234.56"
        assert Money(100, "JPY").amount_str() == "100"
        assert str(Money(1, "KWD")) == "0.001 KWD"
        assert Money(1, "CNY").to_json() == {"amount": "0.01", "currency": "CNY"}
        assert currency_exponent("JPY") == 0

    def test_format_money(self) -> None:
        assert format_money(Money(123456, "CNY"), "zh-hans") == "¥1,234.56"
        assert format_money(Money(123456, "CNY"), "en") == "CN¥1,234.56"

    @pytest.mark.parametrize(
        ("minor", "words"),
        [
            (123456, "壹仟贰佰叁拾肆元伍角陆分"),
            (0, "零元整"),
            (100, "壹元整"),
            (150, "壹元伍角整"),
            (105, "壹元零伍分"),
            (5, "伍分"),
            (50, "伍角整"),
            (1000000, "壹万元整"),
            (1005000, "壹万零伍拾元整"),
            (10050000, "壹拾万零伍佰元整"),
            (10000000100, "壹亿零壹元整"),
            (1010000000, "壹仟零壹拾万元整"),
            (100000000000, "壹拾亿元整"),
            (100010000000, "壹拾亿零壹拾万元整"),
            (-123456, "负壹仟贰佰叁拾肆元伍角陆分"),
            (int("1" + "0" * 14), "壹万亿元整"),
            (int("1" + "0" * 18), "壹京元整"),
            (
                2**63 - 1,
                "玖京贰仟贰佰叁拾叁万亿柒仟贰佰零叁亿陆仟捌佰伍拾肆万柒仟柒佰伍拾捌元零柒分",
            ),
        ],
    )
    def test_chinese_uppercase(self, minor: int, words: str) -> None:
        assert chinese_uppercase(Money(minor, "CNY")) == words

    def test_chinese_uppercase_cny_only(self) -> None:
        with pytest.raises(MoneyError):
            chinese_uppercase(Money(1, "USD"))

    @given(st.integers(0, MAX_MINOR))
    def test_chinese_uppercase_is_total_and_well_formed(self, minor: int) -> None:
        words = chinese_uppercase(Money(minor, "CNY"))
        assert "零零" not in words
        assert words.endswith(("整", "分"))
        assert set(words) <= set("零壹贰叁肆伍陆柒捌玖拾佰仟万亿京元角分整")
