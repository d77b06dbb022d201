"""Loading the FEBRL benchmark files (``data/febrl/``) into the engine's frame shape."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

DATA = Path(__file__).resolve().parents[3] / "data" / "febrl"
_ENTITY = re.compile(r"rec-(\d+)-")


def load(name: str, *, data: Path = DATA) -> pd.DataFrame:
    """One FEBRL file, stripped, all columns strings, with ``unique_id`` and ``entity``."""
    frame = pd.read_csv(data / name, dtype=str, skipinitialspace=True, keep_default_na=False)
    frame.columns = [c.strip() for c in frame.columns]
    for column in frame.columns:
        frame[column] = frame[column].str.strip().replace("", None)
    frame["unique_id"] = frame["rec_id"]
    frame["entity"] = frame["rec_id"].str.extract(_ENTITY, expand=False)
    return frame.drop(columns=["rec_id", "address_2"])


def true_pairs(frames: list[pd.DataFrame]) -> set[tuple[str, str]]:
    """All pairs of records (across and within the frames) that share an entity."""
    both = pd.concat(frames)
    out: set[tuple[str, str]] = set()
    for ids in both.groupby("entity")["unique_id"]:
        members = sorted(ids[1])
        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                out.add((a, b))
    return out
