"""Entity resolution with Splink: one model definition, run on DuckDB (default) or Spark.

Nothing here touches Django: the functions take and return pandas frames, so the bench, the
CLI and :mod:`rongshu.customers.services` share them. The flow is the one Splink recommends:

1. deterministic links (the same valid resident ID is the same person);
2. a probabilistic model — u from random sampling, m and λ by expectation maximisation on
   blocked pairs — scoring candidate pairs produced by blocking rules;
3. connected components over accepted edges; pairs in the uncertain band go to human review.

The trained model is saved as Splink's JSON; :func:`model_version` fingerprints it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

Engine = Literal["duckdb", "spark"]
LinkType = Literal["link_only", "link_and_dedupe", "dedupe_only"]
Progress = Callable[[str], None]

# Match probability above which a pair is linked without review, and below which it is not a
# candidate at all; the band in between goes to the review queue.
AUTO_LINK = 0.95
REVIEW_FLOOR = 0.50


def _quiet() -> None:
    for name in ("splink", "py4j", "pyspark"):
        logging.getLogger(name).setLevel(logging.ERROR)


def customer_settings(
    link_type: LinkType = "dedupe_only", dialect: Engine = "duckdb"
) -> dict[str, Any]:
    """The model for standardised Chinese customer records (see :mod:`.standardise`)."""
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    creator = SettingsCreator(
        link_type=link_type,
        unique_id_column_name="unique_id",
        comparisons=[
            cl.JaroWinklerAtThresholds("name_pinyin", [0.95, 0.85]),
            cl.LevenshteinAtThresholds("birth_on", [1, 2]),
            cl.LevenshteinAtThresholds("resident_id", [1, 2]),
            cl.LevenshteinAtThresholds("phone", [1, 2]),
            cl.EmailComparison("email"),
            cl.ExactMatch("gender"),
            cl.ExactMatch("city_code"),
            cl.JaroWinklerAtThresholds("address_detail", [0.9, 0.7]),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("resident_id"),
            block_on("phone"),
            block_on("email"),
            block_on("name_pinyin", "birth_on"),
            block_on("name_pinyin", "city_code"),
            block_on("birth_on", "city_code"),
            block_on("given_pinyin", "phone_tail"),
        ],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )
    settings: Any = creator.get_settings(dialect)
    return dict(settings.as_dict())


CUSTOMER_EM_RULES: tuple[tuple[str, ...], ...] = (
    ("name_pinyin", "birth_on"),
    ("phone",),
    ("resident_id",),
)


def febrl_settings(link_type: LinkType, dialect: Engine = "duckdb") -> dict[str, Any]:
    """The same shape of model for the FEBRL benchmark columns (dates as ``yyyyMMdd``)."""
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    creator = SettingsCreator(
        link_type=link_type,
        unique_id_column_name="unique_id",
        comparisons=[
            cl.JaroWinklerAtThresholds("given_name", [0.9, 0.7]),
            cl.JaroWinklerAtThresholds("surname", [0.9, 0.7]),
            cl.LevenshteinAtThresholds("date_of_birth", [1, 2]),
            cl.LevenshteinAtThresholds("soc_sec_id", [1, 2]),
            cl.ExactMatch("street_number"),
            cl.LevenshteinAtThresholds("postcode", [1, 2]),
            cl.JaroWinklerAtThresholds("address_1", [0.9, 0.7]),
            cl.JaroWinklerAtThresholds("suburb", [0.9, 0.7]),
            cl.ExactMatch("state"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("given_name", "surname"),
            block_on("surname", "date_of_birth"),
            block_on("given_name", "date_of_birth"),
            block_on("soc_sec_id"),
            block_on("postcode", "street_number"),
            block_on("address_1"),
            block_on("date_of_birth", "postcode"),
        ],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )
    settings: Any = creator.get_settings(dialect)
    return dict(settings.as_dict())


FEBRL_EM_RULES: tuple[tuple[str, ...], ...] = (
    ("given_name", "surname"),
    ("date_of_birth",),
    ("soc_sec_id",),
)


def model_version(model_json: str) -> str:
    """A short stable fingerprint of a saved model (its JSON, keys sorted)."""
    canonical = json.dumps(json.loads(model_json), sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _db_api(engine: Engine, spark: Any = None) -> Any:
    if engine == "spark":
        from splink.backends.spark import SparkAPI

        if spark is None:
            spark = spark_session()
        api: Any = SparkAPI
        return api(spark_session=spark)
    from splink.backends.duckdb import DuckDBAPI

    return DuckDBAPI()


def spark_session(cores: int = 2) -> Any:
    """A local Spark session with Splink's similarity UDF jar (needs Java 17)."""
    from pyspark.sql import SparkSession
    from splink.backends.spark import similarity_jar_location

    _quiet()
    session = (
        SparkSession.builder.master(f"local[{cores}]")
        .appName("rongshu-er")
        .config("spark.jars", similarity_jar_location())
        .config("spark.sql.shuffle.partitions", str(cores * 4))
        .config("spark.ui.enabled", "false")
        .config("spark.driver.memory", "2g")
        .getOrCreate()
    )
    session.sparkContext.setCheckpointDir(tempfile.mkdtemp(prefix="rongshu-spark-"))
    return session


@dataclass
class Scored:
    """Pairwise predictions (``unique_id_l``, ``unique_id_r``, ``match_probability``)."""

    pairs: pd.DataFrame
    model_json: str
    version: str
    seconds: dict[str, float] = field(default_factory=dict)


def score(
    frames: Sequence[pd.DataFrame],
    settings: dict[str, Any],
    em_rules: Iterable[tuple[str, ...]],
    *,
    engine: Engine = "duckdb",
    model_json: str | None = None,
    floor: float = REVIEW_FLOOR,
    spark: Any = None,
    progress: Progress | None = None,
    max_pairs: float = 1e6,
    train_sample: int | None = None,
) -> Scored:
    """Train (unless ``model_json`` is given) and predict; return pairs above ``floor``.

    ``train_sample``: train on a seeded random sample of at most this many records of a
    single frame (m, u and λ are proportions: a sample estimates them as well as the whole
    set, in a fraction of the time), then predict on every record with the trained model.
    """
    import time

    from splink import Linker, block_on

    _quiet()
    say = progress or (lambda _m: None)
    db_api = _db_api(engine, spark)
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    if model_json is None:
        training = list(frames)
        if train_sample is not None and len(frames) == 1 and len(frames[0]) > train_sample:
            training = [frames[0].sample(n=train_sample, random_state=1)]
            say(f"training on a sample of {train_sample:,} records")
        trainer = Linker(_register(db_api, engine, training), settings, log_level=None)
        say("training: u by random sampling")
        trainer.training.estimate_u_using_random_sampling(max_pairs=max_pairs, seed=1)
        for rule in em_rules:
            say(f"training: EM blocked on {', '.join(rule)}")
            trainer.training.estimate_parameters_using_expectation_maximisation(
                block_on(*rule), estimate_without_term_frequencies=True
            )
        model_json = json.dumps(trainer.misc.save_model_to_json(), sort_keys=True)
    seconds["train"] = time.perf_counter() - started
    started = time.perf_counter()
    linker = Linker(_register(db_api, engine, frames), json.loads(model_json), log_level=None)
    say("predicting pairs")
    predictions: Any = linker.inference.predict(threshold_match_probability=floor)
    pairs = _pairs(predictions)
    seconds["predict"] = time.perf_counter() - started
    saved = json.dumps(json.loads(model_json), sort_keys=True)
    return Scored(pairs, saved, model_version(saved), seconds)


def score_new(
    existing: pd.DataFrame,
    new: pd.DataFrame,
    model_json: str,
    *,
    floor: float = REVIEW_FLOOR,
    progress: Progress | None = None,
) -> Scored:
    """Incremental resolution: score a new batch against the blocking candidates among the
    existing records (``predict_between``) and within itself (``predict_within``), with a
    saved model, on DuckDB. Existing-to-existing pairs are never generated."""
    import time

    from splink import Linker

    _quiet()
    say = progress or (lambda _m: None)
    started = time.perf_counter()
    db_api = _db_api("duckdb")
    old_table = db_api.register(existing)
    new_table = db_api.register(new)
    model = json.loads(model_json)
    # Term frequencies (e.g. of e-mail addresses) over every record, old and new.
    linker = Linker(db_api.register(pd.concat([existing, new])), model, log_level=None)
    for column in sorted(
        {
            str(level["tf_adjustment_column"])
            for comparison in model["comparisons"]
            for level in comparison["comparison_levels"]
            if level.get("tf_adjustment_column")
        }
    ):
        linker.table_management.compute_tf_table(column)
    say(f"scoring {len(new):,} new records against {len(existing):,} existing")
    parts = [_pairs(linker.inference.predict_within(new_table, threshold_match_probability=floor))]
    if len(existing):
        between = linker.inference.predict_between(
            old_table, new_table, threshold_match_probability=floor
        )
        parts.append(_pairs(between))
    pairs = pd.concat(parts, ignore_index=True)
    saved = json.dumps(model, sort_keys=True)
    return Scored(pairs, saved, model_version(saved), {"predict": time.perf_counter() - started})


def _register(db_api: Any, engine: Engine, frames: Sequence[pd.DataFrame]) -> Any:
    if engine == "spark":
        spark_ = db_api.spark
        tables = [db_api.register(spark_.createDataFrame(f.astype(object))) for f in frames]
    else:
        tables = [db_api.register(f) for f in frames]
    return tables if len(tables) > 1 else tables[0]


def _pairs(predictions: Any) -> pd.DataFrame:
    pairs = predictions.as_pandas_dataframe()
    keep = ["unique_id_l", "unique_id_r", "match_probability", "match_weight"]
    pairs = pairs[keep].copy()
    pairs["unique_id_l"] = pairs["unique_id_l"].astype(str)
    pairs["unique_id_r"] = pairs["unique_id_r"].astype(str)
    pairs["match_probability"] = pairs["match_probability"].astype(float)
    return pairs


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        parent = self.parent
        root = x
        while parent.get(root, root) != root:
            root = parent[root]
        while parent.get(x, x) != root:
            parent[x], x = root, parent[x]
        return root

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            if rb < ra:
                ra, rb = rb, ra
            self.parent[rb] = ra


def clusters(
    ids: Iterable[str],
    edges: Iterable[tuple[str, str]],
    *,
    forbidden: Iterable[tuple[str, str]] = (),
    exclusive: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Connected components: ``{record id: smallest record id of its cluster}``.

    ``forbidden`` pairs (a human said "not the same person") never end up together: an edge
    that would join two components containing a forbidden pair is skipped.

    ``exclusive`` maps records to a key only one person can have (a valid resident ID): an
    edge that would join two components holding different keys is skipped. Edges are taken
    in the order given, so pass the strongest first (transitive chains through a weak link
    then cannot pull two ID holders together).
    """
    uf = _UnionFind()
    keys: dict[str, str] = dict(exclusive or {})
    banned: dict[str, set[str]] = {}
    for a, b in forbidden:
        banned.setdefault(a, set()).add(b)
        banned.setdefault(b, set()).add(a)
    members: dict[str, set[str]] = {}
    for a, b in edges:
        ra, rb = uf.find(a), uf.find(b)
        if ra == rb:
            continue
        ka, kb = keys.get(ra), keys.get(rb)
        if ka is not None and kb is not None and ka != kb:
            continue
        if banned:
            ma = members.get(ra, {ra})
            mb = members.get(rb, {rb})
            if any(banned.get(x, set()) & mb for x in ma):
                continue
        uf.union(a, b)
        if ka is not None or kb is not None:
            keys[uf.find(a)] = ka if ka is not None else kb  # type: ignore[assignment]
        if banned:
            root = uf.find(a)
            members[root] = members.pop(ra, {ra}) | members.pop(rb, {rb})
    return {i: uf.find(i) for i in ids}


def one_to_one(pairs: pd.DataFrame, threshold: float) -> list[tuple[str, str]]:
    """Greedy best-first one-to-one links between two sources (linkage without duplicates)."""
    ranked = pairs[pairs["match_probability"] >= threshold].sort_values(
        ["match_weight", "unique_id_l", "unique_id_r"], ascending=[False, True, True]
    )
    used_l: set[str] = set()
    used_r: set[str] = set()
    links = []
    for left, right in zip(ranked["unique_id_l"], ranked["unique_id_r"], strict=True):
        if left in used_l or right in used_r:
            continue
        used_l.add(left)
        used_r.add(right)
        links.append((left, right))
    return links


def pair_f1(predicted: Iterable[tuple[str, str]], truth: set[tuple[str, str]]) -> dict[str, float]:
    """Precision, recall and F1 of predicted pairs (unordered) against the true pairs."""
    got = {tuple(sorted(p)) for p in predicted}
    true = {tuple(sorted(p)) for p in truth}
    tp = len(got & true)
    precision = tp / len(got) if got else 0.0
    recall = tp / len(true) if true else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "tp": float(tp)}


def cluster_pairs(assignment: dict[str, str]) -> set[tuple[str, str]]:
    """Every within-cluster pair implied by a clustering (for F1 on deduplication)."""
    groups: dict[str, list[str]] = {}
    for record, root in assignment.items():
        groups.setdefault(root, []).append(record)
    out: set[tuple[str, str]] = set()
    for members in groups.values():
        members.sort()
        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                out.add((a, b))
    return out
