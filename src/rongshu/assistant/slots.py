"""Slot extraction for 小微's task intents, in Chinese and English (no database, no Django).

* :func:`extract_amount` — "500块", "五百元", "¥1,200.50", "1.2万", "两千五", "RMB 300",
  "300 yuan" → minor units (fen). Money is integers: decimals are parsed with ``Decimal``
  and more than two decimals are refused.
* :func:`extract_date` — 今天/明天/后天/下周五/12月5日/2026-12-05, today/tomorrow/next Friday.
* :func:`match_name` — the saved payee (or biller) whose name or nickname the text mentions.
* :func:`extract_account_tail` — "尾号1234", "ending 1234", "账户1234" → "1234".
* :func:`extract_code` — a six-digit one-time code.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from typing import TypeVar

T = TypeVar("T")

_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "壹": 1,
    "二": 2,
    "贰": 2,
    "两": 2,
    "三": 3,
    "叁": 3,
    "四": 4,
    "肆": 4,
    "五": 5,
    "伍": 5,
    "六": 6,
    "陆": 6,
    "七": 7,
    "柒": 7,
    "八": 8,
    "捌": 8,
    "九": 9,
    "玖": 9,
}
_UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
_BIG = {"万": 10_000, "萬": 10_000, "亿": 100_000_000}
_CN_NUM = "零〇一壹二贰两三叁四肆五伍六陆七柒八捌九玖十拾百佰千仟万萬亿点"
MAX_AMOUNT_MINOR = 10**15

_CURRENCY_WORDS = r"(?:块钱|块|元|圆|rmb|cny|yuan|kuai|人民币|dollars?)"
_ARABIC = r"\d+(?:,\d{3})*(?:\.\d+)?|\d*\.\d+"
_RE_SYMBOL = re.compile(rf"(?:[¥￥]|rmb|cny)\s*({_ARABIC})\s*([万千kw])?", re.IGNORECASE)
_RE_ARABIC = re.compile(
    rf"(?<![\d.])({_ARABIC})\s*(万|千|百|k|w)?\s*({_CURRENCY_WORDS})?(?![\d])", re.IGNORECASE
)
_RE_CHINESE = re.compile(rf"([{_CN_NUM}]+)\s*({_CURRENCY_WORDS})?")


def _clean(text: str) -> str:
    return unicodedata.normalize("NFKC", text).replace("￥", "¥")


def chinese_number(text: str) -> Decimal | None:
    """Value of a Chinese numeral: "五百" 500, "两千五" 2500, "一万二" 12000, "三点五" 3.5,
    "十五" 15, "一千零五" 1005. None when ``text`` is not a numeral."""
    if not text or any(ch not in _CN_NUM for ch in text):
        return None
    if "点" in text:
        whole, _, frac = text.partition("点")
        head = chinese_number(whole) if whole else Decimal(0)
        if head is None or not frac or any(ch not in _DIGITS for ch in frac):
            return None
        return head + Decimal("0." + "".join(str(_DIGITS[ch]) for ch in frac))
    total = 0
    section = 0  # below 万
    digit: int | None = None
    last_unit = 0
    for ch in text:
        if ch in _DIGITS:
            digit = _DIGITS[ch]
            continue
        if ch in _UNITS:
            unit = _UNITS[ch]
            section += (1 if digit is None else digit) * unit
            digit, last_unit = None, unit
            continue
        if ch in _BIG:
            big = _BIG[ch]
            section += digit or 0
            total = (total + section) * big if big > 10_000 else total + section * big
            section, digit, last_unit = 0, None, big
            continue
        return None
    if digit is not None:
        # "两千五" is 2500 and "一万二" 12000: a trailing digit after a unit is one unit lower.
        if last_unit >= 10 and not text.endswith("零" + _last(text)):
            section += digit * (last_unit // 10)
        else:
            section += digit
    return Decimal(total + section)


def _last(text: str) -> str:
    return text[-1]


def _to_minor(value: Decimal) -> int | None:
    if value <= 0:
        return None
    cents = value * 100
    if cents != cents.to_integral_value():
        return None  # more decimals than CNY allows
    minor = int(cents)
    return minor if minor < MAX_AMOUNT_MINOR else None


_MULT = {"万": 10_000, "w": 10_000, "千": 1000, "k": 1000, "百": 100}


def extract_amount(text: str) -> int | None:
    """The amount of money the text names, in fen; None when there is none (or it is ambiguous:
    a bare number with no currency word is only taken when it is the only number)."""
    clean = _RE_TAIL.sub(" ", _clean(text))  # "尾号1234" names an account, not an amount
    for match in _RE_SYMBOL.finditer(clean):
        value = _decimal(match.group(1))
        if value is not None:
            mult = _MULT.get((match.group(2) or "").lower(), 1)
            return _to_minor(value * mult)
    bare: list[Decimal] = []
    for match in _RE_ARABIC.finditer(clean):
        value = _decimal(match.group(1))
        if value is None:
            continue
        unit = (match.group(2) or "").lower()
        value *= _MULT.get(unit, 1)
        if match.group(3) or unit:
            return _to_minor(value)
        digits = match.group(1).replace(",", "").replace(".", "")
        if len(digits) < 6 or "." in match.group(1):  # codes and account tails are not amounts
            bare.append(value)
    for match in _RE_CHINESE.finditer(clean):
        numeral = match.group(1).rstrip("点")
        if not numeral or numeral in {"万", "亿", "点"}:
            continue
        value = chinese_number(numeral)
        if value is None:
            continue
        if match.group(2):
            return _to_minor(value)
        if any(ch in _UNITS or ch in _BIG for ch in numeral) and len(numeral) >= 2:
            bare.append(value)
    if len(bare) == 1:
        return _to_minor(bare[0])
    return None


def _decimal(raw: str) -> Decimal | None:
    try:
        return Decimal(raw.replace(",", ""))
    except InvalidOperation:
        return None


# ------------------------------------------------------------------ dates
_WEEKDAYS_ZH = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_WEEKDAYS_EN = {
    name: i
    for i, name in enumerate(
        ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    )
}
_RE_ISO = re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?")
_RE_MD = re.compile(r"(\d{1,2})月(\d{1,2})[日号]")
_RE_ZH_WEEK = re.compile(r"(下下|下|这|本)?(?:周|星期|礼拜)([一二三四五六日天])")
_RE_EN_WEEK = re.compile(r"\b(next|this)?\s*(" + "|".join(_WEEKDAYS_EN) + r")\b", re.IGNORECASE)


def extract_date(text: str, today: dt.date) -> dt.date | None:
    """The calendar day the text names, relative to ``today`` (the bank's local date)."""
    clean = _clean(text).lower()
    for word, days in (("大后天", 3), ("后天", 2), ("明天", 1), ("今天", 0), ("昨天", -1)):
        if word in clean:
            return today + dt.timedelta(days=days)
    for word, days in (
        ("day after tomorrow", 2),
        ("tomorrow", 1),
        ("today", 0),
        ("yesterday", -1),
    ):
        if word in clean:
            return today + dt.timedelta(days=days)
    match = _RE_ISO.search(clean)
    if match:
        try:
            return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        except ValueError:
            return None
    match = _RE_MD.search(clean)
    if match:
        try:
            day = dt.date(today.year, int(match.group(1)), int(match.group(2)))
        except ValueError:
            return None
        return day if day >= today - dt.timedelta(days=180) else day.replace(year=today.year + 1)
    match = _RE_ZH_WEEK.search(clean)
    if match:
        return _weekday(today, _WEEKDAYS_ZH[match.group(2)], match.group(1) or "")
    match = _RE_EN_WEEK.search(clean)
    if match:
        prefix = {"next": "下", "this": "这"}.get((match.group(1) or "").lower(), "")
        return _weekday(today, _WEEKDAYS_EN[match.group(2).lower()], prefix)
    return None


def _weekday(today: dt.date, weekday: int, prefix: str) -> dt.date:
    monday = today - dt.timedelta(days=today.weekday())
    if prefix == "下":  # next week's day (Chinese and "next Friday" alike)
        return monday + dt.timedelta(days=7 + weekday)
    if prefix == "下下":
        return monday + dt.timedelta(days=14 + weekday)
    day = monday + dt.timedelta(days=weekday)
    if prefix in ("这", "本"):
        return day
    return day if day >= today else day + dt.timedelta(days=7)  # the coming one


# ------------------------------------------------------------------ names, accounts, codes
def match_name(text: str, candidates: Iterable[tuple[T, Sequence[str]]]) -> T | None:
    """The candidate one of whose names occurs in ``text`` (the longest match wins); names are
    compared case-insensitively after NFKC. None when nothing (or two equally long) match."""
    clean = _clean(text).lower()
    best: T | None = None
    best_len = 0
    tie = False
    for value, names in candidates:
        for name in names:
            needle = _clean(name).lower().strip()
            if len(needle) < 2 and not needle.isalpha():
                continue
            if needle and needle in clean:
                if len(needle) > best_len:
                    best, best_len, tie = value, len(needle), False
                elif len(needle) == best_len and value is not best:
                    tie = True
    return None if tie else best


_RE_TAIL = re.compile(
    r"(?:尾号|末四位|后四位|ending(?: in)?|ends? (?:with|in)|账户|账号|卡号|account|card)"
    r"\s*(\d{4})(?!\d)",
    re.IGNORECASE,
)


def extract_account_tail(text: str) -> str | None:
    match = _RE_TAIL.search(_clean(text))
    return match.group(1) if match else None


_RE_CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")


def extract_code(text: str) -> str | None:
    """A six-digit one-time code (the text is nothing but the code and spaces or words)."""
    match = _RE_CODE.search(_clean(text))
    return match.group(1) if match else None


_YES = {"确认", "确定", "是", "是的", "好", "好的", "对", "可以", "同意", "yes", "y", "ok", "okay"}
_YES |= {"confirm", "sure", "go ahead", "yep", "继续", "确认转账", "确认支付", "嗯"}
_NO = {"取消", "不", "不要", "不用", "算了", "否", "no", "n", "cancel", "stop", "nope", "放弃"}
_NO |= {"不了", "不是", "不对", "abort"}


def is_yes(text: str) -> bool:
    word = _clean(text).strip().lower().rstrip("。.!！ ")
    return word in _YES


def is_no(text: str) -> bool:
    word = _clean(text).strip().lower().rstrip("。.!！ ")
    return word in _NO or word.startswith(("取消", "cancel"))
