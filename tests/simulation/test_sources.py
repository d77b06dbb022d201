"""Multi-source files for unique identification: header, coverage, noise, ground truth."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import pytest

from rongshu.simulation.bank.people import is_valid_phone, is_valid_resident_id
from rongshu.simulation.bank.sources import HEADER, PROFILES, division_codes_valid, write_sources

PEOPLE = 2000


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sources")
    write_sources(path, people=PEOPLE, seed=3)
    return path


def rows(path: Path, name: str) -> list[dict[str, str]]:
    with (path / f"{name}.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_every_source_has_the_contract_header_and_truth_covers_every_record(sources: Path) -> None:
    truth = rows(sources, "truth")
    by_record = {(t["source"], t["record_id"]): t["person_id"] for t in truth}
    assert len(by_record) == len(truth)
    for name in PROFILES:
        with (sources / f"{name}.csv").open(encoding="utf-8") as f:
            assert f.readline().strip() == ",".join(HEADER)
        records = rows(sources, name)
        assert all((name, r["record_id"]) in by_record for r in records)
        share = len({by_record[(name, r["record_id"])] for r in records}) / PEOPLE
        assert abs(share - PROFILES[name].coverage) < 0.05, name
    assert len(by_record) == sum(len(rows(sources, n)) for n in PROFILES)


def test_the_noise_of_the_real_world_is_there(sources: Path) -> None:
    core = rows(sources, "core")
    telco = rows(sources, "telco")
    ecommerce = rows(sources, "ecommerce")
    leasing = rows(sources, "leasing")
    utility = rows(sources, "utility")
    assert any(len(r["resident_id"]) == 15 for r in telco)  # legacy IDs
    assert any(
        r["resident_id"] and not is_valid_resident_id(r["resident_id"])
        for r in core + telco
        if len(r["resident_id"]) == 18
    )  # transposed digits
    assert any(r["name"].isascii() and " " in r["name"] for r in ecommerce)  # pinyin
    assert any(
        not r["name"].isascii()
        and r["name"] != ""
        and any(c in r["name"] for c in "張陳劉楊黃趙吳孫馬鄭羅謝韓馮鄧蕭董葉蘇魏呂盧陸錢顧龔")
        for r in leasing + telco
    )  # traditional characters
    assert sum(r["resident_id"] == "" for r in utility) > 0.5 * len(utility)
    # shared family phones: one phone, two different people (utility accounts)
    truth = {(t["source"], t["record_id"]): t["person_id"] for t in rows(sources, "truth")}
    owners: dict[str, set[str]] = {}
    for r in utility:
        if r["phone"]:
            owners.setdefault(r["phone"], set()).add(truth[("utility", r["record_id"])])
    assert any(len(v) > 1 for v in owners.values())
    # duplicates inside a source
    core_people = [truth[("core", r["record_id"])] for r in core]
    assert len(core_people) > len(set(core_people))


def test_clean_fields_are_valid(sources: Path) -> None:
    for name in PROFILES:
        for r in rows(sources, name):
            assert division_codes_valid(r)
            assert r["gender"] in ("", "M", "F")
    core = rows(sources, "core")
    valid_phones = sum(is_valid_phone(r["phone"]) for r in core if r["phone"])
    assert valid_phones / len(core) > 0.95


def test_the_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    def digest(path: Path) -> dict[str, str]:
        return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(path.iterdir())}

    write_sources(tmp_path / "a", people=300, seed=9)
    write_sources(tmp_path / "b", people=300, seed=9)
    assert digest(tmp_path / "a") == digest(tmp_path / "b")
    assert len(digest(tmp_path / "a")) == 8
