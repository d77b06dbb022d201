"""A small deterministic multi-source customer set (a builder, not random fixtures): people
with names, IDs, phones and addresses, copied into several sources with typos and gaps."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from stdnum.cn import ric

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰红"
PLACES = [
    ("110105", "北京市朝阳区", "建国路"),
    ("310115", "上海市浦东新区", "世纪大道"),
    ("440305", "广东省深圳市南山区", "科技园路"),
    ("330106", "浙江省杭州市西湖区", "文三路"),
]


@dataclass(frozen=True)
class Person:
    person_id: str
    name: str
    gender: str
    birth_on: str
    resident_id: str
    phone: str
    email: str
    address: str


def make_people(count: int, seed: int = 7) -> list[Person]:
    rnd = random.Random(seed)
    people = []
    used: set[str] = set()
    for i in range(count):
        while True:
            name = (
                rnd.choice(SURNAMES)
                + rnd.choice(GIVEN)
                + (rnd.choice(GIVEN) if rnd.random() < 0.6 else "")
            )
            if name not in used:
                used.add(name)
                break
        code, prefix, street = rnd.choice(PLACES)
        birth = f"{rnd.randint(1950, 2000)}{rnd.randint(1, 12):02d}{rnd.randint(1, 28):02d}"
        body = f"{code}{birth}{rnd.randint(100, 999)}"
        rid = body + ric.calc_check_digit(body + "0")
        people.append(
            Person(
                person_id=f"P{i:04d}",
                name=name,
                gender="M" if int(body[-1]) % 2 else "F",
                birth_on=f"{birth[:4]}-{birth[4:6]}-{birth[6:]}",
                resident_id=rid,
                phone=f"13{rnd.randint(100000000, 999999999)}",
                email=f"user{i}@example.com",
                address=f"{prefix}{street}{rnd.randint(1, 300)}号",
            )
        )
    return people


def _typo(text: str, rnd: random.Random) -> str:
    if len(text) < 3:
        return text
    i = rnd.randrange(1, len(text) - 1)
    return text[:i] + text[i + 1] + text[i] + text[i + 2 :]


def rows_for(
    people: list[Person], source: str, *, share: float = 1.0, noise: float = 0.3, seed: int = 1
) -> list[dict[str, Any]]:
    """One source's rows for a share of the people, with typos and missing values."""
    rnd = random.Random(f"{source}-{seed}")
    rows = []
    for p in people:
        if rnd.random() > share:
            continue
        row = {
            "record_id": f"{source}-{p.person_id}",
            "name": p.name,
            "gender": p.gender,
            "birth_on": p.birth_on,
            "resident_id": p.resident_id,
            "phone": p.phone,
            "email": p.email,
            "address": p.address,
        }
        if rnd.random() < noise:
            row["resident_id"] = ""  # the ID is missing: the model must decide
            row["phone"] = _typo(p.phone, rnd) if rnd.random() < 0.5 else p.phone
        if rnd.random() < noise / 2:
            row["email"] = ""
        rows.append(row)
    return rows


def truth_of(rows_by_source: dict[str, list[dict[str, Any]]]) -> dict[tuple[str, str], str]:
    return {
        (source, row["record_id"]): row["record_id"].split("-", 1)[1]
        for source, rows in rows_by_source.items()
        for row in rows
    }
