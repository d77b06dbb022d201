"""The resolution pipeline on plain frames (no database): standardise, deterministic links,
Splink scoring, clustering. The bench and the quality evaluation run it at scale; the
services run the same steps over stored source records."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from rongshu.customers import engine as er
from rongshu.customers.standardise import MATCH_COLUMNS
from rongshu.customers.standardise import standardise_frame as _standardise

# Train on at most this many records (a seeded sample); predict on all of them.
TRAIN_SAMPLE = 120_000


def standardise_frame(
    rows: Iterable[dict[str, Any]] | pd.DataFrame, ids: Iterable[str]
) -> pd.DataFrame:
    """Raw rows (dicts or a frame of raw columns) → standardised frame with ``unique_id``."""
    raw = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame.from_records(list(rows))
    frame = _standardise(raw.reset_index(drop=True))
    frame.insert(0, "unique_id", list(ids))
    # Arrow-backed strings: a third of the memory of Python str objects, and DuckDB reads
    # them without conversion.
    for column in frame.columns:
        if column != "resident_id_valid":
            frame[column] = frame[column].astype("string[pyarrow]")
    return frame


def match_data(frame: pd.DataFrame) -> pd.DataFrame:
    """The columns Splink compares, missing values as ``None``."""
    columns = ["unique_id", *MATCH_COLUMNS]
    data = frame[columns]
    if all(isinstance(t, pd.StringDtype) for t in data.dtypes):
        return data
    return data.astype(object).where(data.notna(), None)


def id_edges(frame: pd.DataFrame) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """Deterministic links (records with the same valid resident ID) and the
    ``{record: valid resident ID}`` map used as a cannot-link constraint."""
    valid = frame["resident_id_valid"].fillna(False).astype(bool)
    held = frame.loc[valid, ["unique_id", "resident_id"]].astype(str)
    exclusive = dict(zip(held["unique_id"], held["resident_id"], strict=True))
    first = held.drop_duplicates("resident_id").set_index("resident_id")["unique_id"]
    others = held[held["unique_id"].values != held["resident_id"].map(first).values]
    edges = list(zip(others["resident_id"].map(first), others["unique_id"], strict=True))
    return edges, exclusive


def ranked_edges(pairs: pd.DataFrame, threshold: float = er.AUTO_LINK) -> list[tuple[str, str]]:
    """Accepted pairs, strongest first (ties by id, so the order is deterministic)."""
    accepted = pairs[pairs["match_probability"] >= threshold].sort_values(
        ["match_weight", "unique_id_l", "unique_id_r"], ascending=[False, True, True]
    )
    return list(zip(accepted["unique_id_l"], accepted["unique_id_r"], strict=True))


def cluster(
    ids: Iterable[str],
    pairs: pd.DataFrame,
    id_links: list[tuple[str, str]],
    exclusive: Mapping[str, str],
    *,
    forced: Iterable[tuple[str, str]] = (),
    forbidden: Iterable[tuple[str, str]] = (),
) -> dict[str, str]:
    """Human merges, then same-ID links, then model links strongest first; never joining
    two different valid resident IDs nor a pair a human split."""
    edges = [*forced, *id_links, *ranked_edges(pairs)]
    return er.clusters(ids, edges, forbidden=forbidden, exclusive=exclusive)


def resolve_frame(
    frame: pd.DataFrame,
    *,
    engine: er.Engine = "duckdb",
    model_json: str | None = None,
    spark: Any = None,
    progress: er.Progress | None = None,
) -> tuple[dict[str, str], er.Scored]:
    """``({record id: cluster root}, scored pairs)`` for standardised records."""
    scored = er.score(
        [match_data(frame)],
        er.customer_settings("dedupe_only", engine),
        er.CUSTOMER_EM_RULES,
        engine=engine,
        model_json=model_json,
        spark=spark,
        progress=progress,
        max_pairs=min(5e6, max(1e5, min(len(frame), TRAIN_SAMPLE) * 20.0)),
        train_sample=TRAIN_SAMPLE,
    )
    links, exclusive = id_edges(frame)
    return cluster(frame["unique_id"].tolist(), scored.pairs, links, exclusive), scored
