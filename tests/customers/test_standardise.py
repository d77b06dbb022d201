"""Standardisation rules (no database) and the engine on FEBRL (the accuracy floor)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import ric

from rongshu.customers import engine as er
from rongshu.customers import febrl
from rongshu.customers.standardise import (
    parse_address,
    standardise_date,
    standardise_email,
    standardise_name,
    standardise_phone,
    standardise_resident_id,
    standardise_uscc,
)


def test_names_are_simplified_and_pinyin() -> None:
    name = standardise_name("歐陽娜娜")
    assert name is not None
    assert (name.full, name.pinyin, name.surname_pinyin, name.given_pinyin) == (
        "欧阳娜娜", "ouyangnana", "ouyang", "nana"
    )  # fmt: skip
    latin = standardise_name("Nana  OUYANG")
    assert latin is not None and latin.pinyin == "ouyangnana"


def test_resident_ids_are_validated_and_upgraded() -> None:
    assert standardise_resident_id("110105491231002") == ("11010519491231002X", True)
    assert standardise_resident_id("11010519491231002x") == ("11010519491231002X", True)
    assert standardise_resident_id("110105194912310021") == ("110105194912310021", False)
    assert standardise_resident_id("") == (None, False)


@settings(max_examples=40, deadline=None)
@given(
    st.dates(
        min_value=__import__("datetime").date(1900, 1, 1),
        max_value=__import__("datetime").date(1999, 12, 31),
    ),
    st.integers(0, 999),
)
def test_every_upgraded_first_generation_id_is_valid(born: object, serial: int) -> None:
    old = f"110105{born:%y%m%d}{serial:03d}"  # type: ignore[str-format]
    value, valid = standardise_resident_id(old)
    assert valid and value is not None and ric.is_valid(value) and value[6:8] == "19"


def test_phones_emails_dates_companies() -> None:
    assert standardise_phone("138-0000-0001") == "+8613800000001"
    assert standardise_phone("+86 138 0000 0001") == "+8613800000001"
    assert standardise_phone("010-8888 6666") == "+861088886666"
    assert standardise_email(" Zhang.Wei@Example.COM ") == "zhang.wei@example.com"
    assert standardise_email("not-an-email") is None
    assert standardise_date("1990年1月2日") == "1990-01-02"
    assert standardise_date("19900102") == "1990-01-02"
    assert standardise_uscc("91110000600037341L") == ("91110000600037341L", True)


def test_addresses_parse_to_gb2260() -> None:
    full = parse_address("广东省深圳市南山区科技园路1号")
    assert full is not None
    assert (full.province_code, full.city_code, full.district_code, full.detail) == (
        "440000", "440300", "440305", "科技园路1号"
    )  # fmt: skip
    municipal = parse_address("上海浦东新区世纪大道100号")
    assert municipal is not None and municipal.district_code == "310115"
    assert municipal.city_code == "310000"
    hinted = parse_address("南山区科技园", province_code="440000")
    assert hinted is not None and hinted.district_code == "440305"


def test_clusters_respect_forbidden_pairs() -> None:
    edges = [("a", "b"), ("b", "c"), ("c", "d")]
    assert set(er.clusters("abcd", edges).values()) == {"a"}
    split = er.clusters("abcd", edges, forbidden=[("a", "d")])
    assert split["a"] != split["d"]


def test_febrl4_linkage_f1_on_duckdb() -> None:
    a, b = febrl.load("dataset4a.csv"), febrl.load("dataset4b.csv")
    scored = er.score(
        [a.drop(columns=["entity"]), b.drop(columns=["entity"])],
        er.febrl_settings("link_only"),
        er.FEBRL_EM_RULES,
        floor=0.01,
    )
    f1 = er.pair_f1(er.one_to_one(scored.pairs, 0.9), febrl.true_pairs([a, b]))["f1"]
    assert f1 >= 0.999
    assert er.model_version(scored.model_json) == scored.version


def test_clusters_never_join_two_different_valid_resident_ids() -> None:
    # a-b strong, c-d strong, then a weak chain b-c: a and d hold different IDs
    edges = [("a", "b"), ("c", "d"), ("b", "c")]
    exclusive = {"a": "ID1", "d": "ID2"}
    found = er.clusters("abcde", edges, exclusive=exclusive)
    assert found["a"] == found["b"] and found["c"] == found["d"] and found["a"] != found["d"]
    # the same ID (or none) does not block
    same = er.clusters("abcd", edges, exclusive={"a": "ID1", "d": "ID1"})
    assert len(set(same.values())) == 1


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789X", min_size=17, max_size=19), st.sampled_from(["", "check"]))
def test_fast_resident_id_check_agrees_with_stdnum(digits: str, fix: str) -> None:
    from rongshu.customers.standardise import resident_id_valid

    value = ("110105" + digits)[:18]
    if fix and len(value) == 18 and value[:17].isdigit():
        value = value[:17] + ric.calc_check_digit(value[:17] + "0")
    assert resident_id_valid(value) == ric.is_valid(value)


def test_frame_standardisation_equals_row_by_row() -> None:
    import pandas as pd

    from rongshu.customers.standardise import RAW_COLUMNS, standardise_frame, standardise_record

    rows = [
        {"name": "歐陽娜娜", "resident_id": "110105491231002", "phone": "138-0000-0001",
         "address": "廣東省深圳市南山區科技園路1號", "gender": "女", "email": "A@B.COM"},
        {"name": "Nana OUYANG", "birth_on": "19900102", "address": "南山区科技园",
         "province_code": "440000", "uscc": "91110000600037341L"},
        {"name": "张伟", "resident_id": "11010519491231002X",
         "address": "上海浦东新区世纪大道100号"},
        {},
    ]  # fmt: skip
    frame = pd.DataFrame([{c: r.get(c, "") for c in RAW_COLUMNS} for r in rows])
    assert standardise_frame(frame).to_dict("records") == [standardise_record(r) for r in rows]
