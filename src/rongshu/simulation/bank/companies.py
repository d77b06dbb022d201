"""Companies: names, unified social credit codes (GB 32100), industries (GB/T 4754 sections),
sizes and supplier → customer chains. Company ``k`` is generated from the stream
``(seed, "companies", k)`` alone, so the company list is a prefix-stable sequence."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from rongshu.simulation.bank import reference as ref
from rongshu.simulation.bank.ids import rng

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100: no I, O, S, V, Z
_USCC_WEIGHTS = [pow(3, i, 31) for i in range(17)]
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)  # GB 11714 organisation code
_ORG_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"

# GB/T 4754-2017 sections with a tier in a supply chain (0 = raw materials … 3 = consumers)
INDUSTRIES: list[tuple[str, str, int, float]] = [
    ("A", "农林牧渔", 0, 0.04),
    ("B", "采矿", 0, 0.01),
    ("C", "制造", 1, 0.22),
    ("D", "电力燃气水", 0, 0.01),
    ("E", "建筑", 1, 0.08),
    ("F", "批发零售", 2, 0.28),
    ("G", "交通运输", 2, 0.04),
    ("H", "住宿餐饮", 3, 0.06),
    ("I", "信息技术", 2, 0.05),
    ("K", "房地产", 3, 0.03),
    ("L", "租赁商务", 2, 0.08),
    ("M", "科研技术", 2, 0.04),
    ("O", "居民服务", 3, 0.04),
    ("R", "文体娱乐", 3, 0.02),
]
_WORDS = (
    "华",
    "盛",
    "鑫",
    "泰",
    "恒",
    "达",
    "宏",
    "信",
    "源",
    "隆",
    "丰",
    "瑞",
    "德",
    "兴",
    "通",
    "博",
)
_SUFFIX = {
    "A": "农业",
    "B": "矿业",
    "C": "制造",
    "D": "能源",
    "E": "建设",
    "F": "商贸",
    "G": "物流",
    "H": "餐饮",
    "I": "科技",
    "K": "置业",
    "L": "商务服务",
    "M": "技术",
    "O": "家政服务",
    "R": "文化传媒",
}


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def org_check_char(first8: str) -> str:
    total = sum(_ORG_ALPHABET.index(c) * w for c, w in zip(first8, _ORG_WEIGHTS, strict=True))
    value = (11 - total % 11) % 11
    return "X" if value == 10 else str(value)


def is_valid_uscc(value: str) -> bool:
    """GB 32100-2015: department, type, GB/T 2260 division, GB 11714 organisation code with its
    check character, and the mod-31 check character."""
    from rongshu.simulation.bank.people import is_valid_division

    if len(value) != 18 or any(c not in USCC_ALPHABET for c in value):
        return False
    if not value[2:8].isdigit() or not is_valid_division(value[2:8]):
        return False
    if org_check_char(value[8:16]) != value[16]:
        return False
    return uscc_check_char(value[:17]) == value[17]


@dataclass(frozen=True)
class Company:
    index: int
    name: str
    uscc: str
    industry: str
    tier: int
    county: str
    employees: int
    payday: int  # day of month salaries are paid
    suppliers: tuple[int, ...]  # indices of companies this one buys from


@functools.cache
def _industry_p() -> np.ndarray:
    p = np.array([w for *_, w in INDUSTRIES])
    out: np.ndarray = p / p.sum()
    return out


def company(seed: int, index: int) -> Company:
    r = rng(seed, "companies", index)
    d = ref.divisions()
    county = f"{int(r.choice(d.counties, p=d.county_weight)):06d}"
    code, _label, tier, _w = INDUSTRIES[int(r.choice(len(INDUSTRIES), p=_industry_p()))]
    org = "".join(str(x) for x in r.integers(0, 10, size=8))
    first17 = "91" + county + org + org_check_char(org)
    uscc = first17 + uscc_check_char(first17)
    _p, city, district = ref.place_name(county)
    words = "".join(_WORDS[int(x)] for x in r.integers(0, len(_WORDS), size=2))
    name = f"{(city or district)[:2]}{words}{_SUFFIX[code]}有限公司"
    employees = int(np.clip(r.lognormal(np.log(25), 1.3), 3, 20_000))
    # supplier → customer chain: a company buys from up to three companies of a lower tier
    # among those before it (so chains are acyclic and prefix-stable)
    suppliers: list[int] = []
    if index > 0 and tier > 0:
        for _ in range(int(r.integers(1, 4))):
            k = int(r.integers(0, index))
            if company_tier(seed, k) < tier and k not in suppliers:
                suppliers.append(k)
    payday = int(r.choice([5, 10, 15, 20, 25], p=[0.15, 0.35, 0.3, 0.1, 0.1]))
    return Company(index, name, uscc, code, tier, county, employees, payday, tuple(suppliers))


@functools.cache
def company_tier(seed: int, index: int) -> int:
    r = rng(seed, "companies", index)
    d = ref.divisions()
    r.choice(d.counties, p=d.county_weight)
    return INDUSTRIES[int(r.choice(len(INDUSTRIES), p=_industry_p()))][2]


def company_count(customers: int) -> int:
    """About one corporate customer per 40 people (SME-heavy bank)."""
    return max(4, customers // 40)
