"""Decimal-string amounts for the whole 64-bit range of the ledger's columns.

:class:`rongshu.kernel.money.Money` caps amounts at 10^18 − 1 minor units; ledger columns hold
up to 2^63 − 1, so the ledger parses and formats its own amounts with the same strict rules
(digits, an optional minus, at most the currency's decimals; never floats).
"""

from __future__ import annotations

import re

from rongshu.kernel.money import MoneyError, currency_exponent

_AMOUNT_RE = re.compile(r"^(?P<sign>-)?(?P<int>[0-9]{1,30})(?:\.(?P<frac>[0-9]{1,30}))?$")


def parse_amount(text: str, currency: str) -> int:
    """``"12.34"`` CNY → 1234. Raises MoneyError (``invalid_amount``, ``amount_precision``,
    ``invalid_currency``); range checks are the ledger's (``amount_must_be_positive`` …)."""
    exponent = currency_exponent(currency)
    match = _AMOUNT_RE.match(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise MoneyError(f'{text!r} is not a decimal amount such as "12.34".')
    frac = match.group("frac") or ""
    if len(frac) > exponent:
        raise MoneyError(
            f"{text!r} has more decimal places than {currency} allows ({exponent}).",
            code="amount_precision",
        )
    scale: int = 10**exponent
    minor: int = int(match.group("int")) * scale + int(frac.ljust(exponent, "0") or "0")
    return -minor if match.group("sign") else minor


def format_amount(minor: int, currency: str) -> str:
    """1234 CNY → ``"12.34"``; -5 → ``"-0.05"``; JPY has no decimals."""
    exponent = currency_exponent(currency)
    sign = "-" if minor < 0 else ""
    digits = str(abs(minor)).rjust(exponent + 1, "0")
    if exponent == 0:
        return sign + digits
    return f"{sign}{digits[:-exponent]}.{digits[-exponent:]}"
