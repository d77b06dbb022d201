"""Standardising raw customer attributes before matching (pure functions, no database).

Names: traditional → simplified (OpenCC), pinyin without tones (pypinyin) for fuzzy matching.
Resident IDs: validated with ``stdnum.cn.ric``; 15-digit first-generation numbers are upgraded
to 18 digits. Phones: E.164 (``+8613800000001``). Addresses: province / city / district codes
(GB/T 2260, 2019-04 revision in ``data/gb2260/``) plus the remaining detail. Companies: the
unified social credit code (USCC). E-mails lower-cased; dates ISO ``YYYY-MM-DD``.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from rongshu.customers.types import FIELDS

GB2260 = Path(__file__).resolve().parents[3] / "data" / "gb2260" / "201904.tsv"


@lru_cache(maxsize=1)
def _opencc() -> Any:
    from opencc import OpenCC

    return OpenCC("t2s")


@lru_cache(maxsize=200_000)
def simplify(text: str) -> str:
    """Traditional → simplified Chinese (other text unchanged)."""
    if all(ord(c) < 0x2E80 for c in text):
        return text
    return str(_opencc().convert(text))


@lru_cache(maxsize=200_000)
def to_pinyin(text: str) -> str:
    """Tone-less pinyin, syllables joined without spaces (``张伟`` → ``zhangwei``)."""
    from pypinyin import Style, lazy_pinyin

    return "".join(lazy_pinyin(text, style=Style.NORMAL)).lower().replace(" ", "")


@dataclass(frozen=True)
class Name:
    full: str  # simplified hanzi, or a cleaned Latin name
    pinyin: str
    surname_pinyin: str
    given_pinyin: str


_COMPOUND = frozenset(
    "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 令狐 端木 独孤 南宫".split()  # noqa: SIM905
)


_COMMON_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
    "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)


@lru_cache(maxsize=1)
def _surnames() -> frozenset[str]:
    return frozenset(to_pinyin(c) for c in _COMMON_SURNAMES) | {to_pinyin(c) for c in _COMPOUND}


def _clean_name_text(raw: str) -> str:
    text = unicodedata.normalize("NFKC", raw).strip()
    return re.sub(r"[\s·•.]+", " ", text).strip()


def standardise_name(raw: str | None) -> Name | None:
    if not raw:
        return None
    text = _clean_name_text(raw)
    if not text:
        return None
    return _name_from_clean(text, None)


def _name_from_clean(text: str, simplified: dict[str, str] | None) -> Name:
    if all(ord(c) < 128 for c in text):  # a Latin / pinyin name: "Zhang Wei" or "Wei Zhang"
        words = text.lower().replace("-", " ").split()
        if len(words) > 1 and words[0] not in _surnames() and words[-1] in _surnames():
            words = words[-1:] + words[:-1]  # western order → surname first
        return Name(" ".join(words), "".join(words), words[0], "".join(words[1:]))
    joined = text.replace(" ", "")
    text = (simplified or {}).get(joined) or simplify(joined)
    split = 2 if text[:2] in _COMPOUND and len(text) > 2 else 1
    return Name(text, to_pinyin(text), to_pinyin(text[:split]), to_pinyin(text[split:]))


def upgrade_resident_id(value: str) -> str:
    """A 15-digit first-generation ID → 18 digits (century ``19`` and the check digit)."""
    from stdnum.cn import ric

    body = value[:6] + "19" + value[6:]
    return body + str(ric.calc_check_digit(body + "0"))  # the digit passed is ignored


@lru_cache(maxsize=10_000)
def _counties(region: str) -> tuple[str, ...] | None:
    """``stdnum``'s county entries of a 6-digit division code (None: unknown code)."""
    from stdnum import numdb

    results = numdb.get("cn/loc").info(region)
    info = {k: v for _part, props in results for k, v in props.items()}
    if not info:
        return None
    return tuple(str(info["county"]).split(","))


def _birth_place_known(region: str, year: int) -> bool:
    """``stdnum.cn.ric.get_birth_place``'s test: the division existed in the birth year."""
    counties = _counties(region)
    if counties is None:
        return False
    for county in counties:
        if not county.startswith("["):
            return True
        start, end = county[1:].split("]")[0].split("-")
        if (start and year < int(start)) or (end and year > int(end)):
            continue
        return True
    return False


_RIC_WEIGHTS = tuple(2 ** (17 - i) % 11 for i in range(17))


def resident_id_valid(value: str) -> bool:
    """``stdnum.cn.ric.is_valid`` (length, check digit, birth date, birth place), with the
    birth-place lookup cached per region and year: the same answer, many times faster."""
    if len(value) != 18 or not value[:17].isdigit():
        return False
    check = (1 - sum(int(c) * w for c, w in zip(value, _RIC_WEIGHTS, strict=False))) % 11
    if value[17] != ("X" if check == 10 else str(check)):
        return False
    try:
        born = dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    return _birth_place_known(value[:6], born.year)


def standardise_resident_id(raw: str | None) -> tuple[str | None, bool]:
    """``(normalised id, valid)``; an invalid non-empty ID is kept (upper-cased) but flagged."""
    if not raw:
        return None, False
    value = re.sub(r"[\s-]", "", raw).upper()
    if not value:
        return None, False
    if len(value) == 15 and value.isdigit():
        value = upgrade_resident_id(value)
    return value, resident_id_valid(value)


def standardise_phone(raw: str | None) -> str | None:
    """E.164 for Chinese mobiles and fixed lines; anything else digits with ``+``."""
    if not raw:
        return None
    digits = re.sub(r"\D", "", raw)
    if not digits:
        return None
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if len(digits) == 11 and digits.startswith("1"):
        return "+86" + digits
    if digits.startswith("0") and 10 <= len(digits) <= 12:
        return "+86" + digits[1:]
    return "+" + digits


def standardise_email(raw: str | None) -> str | None:
    if not raw:
        return None
    value = raw.strip().lower()
    return value if re.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]{2,}", value) else None


_DATE_FORMATS = ("%Y-%m-%d", "%Y%m%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%d/%m/%Y")


def standardise_date(raw: str | dt.date | None) -> str | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, dt.date):
        return raw.isoformat()
    text = str(raw).strip()
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date().isoformat()  # noqa: DTZ007
        except ValueError:
            continue
    return None


def standardise_uscc(raw: str | None) -> tuple[str | None, bool]:
    """A company's unified social credit code, ``(code, valid)``."""
    from stdnum.cn import uscc

    if not raw:
        return None, False
    value = re.sub(r"[\s-]", "", raw).upper()
    return value or None, bool(value) and bool(uscc.is_valid(value))


@lru_cache(maxsize=1)
def gb2260() -> dict[str, str]:
    """GB/T 2260 code → name."""
    codes: dict[str, str] = {}
    with GB2260.open(encoding="utf-8") as handle:
        next(handle)
        for line in handle:
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 4:
                codes[parts[2]] = parts[3]
    return codes


@lru_cache(maxsize=1)
def _names() -> dict[str, list[tuple[str, str, str]]]:
    """Division names by first character, longest first, plus short province forms
    (``广东`` for ``广东省``): ``{char: [(name, code, level), ...]}``."""
    out: dict[str, list[tuple[str, str, str]]] = {}
    for code, name in gb2260().items():
        level = (
            "province" if code.endswith("0000") else "city" if code.endswith("00") else "district"
        )
        forms = [name]
        short = re.sub(r"(省|市|自治区|壮族自治区|回族自治区|维吾尔自治区|特别行政区)$", "", name)
        if level == "province" and short != name and len(short) >= 2:
            forms.append(short)
        for form in forms:
            out.setdefault(form[0], []).append((form, code, level))
    for entries in out.values():
        entries.sort(key=lambda item: -len(item[0]))
    return out


@dataclass(frozen=True)
class Address:
    province_code: str | None
    city_code: str | None
    district_code: str | None
    detail: str


def parse_address(
    raw: str | None, *, province_code: str | None = None, city_code: str | None = None
) -> Address | None:
    """Split a free-text Chinese address into GB/T 2260 codes and the remaining detail.

    Explicit codes from the source win; names found in the text fill the gaps (province, then
    a city inside it, then a district inside that city).
    """
    text = simplify(unicodedata.normalize("NFKC", raw or "").replace(" ", ""))
    return _parse_simplified(text, province_code, city_code)


def _parse_simplified(
    text: str, province_code: str | None, city_code: str | None
) -> Address | None:
    if not text and not province_code and not city_code:
        return None
    codes = gb2260()
    province = province_code if province_code in codes else None
    city = city_code if city_code in codes else None
    district: str | None = None
    rest = text
    for level in ("province", "city", "district"):
        for name, code, lvl in _names().get(rest[:1], ()):
            if lvl != level or not rest.startswith(name):
                continue
            if level == "province":
                if province and code != province:
                    continue
                province = code
            elif level == "city":
                if province and code[:2] != province[:2]:
                    continue
                city = code
            else:
                prefix = (city or province or "")[: 4 if city else 2]
                if prefix and not code.startswith(prefix):
                    continue
                district = code
            rest = rest[len(name) :]
            break
    if city and not province:
        province = city[:2] + "0000"
    if district and not city:
        city = district[:4] + "00" if district[:4] + "00" in codes else None
        province = province or district[:2] + "0000"
    if province and not city and province[:2] in {"11", "12", "31", "50"}:
        city = province  # municipalities: the province is the city
    return Address(province, city, district, rest)


def standardise_record(raw: dict[str, Any]) -> dict[str, Any]:
    """One raw source row (mapped to our field names) → the matching columns."""
    name = standardise_name(raw.get("name"))
    rid, rid_valid = standardise_resident_id(raw.get("resident_id"))
    phone = standardise_phone(raw.get("phone"))
    birth = standardise_date(raw.get("birth_on"))
    if birth is None and rid_valid and rid:
        birth = f"{rid[6:10]}-{rid[10:12]}-{rid[12:14]}"
    address = parse_address(
        raw.get("address"),
        province_code=raw.get("province_code") or None,
        city_code=raw.get("city_code") or None,
    )
    gender = (raw.get("gender") or "").strip().upper()[:1] or None
    gender = {"男": "M", "女": "F"}.get(gender or "", gender)
    return {
        "name": name.full if name else None,
        "name_pinyin": name.pinyin if name else None,
        "surname_pinyin": name.surname_pinyin if name else None,
        "given_pinyin": name.given_pinyin if name else None,
        "gender": gender if gender in {"M", "F"} else None,
        "birth_on": birth,
        "resident_id": rid,
        "resident_id_valid": rid_valid,
        "phone": phone,
        "phone_tail": phone[-4:] if phone else None,
        "email": standardise_email(raw.get("email")),
        "province_code": address.province_code if address else None,
        "city_code": address.city_code if address else None,
        "district_code": address.district_code if address else None,
        "address_detail": (address.detail or None) if address else None,
        "address": (raw.get("address") or None),
        "uscc": standardise_uscc(raw.get("uscc"))[0],
    }


MATCH_COLUMNS = (
    "name_pinyin",
    "surname_pinyin",
    "given_pinyin",
    "gender",
    "birth_on",
    "resident_id",
    "phone",
    "phone_tail",
    "email",
    "city_code",
    "address_detail",
)

STD_COLUMNS = (
    "name",
    "name_pinyin",
    "surname_pinyin",
    "given_pinyin",
    "gender",
    "birth_on",
    "resident_id",
    "resident_id_valid",
    "phone",
    "phone_tail",
    "email",
    "province_code",
    "city_code",
    "district_code",
    "address_detail",
    "address",
    "uscc",
)
RAW_COLUMNS = tuple(f for f in FIELDS if f != "record_id")


def simplify_many(texts: Iterable[str]) -> dict[str, str]:
    """:func:`simplify` for many strings in one OpenCC call (``{text: simplified}``)."""
    texts = [t for t in texts if t]
    out = {t: t for t in texts}
    chars = {c for t in texts for c in t if ord(c) >= 0x2E80}
    # Only strings with a character OpenCC changes on its own can change.
    changing = {c for c in chars if simplify(c) != c}
    todo = sorted({t for t in texts if not changing.isdisjoint(t)})
    if todo:
        converted = str(_opencc().convert("\n".join(t.replace("\n", " ") for t in todo)))
        parts = converted.split("\n")
        if len(parts) == len(todo):
            out.update(zip(todo, parts, strict=True))
        else:  # pragma: no cover - OpenCC never merges lines; keep a safe fallback
            out.update((t, simplify(t)) for t in todo)
    return out


def _column(raw: pd.DataFrame, name: str) -> pd.Series:
    if name not in raw.columns:
        return pd.Series([""] * len(raw), index=raw.index, dtype=object)
    return raw[name].fillna("").astype(str).str.strip()


def _by_unique(values: pd.Series, func: Callable[[str], Any]) -> pd.Series:
    """``values.map(func)`` computed once per distinct value."""
    uniques = values.unique()
    table = {v: func(v) for v in uniques}
    return values.map(table)


def standardise_frame(raw: pd.DataFrame) -> pd.DataFrame:
    """:func:`standardise_record` over a whole frame of raw rows (columns
    :data:`RAW_COLUMNS`, missing = empty), computed once per distinct value with vectorised
    string operations, one OpenCC call per column; the same values as row by row."""
    out = pd.DataFrame(index=raw.index)
    names = _column(raw, "name")
    cleaned = names.map(_clean_name_text, na_action="ignore")
    simple = simplify_many(cleaned.str.replace(" ", "").unique().tolist())
    parsed = _by_unique(cleaned, lambda t: _name_from_clean(t, simple) if t else None)
    for col, attr in (
        ("name", "full"),
        ("name_pinyin", "pinyin"),
        ("surname_pinyin", "surname_pinyin"),
        ("given_pinyin", "given_pinyin"),
    ):
        out[col] = parsed.map(lambda n, a=attr: getattr(n, a) if isinstance(n, Name) else None)
    ids = _by_unique(_column(raw, "resident_id"), standardise_resident_id)
    out["resident_id"] = ids.map(lambda t: t[0])
    out["resident_id_valid"] = ids.map(lambda t: bool(t[1]))
    phone = _by_unique(_column(raw, "phone"), standardise_phone)
    out["phone"] = phone
    out["phone_tail"] = phone.str[-4:]
    births = _by_unique(_column(raw, "birth_on"), standardise_date)
    rid = out["resident_id"]
    from_id = rid.str[6:10] + "-" + rid.str[10:12] + "-" + rid.str[12:14]
    births = births.where(births.notna() | ~out["resident_id_valid"], from_id)
    address = _column(raw, "address")
    province, city = _column(raw, "province_code"), _column(raw, "city_code")
    texts = address.map(lambda t: unicodedata.normalize("NFKC", t).replace(" ", ""))
    simple = simplify_many(texts.unique().tolist())
    keys = texts + "\t" + province + "\t" + city

    def _address(key: str) -> Address | None:
        text, prov, cty = key.split("\t")
        return _parse_simplified(simple.get(text, text), prov or None, cty or None)

    parsed_address = _by_unique(keys, _address)
    gender = _column(raw, "gender").str.upper().str[:1].replace({"男": "M", "女": "F"})
    out["gender"] = gender.where(gender.isin(["M", "F"]), None)
    out["birth_on"] = births
    out["email"] = _by_unique(_column(raw, "email"), standardise_email)
    for col in ("province_code", "city_code", "district_code"):
        out[col] = parsed_address.map(
            lambda a, c=col: getattr(a, c) if isinstance(a, Address) else None
        )
    out["address_detail"] = parsed_address.map(
        lambda a: (a.detail or None) if isinstance(a, Address) else None
    )
    out["address"] = address.where(address != "", None)
    out["uscc"] = _by_unique(_column(raw, "uscc"), lambda v: standardise_uscc(v)[0])
    out = out[list(STD_COLUMNS)].astype(object)
    valid = out["resident_id_valid"].astype(bool)
    out = out.where(out.notna(), None)
    out["resident_id_valid"] = valid
    return out


def standardise_records(raws: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """:func:`standardise_frame` for a list of raw rows → one dict per row."""
    if not raws:
        return []
    frame = pd.DataFrame.from_records(
        [{c: (r.get(c) or "") for c in RAW_COLUMNS} for r in raws], columns=list(RAW_COLUMNS)
    )
    return list(standardise_frame(frame).to_dict("records"))
