"""The same people as seven systems see them, for unique identification (entity resolution).

One CSV per source (``core``, ``insurance``, ``securities``, ``leasing``, ``telco``, ``utility``,
``ecommerce``), all with the header ``record_id,name,gender,birth_on,resident_id,phone,email,
address,province_code,city_code`` (empty = missing), and ``truth.csv``
(``source,record_id,person_id``). Each source covers its own share of the people and adds its
own kinds of noise (see :data:`PROFILES` and ``docs/simulation.md``). Streaming, per block.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rongshu.customers.types import FIELDS
from rongshu.simulation.bank import reference as ref
from rongshu.simulation.bank.ids import BLOCK, id_array, rng
from rongshu.simulation.bank.people import People, generate_people, legacy_resident_id, to_date
from rongshu.simulation.bank.reference import city_code

# the customers domain's source-record columns; person records carry no company code
HEADER = tuple(f for f in FIELDS if f != "uscc")
SOURCES_END_ON = dt.date(2026, 6, 30)  # fixed reference date: outputs never depend on today


@dataclass(frozen=True)
class Profile:
    """How one source sees people: coverage and the probability of each kind of noise."""

    coverage: float
    duplicate: float = 0.0  # a second record of the same person
    typo: float = 0.0  # a homophone or look-alike character in the name
    pinyin: float = 0.0  # the name in pinyin instead of hanzi
    traditional: float = 0.0  # traditional characters
    name_missing: float = 0.0
    gender_missing: float = 0.0
    birth_missing: float = 0.0
    birth_swapped: float = 0.0  # day and month swapped, or one digit transposed
    id_missing: float = 0.0
    id_legacy: float = 0.0  # 15-digit ID (people born before 2000)
    id_transposed: float = 0.0
    phone_missing: float = 0.0
    phone_shared: float = 0.0  # a family member's phone
    phone_transposed: float = 0.0
    email_present: float = 0.0
    address_missing: float = 0.0
    address_old: float = 0.0  # where the person lived before
    address_short: float = 0.0  # without province / city prefixes


PROFILES: dict[str, Profile] = {
    "core": Profile(
        0.90,
        duplicate=0.02,
        typo=0.01,
        birth_swapped=0.003,
        id_legacy=0.03,
        id_transposed=0.005,
        phone_missing=0.02,
        phone_transposed=0.005,
        email_present=0.4,
        address_old=0.2,
    ),
    "insurance": Profile(
        0.30,
        duplicate=0.01,
        typo=0.03,
        birth_swapped=0.01,
        id_missing=0.02,
        id_transposed=0.01,
        phone_shared=0.03,
        phone_missing=0.05,
        email_present=0.5,
        address_old=0.3,
        address_short=0.2,
    ),
    "securities": Profile(
        0.20,
        typo=0.02,
        id_legacy=0.05,
        birth_swapped=0.005,
        phone_missing=0.03,
        email_present=0.6,
        address_old=0.25,
    ),
    "leasing": Profile(
        0.08,
        typo=0.03,
        traditional=0.08,
        id_missing=0.1,
        birth_missing=0.05,
        phone_shared=0.05,
        email_present=0.3,
        address_old=0.3,
    ),
    "telco": Profile(
        0.75,
        typo=0.05,
        traditional=0.01,
        birth_missing=0.4,
        id_legacy=0.08,
        id_transposed=0.01,
        gender_missing=0.2,
        email_present=0.1,
        address_missing=0.3,
        address_old=0.3,
        address_short=0.3,
    ),
    "utility": Profile(
        0.50,
        typo=0.04,
        gender_missing=0.8,
        birth_missing=0.9,
        id_missing=0.7,
        phone_shared=0.2,
        phone_missing=0.1,
        email_present=0.05,
        address_short=0.5,
    ),
    "ecommerce": Profile(
        0.65,
        duplicate=0.03,
        typo=0.05,
        pinyin=0.15,
        name_missing=0.05,
        gender_missing=0.4,
        birth_missing=0.6,
        birth_swapped=0.02,
        id_missing=0.95,
        phone_transposed=0.01,
        email_present=0.7,
        address_old=0.3,
        address_short=0.3,
    ),
}
SOURCE_NUMBER = {name: i + 1 for i, name in enumerate(PROFILES)}

# homophones and look-alikes commonly confused when names are typed (given-name characters)
CONFUSABLE = {
    "伟": "玮",
    "芳": "方",
    "娜": "那",
    "敏": "闵",
    "静": "靖",
    "丽": "莉",
    "艳": "燕",
    "娟": "鹃",
    "霞": "侠",
    "玲": "铃",
    "婷": "亭",
    "雪": "雯",
    "慧": "惠",
    "颖": "影",
    "琳": "林",
    "欣": "馨",
    "强": "祥",
    "磊": "垒",
    "军": "君",
    "勇": "永",
    "杰": "洁",
    "涛": "滔",
    "明": "鸣",
    "超": "潮",
    "辉": "晖",
    "刚": "钢",
    "平": "萍",
    "鹏": "朋",
    "斌": "彬",
    "浩": "皓",
    "宇": "雨",
    "俊": "骏",
    "峰": "锋",
    "建": "健",
    "国": "郭",
    "文": "雯",
    "海": "晦",
    "波": "渡",
    "亮": "凉",
    "洋": "阳",
    "飞": "菲",
    "鑫": "鑫",
    "志": "智",
    "晨": "辰",
    "博": "搏",
    "子": "紫",
    "轩": "萱",
    "然": "燃",
    "梓": "子",
    "涵": "含",
    "萱": "宣",
    "晶": "睛",
    "倩": "茜",
    "佳": "家",
    "悦": "越",
    "月": "玥",
    "红": "虹",
    "梅": "眉",
    "兰": "岚",
    "秀": "绣",
    "英": "瑛",
    "华": "桦",
    "思": "斯",
    "嘉": "佳",
}
EMAIL_DOMAINS = ("qq.com", "163.com", "126.com", "sina.com", "gmail.com", "outlook.com")


@functools.cache
def _s2t() -> Callable[[str], str]:
    from opencc import OpenCC

    convert = OpenCC("s2t").convert
    return lambda text: str(convert(text))


@functools.cache
def _pinyin(text: str) -> list[str]:
    from pypinyin import lazy_pinyin

    return [str(p) for p in lazy_pinyin(text)]


def pinyin_name(name: str, western: bool) -> str:
    syllables = _pinyin(name)
    family, given = syllables[0].capitalize(), "".join(syllables[1:]).capitalize()
    return f"{given} {family}" if western else f"{family} {given}"


def _transpose(text: str, r: np.random.Generator) -> str:
    digits = [i for i in range(len(text) - 1) if text[i].isdigit() and text[i + 1].isdigit()]
    if not digits:
        return text
    i = digits[int(r.integers(len(digits)))]
    if text[i] == text[i + 1]:
        return text[:i] + str((int(text[i]) + 1) % 10) + text[i + 1 :]
    return text[:i] + text[i + 1] + text[i] + text[i + 2 :]


def _short_address(address: str) -> str:
    for suffix in ("省", "自治区", "市"):
        k = address.find(suffix)
        if 0 < k < 8:
            return address[k + len(suffix) :]
    return address


def _record(
    people: People,
    i: int,
    p: Profile,
    r: np.random.Generator,
    household: int,
) -> list[str]:
    u = r.random(20)
    name = people.name(i)
    if u[0] < p.typo and len(name) >= 2:
        last = name[-1]
        name = name[:-1] + CONFUSABLE.get(last, last)
    if u[1] < p.traditional:
        name = _s2t()(name)
    if u[2] < p.pinyin:
        name = pinyin_name(people.name(i), western=u[3] < 0.3)
    if u[4] < p.name_missing:
        name = ""
    gender = "" if u[5] < p.gender_missing else ("F" if people.female[i] else "M")
    born = to_date(int(people.birth[i]))
    birth = born.isoformat()
    if u[6] < p.birth_swapped:
        birth = (
            f"{born.year}-{born.day:02d}-{born.month:02d}"
            if born.day <= 12 and born.day != born.month
            else _transpose(birth, r)
        )
    if u[7] < p.birth_missing:
        birth = ""
    rid = people.resident_id(i)
    if u[8] < p.id_legacy and born.year < 2000:
        rid = legacy_resident_id(rid)
    elif u[9] < p.id_transposed:
        rid = _transpose(rid, r)
    if u[10] < p.id_missing:
        rid = ""
    phone = people.phone(household) if u[11] < p.phone_shared else people.phone(i)
    if u[12] < p.phone_transposed:
        phone = _transpose(phone, r)
    if u[13] < p.phone_missing:
        phone = ""
    email = ""
    if u[14] < p.email_present:
        local = "".join(_pinyin(people.name(i)))
        email = (
            f"{local}{int(r.integers(1, 999))}@{EMAIL_DOMAINS[int(r.integers(len(EMAIL_DOMAINS)))]}"
        )
    old = u[15] < p.address_old
    county = f"{int(people.old_county[i] if old else people.county[i]):06d}"
    address = people.address(i, old=old)
    if u[16] < p.address_short:
        address = _short_address(address)
    province, city = county[:2] + "0000", city_code(county)
    if u[17] < p.address_missing:
        address, province, city = "", "", ""
    return [name, gender, birth, rid, phone, email, address, province, city]


def write_sources(
    path: Path,
    *,
    people: int,
    seed: int = 1,
    end_on: dt.date = SOURCES_END_ON,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Write the seven source files and ``truth.csv`` under ``path``; returns record counts."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    say = progress or (lambda _msg: None)
    files = {
        name: (path / f"{name}.csv").open("w", encoding="utf-8", newline="") for name in PROFILES
    }
    truth_file = (path / "truth.csv").open("w", encoding="utf-8", newline="")
    counts: dict[str, Any] = dict.fromkeys(PROFILES, 0)
    try:
        writers = {name: csv.writer(f, lineterminator="\n") for name, f in files.items()}
        truth = csv.writer(truth_file, lineterminator="\n")
        for w in writers.values():
            w.writerow(HEADER)
        truth.writerow(("source", "record_id", "person_id"))
        blocks = (people + BLOCK - 1) // BLOCK
        for block in range(blocks):
            folk = generate_people(seed, block, end_on)
            size = min(BLOCK, people - block * BLOCK)
            # households: neighbours (2k, 2k+1) of a block often share a home phone
            partner = np.arange(BLOCK) ^ 1
            person_ids = id_array(seed, "customer", folk.index).to_pylist()
            for name, profile in PROFILES.items():
                number = SOURCE_NUMBER[name]
                r = rng(seed, "sources", number, block)
                covered = np.flatnonzero(r.random(BLOCK)[:size] < profile.coverage)
                dup = r.random(BLOCK) < profile.duplicate
                out: list[tuple[str, list[str], int]] = []
                for i in covered.tolist():
                    household = int(partner[i]) if partner[i] < size else i
                    for copy in range(2 if dup[i] else 1):
                        key = f"{seed}/{number}/{int(folk.index[i])}/{copy}".encode()
                        record_id = hashlib.blake2b(key, digest_size=8).hexdigest()
                        fields = _record(
                            folk, i, profile if copy == 0 else _noisier(profile), r, household
                        )
                        out.append((record_id, fields, i))
                for j in r.permutation(len(out)).tolist():
                    record_id, fields, i = out[j]
                    writers[name].writerow([f"{name[:3].upper()}{record_id}", *fields])
                    truth.writerow((name, f"{name[:3].upper()}{record_id}", person_ids[i]))
                counts[name] += len(out)
            say(f"sources: {min((block + 1) * BLOCK, people):,}/{people:,} people")
    finally:
        for f in files.values():
            f.close()
        truth_file.close()
    counts["people"] = people
    counts["truth"] = sum(counts[name] for name in PROFILES)
    return counts


@functools.cache
def _noisier(p: Profile) -> Profile:
    """A duplicate record (the same person entered twice) is noisier than the first."""
    return Profile(
        p.coverage,
        typo=max(p.typo, 0.3),
        birth_swapped=max(p.birth_swapped, 0.05),
        id_missing=max(p.id_missing, 0.3),
        id_transposed=max(p.id_transposed, 0.1),
        phone_missing=max(p.phone_missing, 0.2),
        email_present=p.email_present / 2,
        address_old=max(p.address_old, 0.5),
        pinyin=p.pinyin,
        gender_missing=p.gender_missing,
        birth_missing=p.birth_missing,
    )


def division_codes_valid(row: dict[str, str]) -> bool:
    """A source row's province and city codes are empty or real GB/T 2260 codes."""
    names = ref.divisions().names
    return all(not row[k] or row[k] in names for k in ("province_code", "city_code"))
