"""Resolution end to end on the database: lineage, stable ids through re-run, merge and split,
review decisions kept and reused, events in the outbox."""

from __future__ import annotations

from typing import Any

import pytest

from rongshu.customers import services
from rongshu.customers.models import Customer, ReviewPair, SourceRecord
from rongshu.kernel.models import OutboxEvent
from tests.customers.builders import make_people, rows_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def loaded() -> dict[str, Any]:
    people = make_people(60)
    rows = {s: rows_for(people, s, share=0.8) for s in ("core", "insurance", "securities")}
    for source, batch in rows.items():
        services.do_ingest_rows(source, batch, file_name=f"{source}.csv")
    return {"people": people, "rows": rows}


def _clusters() -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for r in SourceRecord.objects.select_related("customer"):
        assert r.customer is not None
        out.setdefault(str(r.customer.public_id), set()).add(r.record_key.split("-", 1)[1])
    return out


def test_ingest_keeps_lineage_and_is_idempotent(loaded: dict[str, Any]) -> None:
    record = SourceRecord.objects.get(
        source="core", record_key=loaded["rows"]["core"][0]["record_id"]
    )
    assert record.batch.source == "core" and record.batch.file_name == "core.csv"
    assert record.std["phone"].startswith("+86")
    again = services.do_ingest_rows("core", loaded["rows"]["core"], file_name="core.csv")
    assert again.duplicate_batch and again.new == 0


def test_resolve_groups_each_person_once_and_rerun_changes_nothing(loaded: dict[str, Any]) -> None:
    first = services.do_resolve()
    clusters = _clusters()
    # every cluster is one person, and every person is one cluster
    assert all(len(people) == 1 for people in clusters.values())
    people_seen = [next(iter(p)) for p in clusters.values()]
    assert len(people_seen) == len(set(people_seen))
    assert first.created == len(clusters)
    ids_before = {str(c.public_id): c.golden for c in Customer.objects.all()}
    events_before = OutboxEvent.objects.count()
    second = services.do_resolve()
    assert (second.created, second.merged, second.split, second.updated) == (0, 0, 0, 0)
    assert {str(c.public_id): c.golden for c in Customer.objects.all()} == ids_before
    assert OutboxEvent.objects.count() == events_before


def test_golden_record_survivorship_prefers_the_bank_and_keeps_lineage(
    loaded: dict[str, Any],
) -> None:
    services.do_resolve()
    record = SourceRecord.objects.filter(source="core").select_related("customer").first()
    assert record is not None and record.customer is not None
    phone = record.customer.golden["phone"]
    assert phone["source"] in {"core", "insurance", "securities"}
    assert {"value", "source", "record_id", "batch_id", "received_at"} <= set(phone)
    assert record.customer.golden["name"]["value"] == record.std["name"]


def test_split_then_merge_keep_ids_stable_and_emit_events(loaded: dict[str, Any]) -> None:
    from tests.identity.builders import make_staff

    services.do_resolve()
    customer = max(Customer.objects.all(), key=lambda c: c.records.count())
    records = list(customer.records.order_by("source"))
    assert len(records) >= 2
    keep_id = customer.public_id
    staff = make_staff("risk_officer")
    a, b = records[0], records[1]
    # a human says: these are two people
    services.do_record_decision(staff, a.public_id, b.public_id, "split")
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.customer_id != b.customer_id
    assert keep_id in {a.customer.public_id, b.customer.public_id}  # type: ignore[union-attr]
    split = OutboxEvent.objects.filter(event_type="customers.CustomerSplit").get()
    assert split.payload["customer_id"] == str(keep_id)
    new_id = split.payload["new_ids"][0]
    # the decision is reused: a re-run keeps them apart and changes nothing
    again = services.do_resolve()
    assert (again.created, again.merged, again.split) == (0, 0, 0)
    # and merging them back keeps the older id, the newer redirects to it
    decision = ReviewPair.objects.get(state="split")
    decision.state = "pending"
    decision.save()
    pair = ReviewPair.objects.get(pk=decision.pk)
    services.do_decide_review(staff, pair.public_id, "merge")
    merged = OutboxEvent.objects.filter(event_type="customers.CustomersMerged").get()
    assert merged.payload == {
        "survivor_id": str(keep_id),
        "absorbed_ids": [new_id],
        "run_id": merged.payload["run_id"],
    }
    assert Customer.objects.get(public_id=new_id).status == "merged"
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.customer_id == b.customer_id == Customer.objects.get(public_id=keep_id).pk


def test_a_new_batch_is_scored_only_against_candidates_and_leaves_other_clusters_alone(
    loaded: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from rongshu.customers import engine as er

    services.do_resolve()
    before = {str(c.public_id): (c.golden, c.updated_at, c.status) for c in Customer.objects.all()}
    owner_before = dict(SourceRecord.objects.values_list("record_key", "customer__public_id"))
    old_count = SourceRecord.objects.count()
    people = make_people(70)  # the same 60 people, then 10 new ones
    newcomers = people[60:]
    known = people[3]
    batch = rows_for(newcomers, "leasing", noise=0.0)
    batch += [dict(row, record_id="leasing-again") for row in rows_for([known], "leasing")]

    def no_full_rescore(*_a: Any, **_k: Any) -> Any:
        raise AssertionError("an incremental run must not re-score every record")

    seen: list[tuple[int, int]] = []
    real_score_new = er.score_new

    def spy(existing: Any, new: Any, model_json: str, **kwargs: Any) -> Any:
        seen.append((len(existing), len(new)))
        return real_score_new(existing, new, model_json, **kwargs)

    monkeypatch.setattr(er, "score", no_full_rescore)
    monkeypatch.setattr(er, "score_new", spy)
    services.do_ingest_rows("leasing", batch, file_name="leasing.csv")
    result = services.do_resolve()
    assert seen == [(old_count, len(batch))]
    assert result.created == len(newcomers) and (result.merged, result.split) == (0, 0)
    again = SourceRecord.objects.get(source="leasing", record_key="leasing-again")
    assert again.customer is not None
    target = str(again.customer.public_id)
    assert (
        again.customer.records.exclude(pk=again.pk)
        .filter(record_key__endswith=known.person_id)
        .exists()
    )
    # every customer not joined by the new batch is untouched: same golden, same timestamp
    after = {str(c.public_id): (c.golden, c.updated_at, c.status) for c in Customer.objects.all()}
    assert {k: v for k, v in after.items() if k in before and k != target} == {
        k: v for k, v in before.items() if k != target
    }
    owner_after = dict(SourceRecord.objects.values_list("record_key", "customer__public_id"))
    assert {k: owner_after[k] for k in owner_before} == owner_before
    # the newcomers are one new customer each
    new_owners = {
        owner_after[row["record_id"]] for row in batch if row["record_id"] != "leasing-again"
    }
    assert len(new_owners) == len(newcomers)
    assert not new_owners & set(owner_before.values())


def test_households_from_a_shared_phone_or_the_same_address_and_surname() -> None:
    from dataclasses import replace

    from rongshu.customers import queries
    from tests.identity.builders import make_staff

    people = make_people(30)
    a, b, c = people[0], people[1], people[2]
    # b lives with a (same address, a's surname); c gives a's phone as a contact
    people[1] = replace(b, name=a.name[0] + b.name[1:], address=a.address)
    people[2] = replace(c, phone=a.phone)
    for source in ("core", "insurance", "securities"):
        services.do_ingest_rows(source, rows_for(people, source, noise=0.0), file_name=source)
    services.do_resolve()
    staff = make_staff("risk_officer")

    def customer_of(person_id: str) -> str:
        record = SourceRecord.objects.get(record_key=f"core-{person_id}")
        assert record.customer is not None
        return str(record.customer.public_id)

    found = {
        str(r.customer_id): r.evidence
        for r in queries.list_relationships(staff, customer_of(a.person_id))
    }
    assert found == {
        customer_of(b.person_id): ["shared_address_and_surname"],
        customer_of(c.person_id): ["shared_phone"],
    }
    assert all(
        r.kind == "household" for r in queries.list_relationships(staff, customer_of(c.person_id))
    )
    assert [
        str(r.customer_id) for r in queries.list_relationships(staff, customer_of(c.person_id))
    ] == [customer_of(a.person_id)]
    assert queries.list_relationships(staff, customer_of(people[4].person_id)) == []
