"""People: names, gender, birth dates, resident IDs (GB 11643), mobile numbers, addresses and
the facts their lives are built from (income, employer). Generated per block of
:data:`~rongshu.simulation.bank.ids.BLOCK` people, vectorised, from the stream
``(seed, "people", block)``.
"""

from __future__ import annotations

import datetime as dt
import functools
import random
from dataclasses import dataclass

import numpy as np

from rongshu.simulation.bank import reference as ref
from rongshu.simulation.bank.ids import BLOCK, rng

EPOCH = dt.date(1970, 1, 1)
_RIC_WEIGHTS = [pow(2, 17 - i, 11) for i in range(17)]
_RIC_CHECK = "10X98765432"


def to_date(days: int) -> dt.date:
    return EPOCH + dt.timedelta(days=int(days))


def to_days(day: dt.date) -> int:
    return (day - EPOCH).days


# ------------------------------------------------------------------ validators


def ric_check_digit(first17: str) -> str:
    """GB 11643-1999 check character (ISO 7064 MOD 11-2)."""
    total = sum(int(c) * w for c, w in zip(first17, _RIC_WEIGHTS, strict=True))
    return _RIC_CHECK[total % 11]


def is_valid_division(code: str, *, historic: bool = True) -> bool:
    d = ref.divisions()
    return (
        len(code) == 6 and code.isdigit() and (code in d.historic if historic else code in d.names)
    )


def is_valid_resident_id(value: str) -> bool:
    """An 18-digit resident ID: check digit, a real birth date, a GB/T 2260 birthplace code."""
    if len(value) != 18 or not value[:17].isdigit() or value[17] not in "0123456789X":
        return False
    if ric_check_digit(value[:17]) != value[17]:
        return False
    try:
        dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    return is_valid_division(value[:6])


def legacy_resident_id(value: str) -> str:
    """The 15-digit ID (before 1999) of an 18-digit one: no century, no check character."""
    return value[:6] + value[8:17]


def is_valid_phone(value: str) -> bool:
    return len(value) == 11 and value.isdigit() and value[:3] in ref.ALL_PREFIXES


# ------------------------------------------------------------------ places


YEAR0, YEAR1 = 1900, 2031


def _stdnum_years(code: str) -> np.ndarray:
    """Years in which python-stdnum's copy of GB/T 2260 knows the county (its ``cn/loc``);
    IDs must validate with that widely used oracle too, so both tables have to agree."""
    years = np.zeros(YEAR1 - YEAR0, dtype=bool)
    try:
        from stdnum import numdb
    except ImportError:  # pragma: no cover - stdnum is a dependency
        years[:] = True
        return years
    info = {k: v for _part, props in numdb.get("cn/loc").info(code) for k, v in props.items()}
    for county in info.get("county", "").split(","):
        if not county:
            continue
        if not county.startswith("["):
            years[:] = True
            continue
        start, end = county[1:].split("]")[0].split("-")
        years[
            (int(start) if start else YEAR0) - YEAR0 : (int(end) if end else YEAR1 - 1) - YEAR0 + 1
        ] = True
    return years


@functools.cache
def _birthplace_table() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per province: county-level codes ever valid (GB/T 2260 since 1980) and, per code, the
    years (index ``year - 1900``) in which it may appear as a birthplace."""
    rows: dict[str, list[tuple[int, np.ndarray]]] = {}
    path = ref.DATA / "gb2260" / "DERIVED_all_codes_union.tsv"
    for line in path.read_text(encoding="utf-8").splitlines()[1:]:
        code, name, first, last, _sources = line.split("\t")
        if (
            code.endswith("00")
            or name in ("市辖区", "县")
            or code[:2] not in ref.PROVINCE_POPULATION
        ):
            continue
        years = np.zeros(YEAR1 - YEAR0, dtype=bool)
        start = YEAR0 if first == "198012" else int(first[:4])
        end = YEAR1 - 1 if last == "201904" else int(last[:4]) - 1
        years[start - YEAR0 : end - YEAR0 + 1] = True
        years &= _stdnum_years(code)
        if years.any():
            rows.setdefault(code[:2], []).append((int(code), years))
    return {p: (np.array([c for c, _ in v]), np.stack([y for _, y in v])) for p, v in rows.items()}


@functools.cache
def _code_years() -> dict[int, np.ndarray]:
    out: dict[int, np.ndarray] = {}
    for codes, years in _birthplace_table().values():
        out.update(zip(codes.tolist(), years, strict=True))
    return out


STREETS = (
    "人民",
    "解放",
    "建设",
    "中山",
    "和平",
    "新华",
    "长江",
    "黄河",
    "胜利",
    "朝阳",
    "文化",
    "光明",
)
STREET_KINDS = ("路", "街", "大道")
ESTATES = ("花园", "小区", "新村", "公寓", "家园", "苑")
ESTATE_WORDS = ("阳光", "翠湖", "金色", "锦绣", "幸福", "碧水", "东方", "丽景", "华府", "天悦")


def address_text(county: str, r: random.Random) -> str:
    province, city, district = ref.place_name(county)
    street = f"{r.choice(STREETS)}{r.choice(STREET_KINDS)}"
    estate = f"{r.choice(ESTATE_WORDS)}{r.choice(ESTATES)}"
    return (
        f"{province}{city}{district}{street}{r.randrange(1, 999)}号"
        f"{estate}{r.randrange(1, 30)}栋{r.randrange(1, 33)}{r.randrange(1, 5):02d}室"
    )


# ------------------------------------------------------------------ people


@dataclass
class People:
    """One block of people; every array has :data:`BLOCK` elements."""

    seed: int
    block: int
    index: np.ndarray  # global person index
    female: np.ndarray  # bool
    birth: np.ndarray  # days since 1970-01-01
    county: np.ndarray  # residence, int GB/T 2260 code
    old_county: np.ndarray  # previous residence (old addresses in sources)
    birthplace: np.ndarray  # int code valid in the birth year
    surname: np.ndarray  # index into names().surnames
    given1: np.ndarray  # index into the gender's given-name list
    given2: np.ndarray  # second character, -1 for a one-character given name
    seq: np.ndarray  # 3-digit order code of the resident ID (odd for men)
    phone_prefix: np.ndarray  # index into sorted(ALL_PREFIXES)
    phone_tail: np.ndarray  # 8 digits
    income: np.ndarray  # monthly income in minor units at the end date (0 if none)
    employer_hash: np.ndarray  # uint32, picks an employer among the companies
    street_seed: np.ndarray  # uint32, seeds the address text
    end_on: dt.date

    def __len__(self) -> int:
        return len(self.index)

    def age(self, on: dt.date) -> np.ndarray:
        """Age in whole years on a date."""
        born = self.birth_dates()
        return np.array([on.year - b.year - ((on.month, on.day) < (b.month, b.day)) for b in born])

    def birth_dates(self) -> list[dt.date]:
        return [to_date(d) for d in self.birth.tolist()]

    def name(self, i: int) -> str:
        n = ref.names()
        given = n.female if self.female[i] else n.male
        g2 = int(self.given2[i])
        return (
            n.surnames[int(self.surname[i])]
            + given[int(self.given1[i])]
            + (given[g2] if g2 >= 0 else "")
        )

    def resident_id(self, i: int) -> str:
        born = to_date(int(self.birth[i]))
        first = f"{int(self.birthplace[i]):06d}{born:%Y%m%d}{int(self.seq[i]):03d}"
        return first + ric_check_digit(first)

    def phone(self, i: int) -> str:
        return f"{_PREFIXES[int(self.phone_prefix[i])]}{int(self.phone_tail[i]):08d}"

    def address(self, i: int, *, old: bool = False) -> str:
        county = int(self.old_county[i] if old else self.county[i])
        r = random.Random(int(self.street_seed[i]) * 2 + (1 if old else 0))  # noqa: S311
        return address_text(f"{county:06d}", r)


_PREFIXES = sorted(ref.ALL_PREFIXES)
_FORMER = {"50": "51", "46": "44"}


def _prefix_p() -> np.ndarray:
    p = np.array(
        [
            next(ref.CARRIER_SHARE[c] / len(v) for c, v in ref.CARRIER_PREFIXES.items() if x in v)
            for x in _PREFIXES
        ]
    )
    out: np.ndarray = p / p.sum()
    return out


_PREFIX_P = _prefix_p()


def generate_people(seed: int, block: int, end_on: dt.date) -> People:
    """The people of one block (always :data:`BLOCK` of them, callers truncate)."""
    r = rng(seed, "people", block)
    n = BLOCK
    names = ref.names()
    d = ref.divisions()
    ages, age_p = ref.age_distribution()
    female = r.random(n) < 0.488  # 2020 census: 51.2 % men
    age = r.choice(ages, size=n, p=age_p)
    end_days = to_days(end_on)
    birth = end_days - (age * 365.25).astype(np.int64) - r.integers(0, 365, size=n)
    county = r.choice(d.counties, size=n, p=d.county_weight)
    moved = r.random(n) < 0.35
    old_county = np.where(moved, r.choice(d.counties, size=n, p=d.county_weight), county)
    # birthplace: most people were born where they live (or lived), otherwise elsewhere in
    # the province; the code must have existed in the birth year (GB 11643 + GB/T 2260)
    birthplace = np.where(r.random(n) < 0.7, old_county, 0)
    born_year = np.array([to_date(x).year for x in birth.tolist()])
    table = _birthplace_table()
    code_years = _code_years()
    pick = r.random((n, 8))
    for i in range(n):
        code = int(birthplace[i])
        y = int(born_year[i]) - YEAR0
        if code and code in code_years and code_years[code][y]:
            continue
        province = f"{int(old_county[i]):06d}"[:2]
        codes, years = table[province]
        ok = np.flatnonzero(years[:, y])
        if len(ok) == 0:  # 重庆 (1997) was part of 四川, 海南 (1988) of 广东
            codes, years = table[_FORMER.get(province, "11")]
            ok = np.flatnonzero(years[:, y])
        birthplace[i] = codes[ok[int(pick[i, 0] * len(ok))]]
    surname = r.choice(len(names.surnames), size=n, p=names.surname_p)
    g1m = r.choice(len(names.male), size=n, p=names.male_p)
    g1f = r.choice(len(names.female), size=n, p=names.female_p)
    g2m = r.choice(len(names.male), size=n, p=names.male_p)
    g2f = r.choice(len(names.female), size=n, p=names.female_p)
    two = r.random(n) < 0.78
    given1 = np.where(female, g1f, g1m)
    given2 = np.where(two, np.where(female, g2f, g2m), -1)
    seq = r.integers(0, 500, size=n) * 2 + np.where(female, 0, 1)
    phone_prefix = r.choice(len(_PREFIXES), size=n, p=_PREFIX_P)
    phone_tail = r.integers(0, 100_000_000, size=n)
    provinces = [f"{c:06d}"[:2] for c in county.tolist()]
    factor = np.array([ref.PROVINCE_WAGE_FACTOR.get(p, 0.9) for p in provinces])
    # monthly income: log-normal around ¥6,500 (NBS 2022: urban non-private ¥9,600 a month,
    # private ¥5,400), higher in the richer provinces, lower for the very young
    base = np.exp(r.normal(np.log(6_500.0), 0.55, size=n)) * factor
    base *= np.clip(0.6 + (age - 18) * 0.04, 0.6, 1.2)
    income = (base * 100).astype(np.int64)
    return People(
        seed=seed,
        block=block,
        index=np.arange(block * n, (block + 1) * n, dtype=np.int64),
        female=female,
        birth=birth.astype(np.int64),
        county=county,
        old_county=old_county,
        birthplace=birthplace,
        surname=surname,
        given1=given1,
        given2=given2,
        seq=seq,
        phone_prefix=phone_prefix,
        phone_tail=phone_tail,
        income=income,
        employer_hash=r.integers(0, 2**32, size=n, dtype=np.uint64),
        street_seed=r.integers(0, 2**32, size=n, dtype=np.uint64),
        end_on=end_on,
    )
