"""Money: integer minor units plus an ISO 4217 currency.

Amounts never pass through floats. Text input is parsed strictly: an optional minus sign,
digits, and at most as many decimals as the currency has (``"12.345"`` CNY is refused, not
rounded). Exponents, ``NaN``, ``Infinity``, thousands separators and ``float`` values are
refused. Arithmetic refuses mixed currencies. Rounding, where a rate is applied, names its
mode explicitly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext
from functools import cache, lru_cache
from typing import Any, Self

from babel.numbers import get_currency_precision, list_currencies
from django.utils.translation import gettext_lazy as _

from rongshu.kernel.errors import InvalidInput

_AMOUNT_RE = re.compile(r"^(?P<sign>-)?(?P<int>[0-9]{1,30})(?:\.(?P<frac>[0-9]{1,30}))?$")
# Largest absolute amount in minor units: what a signed 64-bit (BigInteger) column holds.
MAX_MINOR = 2**63 - 1


class MoneyError(InvalidInput):
    status = 422
    code = "invalid_amount"
    title = _("The amount is not valid.")


class CurrencyMismatch(MoneyError):
    code = "currency_mismatch"


@cache
def _known_currencies() -> frozenset[str]:
    return frozenset(list_currencies())


@lru_cache(maxsize=512)
def currency_exponent(currency: str) -> int:
    """Number of minor-unit digits of an ISO 4217 currency (CNY 2, JPY 0, KWD 3)."""
    check_currency(currency)
    return int(get_currency_precision(currency))


def check_currency(currency: object) -> str:
    if not isinstance(currency, str) or currency not in _known_currencies():
        raise MoneyError(f"{currency!r} is not an ISO 4217 currency code.", code="invalid_currency")
    return currency


def parse_minor(text: object, currency: str) -> int:
    """Strictly parse a decimal string in ``currency`` to minor units (``"12.34"`` CNY → 1234).

    Digits, an optional minus and at most the currency's decimals; no range check (callers
    check their own range: :class:`Money` up to :data:`MAX_MINOR`)."""
    exponent = currency_exponent(currency)
    if isinstance(text, bool) or not isinstance(text, str | int):
        raise MoneyError(
            'Amounts must be given as decimal strings such as "12.34", not as '
            f"{type(text).__name__}."
        )
    raw = str(text).strip()
    match = _AMOUNT_RE.match(raw)
    if match is None:
        raise MoneyError(f'{raw!r} is not a decimal amount such as "12.34".')
    frac = match.group("frac") or ""
    if len(frac) > exponent:
        raise MoneyError(
            f"{raw!r} has more decimal places than {currency} allows ({exponent}).",
            code="amount_precision",
        )
    scale: int = 10**exponent
    minor: int = int(match.group("int")) * scale + int(frac.ljust(exponent, "0") or "0")
    return -minor if match.group("sign") else minor


def format_minor(minor: int, currency: str) -> str:
    """The canonical API form of minor units: ``"12.34"``, ``"-0.05"``, ``"100"`` for JPY."""
    exponent = currency_exponent(currency)
    sign = "-" if minor < 0 else ""
    digits = str(abs(minor)).rjust(exponent + 1, "0")
    if exponent == 0:
        return sign + digits
    return f"{sign}{digits[:-exponent]}.{digits[-exponent:]}"


@dataclass(frozen=True, slots=True, order=False)
class Money:
    minor: int
    currency: str

    def __post_init__(self) -> None:
        if type(self.minor) is not int:  # bool and float are refused
            raise MoneyError("Money needs an integer number of minor units.")
        if abs(self.minor) > MAX_MINOR:
            raise MoneyError("The amount is too large.", code="amount_out_of_range")
        check_currency(self.currency)

    # -------------------------------------------------------------- construction
    @classmethod
    def zero(cls, currency: str) -> Self:
        return cls(0, currency)

    @classmethod
    def parse(cls, text: object, currency: str) -> Self:
        """Parse a decimal string such as ``"1234.56"`` in ``currency``."""
        return cls(parse_minor(text, currency), currency)

    @classmethod
    def from_decimal(cls, value: Decimal, currency: str, *, rounding: str) -> Self:
        """Convert a computed Decimal (e.g. interest) with an explicitly named rounding mode."""
        if not value.is_finite():
            raise MoneyError("The amount is not a finite number.")
        exponent = currency_exponent(currency)
        with localcontext() as ctx:
            ctx.prec = 50
            quantum = Decimal(1).scaleb(-exponent)
            minor = int(value.quantize(quantum, rounding=rounding).scaleb(exponent))
        return cls(minor, currency)

    # -------------------------------------------------------------- views
    @property
    def exponent(self) -> int:
        return currency_exponent(self.currency)

    def to_decimal(self) -> Decimal:
        return Decimal(self.minor).scaleb(-self.exponent)

    def amount_str(self) -> str:
        """The canonical API form: ``"12.34"``, ``"-0.05"``, ``"100"`` for JPY."""
        return format_minor(self.minor, self.currency)

    def __str__(self) -> str:
        return f"{self.amount_str()} {self.currency}"

    def to_json(self) -> dict[str, str]:
        return {"amount": self.amount_str(), "currency": self.currency}

    # -------------------------------------------------------------- arithmetic
    def _same(self, other: Any) -> Money:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatch(f"Cannot combine {self.currency} with {other.currency}.")
        return other

    def __add__(self, other: Money) -> Money:
        return Money(self.minor + self._same(other).minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        return Money(self.minor - self._same(other).minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.minor, self.currency)

    def __abs__(self) -> Money:
        return Money(abs(self.minor), self.currency)

    def __mul__(self, factor: int) -> Money:
        if type(factor) is not int:
            raise TypeError("Money can only be multiplied by an int; use apply_rate for rates.")
        return Money(self.minor * factor, self.currency)

    __rmul__ = __mul__

    def __lt__(self, other: Money) -> bool:
        return self.minor < self._same(other).minor

    def __le__(self, other: Money) -> bool:
        return self.minor <= self._same(other).minor

    def __gt__(self, other: Money) -> bool:
        return self.minor > self._same(other).minor

    def __ge__(self, other: Money) -> bool:
        return self.minor >= self._same(other).minor

    def __bool__(self) -> bool:
        return self.minor != 0

    @property
    def is_positive(self) -> bool:
        return self.minor > 0

    @property
    def is_negative(self) -> bool:
        return self.minor < 0

    def apply_rate(self, rate: Decimal, *, rounding: str = ROUND_HALF_UP) -> Money:
        """``self × rate`` rounded to minor units with the named rounding mode."""
        if not isinstance(rate, Decimal):
            raise TypeError("rates must be Decimal")
        with localcontext() as ctx:
            ctx.prec = 50
            product = Decimal(self.minor) * rate
            minor = int(product.quantize(Decimal(1), rounding=rounding))
        return Money(minor, self.currency)

    def allocate(self, ratios: Sequence[int]) -> list[Money]:
        """Split into parts proportional to ``ratios`` without losing or creating a fen.

        Largest-remainder method: each part gets its floor share, then the leftover minor
        units go one by one to the parts with the largest remainders (earliest first on ties).
        """
        if not ratios or any(type(r) is not int or r < 0 for r in ratios):
            raise ValueError("ratios must be non-negative ints")
        total = sum(ratios)
        if total == 0:
            raise ValueError("at least one ratio must be positive")
        sign = -1 if self.minor < 0 else 1
        amount = abs(self.minor)
        shares = [amount * r // total for r in ratios]
        remainders = [amount * r % total for r in ratios]
        leftover = amount - sum(shares)
        order = sorted(range(len(ratios)), key=lambda i: (-remainders[i], i))
        for i in order[:leftover]:
            shares[i] += 1
        return [Money(sign * s, self.currency) for s in shares]

    def split(self, parts: int) -> list[Money]:
        """Split into ``parts`` near-equal amounts (the first ones get the extra fen)."""
        if type(parts) is not int or parts <= 0:
            raise ValueError("parts must be a positive int")
        return self.allocate([1] * parts)


def total(amounts: Iterable[Money], currency: str) -> Money:
    """Sum of amounts, all in ``currency`` (an empty sum is zero)."""
    result = Money.zero(currency)
    for amount in amounts:
        result = result + amount
    return result


# ------------------------------------------------------------------ Chinese uppercase amounts
_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_SMALL_UNITS = ["", "拾", "佰", "仟"]
_BIG_UNITS = ["", "万", "亿", "万亿", "京"]


def _four_digits(group: int) -> str:
    """A group of up to four digits (1..9999) in capital numerals, with inner zeros."""
    out: list[str] = []
    zero_pending = False
    for position in range(3, -1, -1):
        digit = group // 10**position % 10
        if digit == 0:
            if out:
                zero_pending = True
            continue
        if zero_pending:
            out.append("零")
            zero_pending = False
        out.append(_DIGITS[digit] + _SMALL_UNITS[position])
    return "".join(out)


def chinese_uppercase(money: Money) -> str:
    """大写金额 for receipts and cheques, e.g. 1234.56 CNY → 壹仟贰佰叁拾肆元伍角陆分.

    Follows the PBoC writing rules (《支付结算办法》附件): "整" after 元 or 角 when there are no
    fen; one 零 for a run of zeros inside the integer part and between 元 and 分; "负" for
    negative amounts. Only CNY (two decimals) is supported.
    """
    if money.currency != "CNY":
        raise MoneyError(
            "Chinese uppercase amounts are written for CNY only.", code="invalid_currency"
        )
    minor = abs(money.minor)
    yuan, jiao, fen = minor // 100, minor // 10 % 10, minor % 10
    prefix = "负" if money.minor < 0 else ""
    if minor == 0:
        return "零元整"
    integer = ""
    if yuan:
        groups = []
        value = yuan
        while value:
            groups.append(value % 10000)
            value //= 10000
        parts: list[str] = []
        need_zero = False
        for index in range(len(groups) - 1, -1, -1):
            group = groups[index]
            if group == 0:
                need_zero = bool(parts)
                continue
            if parts and (need_zero or group < 1000):
                parts.append("零")
            need_zero = False
            parts.append(_four_digits(group) + _BIG_UNITS[index])
        integer = "".join(parts) + "元"
    if jiao == 0 and fen == 0:
        return prefix + integer + "整"
    decimals = ""
    if jiao:
        decimals += _DIGITS[jiao] + "角"
    elif yuan:
        decimals += "零"
    if fen:
        decimals += _DIGITS[fen] + "分"
    else:
        decimals += "整"
    return prefix + integer + decimals


def format_money(money: Money, locale: str) -> str:
    """Locale-aware display, e.g. ``¥1,234.56`` (zh-Hans) or ``CN¥1,234.56`` (en)."""
    from babel.numbers import format_currency

    babel_locale = "zh_Hans_CN" if locale.lower().startswith("zh") else "en"
    return str(format_currency(money.to_decimal(), money.currency, locale=babel_locale))
