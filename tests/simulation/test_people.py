"""People and companies: every generated identifier validates, with our validators and with
python-stdnum as an independent oracle."""

from __future__ import annotations

import datetime as dt

import pytest
from stdnum.cn import ric, uscc

from rongshu.simulation.bank import reference as ref
from rongshu.simulation.bank.companies import company, is_valid_uscc, uscc_check_char
from rongshu.simulation.bank.ids import BLOCK, id_array, one_id
from rongshu.simulation.bank.lives import generate_lives
from rongshu.simulation.bank.people import (
    generate_people,
    is_valid_phone,
    is_valid_resident_id,
    legacy_resident_id,
    ric_check_digit,
    to_days,
)

END = dt.date(2026, 6, 30)


def _stdnum_ric(value: str) -> bool:
    try:
        return ric.is_valid(value)
    except KeyError:  # stdnum raises on a few codes it only half knows
        return False


def test_the_gb11643_worked_example_validates() -> None:
    assert ric_check_digit("11010519491231002") == "X"
    assert is_valid_resident_id("11010519491231002X")
    assert not is_valid_resident_id("110105194912310021")
    assert not is_valid_resident_id("11010519491331002X".replace("1331", "1332"))


@pytest.mark.parametrize("block", [0, 1, 7])
def test_every_resident_id_phone_and_division_of_a_block_validates(block: int) -> None:
    people = generate_people(5, block, END)
    names = ref.divisions().names
    for i in range(BLOCK):
        rid = people.resident_id(i)
        assert is_valid_resident_id(rid), rid
        assert _stdnum_ric(rid), rid
        assert (rid[16] in "13579") == (not people.female[i])
        assert is_valid_phone(people.phone(i))
        assert f"{int(people.county[i]):06d}" in names
        assert len(legacy_resident_id(rid)) == 15
        assert legacy_resident_id(rid)[6:12] == rid[8:14]


def test_names_follow_the_surname_table() -> None:
    people = generate_people(1, 0, END)
    names = [people.name(i) for i in range(BLOCK)]
    surnames = ref.names().surnames
    assert all(2 <= len(n) <= 3 and n[0] in surnames for n in names)
    top = sum(n[0] in "王李张刘陈" for n in names) / len(names)
    assert 0.22 < top < 0.40  # the five largest surnames hold about 30 %


def test_ages_are_adult_and_follow_the_census() -> None:
    people = generate_people(1, 0, END)
    age = people.age(END)
    assert age.min() >= 18
    assert age.max() <= 91
    assert 0.15 < (age >= 60).mean() < 0.40


def test_companies_have_valid_unified_social_credit_codes_and_acyclic_supply_chains() -> None:
    for k in range(200):
        c = company(3, k)
        assert is_valid_uscc(c.uscc), c.uscc
        assert uscc.is_valid(c.uscc), c.uscc
        assert all(s < k for s in c.suppliers)
    assert uscc_check_char("91350100M000100Y4") == "3"  # published example 91350100M000100Y43


def test_ids_are_deterministic_and_match_between_scalar_and_vector() -> None:
    import numpy as np

    vector = id_array(1, "customer", np.arange(10)).to_pylist()
    assert vector == [str(one_id(1, "customer", i)) for i in range(10)]
    assert len(set(vector)) == 10
    assert id_array(2, "customer", np.arange(10)).to_pylist() != vector


def test_life_events_are_ordered_consistently() -> None:
    people = generate_people(1, 0, END)
    lives = generate_lives(people)
    end = to_days(END)
    for i in range(200):
        events = dict(lives.events(i, end))
        if "child" in events:
            assert "marriage" in events
            assert events["marriage"] < events["child"]
        assert all(day <= end for day in events.values())
    assert (lives.retirement > people.birth).all()
