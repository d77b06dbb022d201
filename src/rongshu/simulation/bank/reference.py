"""Reference tables the generator draws from: divisions (GB/T 2260), names, provinces' population,
the adult age pyramid and mobile carrier prefixes. Sources are in ``docs/simulation.md``."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[4] / "data"

# 7th national census (2020), resident population in millions, by province code (GB/T 2260).
PROVINCE_POPULATION: dict[str, float] = {
    "11": 21.89,
    "12": 13.87,
    "13": 74.61,
    "14": 34.92,
    "15": 24.05,
    "21": 42.59,
    "22": 24.07,
    "23": 31.85,
    "31": 24.87,
    "32": 84.75,
    "33": 64.57,
    "34": 61.03,
    "35": 41.54,
    "36": 45.19,
    "37": 101.53,
    "41": 99.37,
    "42": 57.75,
    "43": 66.44,
    "44": 126.01,
    "45": 50.13,
    "46": 10.08,
    "50": 32.05,
    "51": 83.67,
    "52": 38.56,
    "53": 47.21,
    "54": 3.65,
    "61": 39.53,
    "62": 25.02,
    "63": 5.92,
    "64": 7.20,
    "65": 25.85,
}
# Tier-1 and richer coastal provinces earn more (NBS 2022 average wage ratio to national, rounded).
PROVINCE_WAGE_FACTOR: dict[str, float] = {
    "11": 1.75,
    "31": 1.70,
    "44": 1.15,
    "33": 1.20,
    "32": 1.15,
    "12": 1.15,
    "35": 1.0,
    "54": 1.3,
    "46": 1.0,
}

# 2020 census, adults by five-year band (millions): 18-19 (two fifths of 15-19), 20-24 … 90+.
AGE_BANDS: list[tuple[int, int, float]] = [
    (18, 20, 29.1),
    (20, 25, 74.9),
    (25, 30, 91.9),
    (30, 35, 124.1),
    (35, 40, 99.0),
    (40, 45, 93.0),
    (45, 50, 114.2),
    (50, 55, 121.2),
    (55, 60, 101.4),
    (60, 65, 73.4),
    (65, 70, 74.0),
    (70, 75, 49.6),
    (75, 80, 31.0),
    (80, 85, 20.4),
    (85, 91, 15.7),
]

# MIIT numbering plan: 3-digit mobile prefixes of the three carriers (+ China Broadnet 192).
CARRIER_PREFIXES: dict[str, tuple[str, ...]] = {
    "China Mobile": (
        "134",
        "135",
        "136",
        "137",
        "138",
        "139",
        "147",
        "150",
        "151",
        "152",
        "157",
        "158",
        "159",
        "172",
        "178",
        "182",
        "183",
        "184",
        "187",
        "188",
        "195",
        "197",
        "198",
    ),
    "China Unicom": (
        "130",
        "131",
        "132",
        "145",
        "155",
        "156",
        "166",
        "171",
        "175",
        "176",
        "185",
        "186",
        "196",
    ),
    "China Telecom": (
        "133",
        "149",
        "153",
        "173",
        "177",
        "180",
        "181",
        "189",
        "190",
        "191",
        "193",
        "199",
    ),
    "China Broadnet": ("192",),
}
# Market shares of mobile subscriptions (MIIT 2023, rounded): Mobile 57 %, Telecom 24 %,
# Unicom 19 %; Broadnet is small.
CARRIER_SHARE = {
    "China Mobile": 0.56,
    "China Unicom": 0.19,
    "China Telecom": 0.24,
    "China Broadnet": 0.01,
}
ALL_PREFIXES = frozenset(p for group in CARRIER_PREFIXES.values() for p in group)


@dataclass(frozen=True)
class Divisions:
    names: dict[str, str]  # every code of 201904 → name
    counties: np.ndarray  # int codes of county-level divisions (201904)
    county_weight: np.ndarray  # probability of living there (province population / counties)
    province_of: dict[str, str]
    historic: frozenset[str]  # every code ever valid since 1980 (for old IDs)


@functools.cache
def divisions() -> Divisions:
    names: dict[str, str] = {}
    for line in (DATA / "gb2260" / "201904.tsv").read_text(encoding="utf-8").splitlines()[1:]:
        _source, _rev, code, name = line.split("\t")
        names[code] = name
    historic = frozenset(
        line.split("\t")[0]
        for line in (DATA / "gb2260" / "DERIVED_all_codes_union.tsv")
        .read_text(encoding="utf-8")
        .splitlines()[1:]
    )
    counties = sorted(
        code
        for code, name in names.items()
        if not code.endswith("00")
        and name not in ("市辖区", "县", "省直辖县级行政区划")
        and code[:2] in PROVINCE_POPULATION
    )
    by_province: dict[str, int] = {}
    for code in counties:
        by_province[code[:2]] = by_province.get(code[:2], 0) + 1
    total = sum(PROVINCE_POPULATION.values())
    weight = np.array([PROVINCE_POPULATION[c[:2]] / total / by_province[c[:2]] for c in counties])
    weight /= weight.sum()
    return Divisions(
        names=names,
        counties=np.array([int(c) for c in counties], dtype=np.int64),
        county_weight=weight,
        province_of={c: c[:2] + "0000" for c in counties},
        historic=historic,
    )


def city_code(county: str) -> str:
    """The prefecture of a county; for municipalities and county-level divisions directly under a
    province, the first existing of ``XXYY00`` or the province."""
    names = divisions().names
    city = county[:4] + "00"
    return city if city in names else county[:2] + "0000"


def place_name(county: str) -> tuple[str, str, str]:
    names = divisions().names
    province = names.get(county[:2] + "0000", "")
    city = names.get(county[:4] + "00", "")
    if city in ("市辖区", "县", "省直辖县级行政区划"):
        city = ""
    return province, city, names.get(county, "")


@dataclass(frozen=True)
class Names:
    surnames: list[str]
    surname_p: np.ndarray
    male: list[str]
    male_p: np.ndarray
    female: list[str]
    female_p: np.ndarray


def _table(path: Path) -> tuple[list[str], np.ndarray]:
    rows = [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines()[1:]]
    weights = np.array([float(w) for _, w in rows])
    return [c for c, _ in rows], weights / weights.sum()


@functools.cache
def names() -> Names:
    s, sp = _table(DATA / "names" / "surnames.tsv")
    m, mp = _table(DATA / "names" / "given_male.tsv")
    f, fp = _table(DATA / "names" / "given_female.tsv")
    return Names(s, sp, m, mp, f, fp)


def age_distribution() -> tuple[np.ndarray, np.ndarray]:
    """Single years of age 18..90 and their probabilities (uniform inside a band)."""
    ages: list[int] = []
    probs: list[float] = []
    for low, high, millions in AGE_BANDS:
        for age in range(low, high):
            ages.append(age)
            probs.append(millions / (high - low))
    p = np.array(probs)
    return np.array(ages), p / p.sum()
