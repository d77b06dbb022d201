"""Injected fraud and AML typologies, with ground truth.

A few customers of each block are chosen (stream ``(seed, "typology", block)``) and get extra
rows on top of their normal life:

- ``structuring``: cash deposits just under the ¥50,000 large-cash reporting threshold (PBoC
  Order [2016] No. 3) on consecutive days, then one transfer out;
- ``rapid_in_out``: a large incoming transfer leaves again within hours;
- ``fan_in``: 20–40 small transfers from distinct payers, then one large transfer out;
- ``fan_out``: one large transfer in, then 20–40 transfers to distinct payees;
- ``dormant_wake``: no activity at all for at least six months, then large transfers;
- ``mule_chain``: 3–5 customers pass the same money on within an hour of each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from rongshu.simulation.bank.ids import TAGS, id_array, rng
from rongshu.simulation.bank.lives import Lives
from rongshu.simulation.bank.money import C, K, Rows
from rongshu.simulation.bank.people import People

TYPOLOGIES = ("structuring", "rapid_in_out", "fan_in", "fan_out", "dormant_wake", "mule_chain")
RATE = 0.002  # per customer and typology
REPORTING_THRESHOLD_CASH = 50_000_00  # minor units, PBoC large-value cash report


@dataclass
class Item:
    local: int  # index in the block
    typology: str
    from_day: int
    to_day: int


@dataclass
class Plan:
    people: People
    items: list[Item] = field(default_factory=list)
    rows: Rows = field(default_factory=Rows)
    dormant: dict[int, int] = field(default_factory=dict)  # local index → wake day
    _cols: dict[str, np.ndarray] | None = None

    def truth_table(self, seed: int) -> pa.Table:
        from rongshu.simulation.bank.lake import TYPOLOGY_SCHEMA, _dates

        idx = np.array([self.people.index[i.local] for i in self.items], dtype=np.uint64)
        return pa.table(
            {
                "customer_id": id_array(seed, "customer", idx),
                "typology": pa.array([i.typology for i in self.items], type=pa.string()),
                "from_on": _dates(np.array([i.from_day for i in self.items], dtype=np.int64)),
                "to_on": _dates(np.array([i.to_day for i in self.items], dtype=np.int64)),
            },
            schema=TYPOLOGY_SCHEMA,
        )

    def apply(self, rows: dict[str, np.ndarray], first: int, last: int) -> dict[str, np.ndarray]:
        if self._cols is None:
            self._cols = self.rows.done() if self.rows.cust else None
        keep = np.ones(len(rows["cust"]), dtype=bool)
        for local, wake in self.dormant.items():
            keep &= ~(
                (rows["cust"] == local) & (rows["day"] < wake) & (rows["kind"] != K["interest"])
            )
        parts = [{k: v[keep] for k, v in rows.items()}]
        if self._cols is not None:
            inside = (self._cols["day"] >= first) & (self._cols["day"] <= last)
            if inside.any():
                parts.append({k: v[inside] for k, v in self._cols.items()})
        merged = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
        order = np.lexsort((merged["sec"], merged["cust"], merged["day"]))
        return {k: v[order] for k, v in merged.items()}


def _external(r: np.random.Generator, n: int) -> np.ndarray:
    """Counterparties outside the generated customers (other banks' customers)."""
    return (1 << 40) + r.integers(0, 1 << 30, n)


def inject(
    seed: int,
    block: int,
    people: People,
    lives: Lives,
    periods: list[tuple[int, int]],
    customers: int,
) -> Plan:
    r = rng(seed, "typology", block)
    plan = Plan(people)
    start, end = periods[0][0], periods[-1][1]
    span = end - start + 1
    n = len(people)
    eligible = np.flatnonzero(
        (people.index < customers) & (lives.onboarded < start) & (lives.retirement > end)
    )
    taken: set[int] = set()
    rows = plan.rows

    def pick(count: int) -> list[int]:
        free = [int(x) for x in eligible if int(x) not in taken]
        chosen = [free[int(j)] for j in r.permutation(len(free))[:count]] if free else []
        taken.update(chosen)
        return chosen

    def sec(k: int, low: int = 9, high: int = 17) -> np.ndarray:
        return np.sort(r.integers(low * 3600, high * 3600, k))

    for typology in TYPOLOGIES:
        count = int(r.binomial(n, RATE))
        if typology == "mule_chain":
            count = max(count // 2, 1) if span >= 30 else 0
        for local in pick(count if typology != "mule_chain" else 0):
            if typology == "structuring":
                k = int(r.integers(6, 12))
                d0 = start + int(r.integers(0, max(span - k - 1, 1)))
                days = np.arange(d0, d0 + k)
                amounts = r.integers(45_000, 49_900, k) * 100
                rows.add(np.full(k, local), 0, days, sec(k), amounts, K["cash"], C["branch"])
                rows.add(
                    np.array([local]),
                    0,
                    np.array([days[-1] + 1]),
                    np.array([16 * 3600]),
                    np.array([-int(amounts.sum() * 0.98) // 100 * 100]),
                    K["transfer_out"],
                    C["mobile"],
                    cp_tag=TAGS["customer"],
                    cp_idx=_external(r, 1),
                )
                plan.items.append(Item(local, typology, int(days[0]), int(days[-1] + 1)))
            elif typology == "rapid_in_out":
                d = start + int(r.integers(0, span - 1))
                big = int(r.integers(100_000, 500_000)) * 100
                k = int(r.integers(2, 4))
                t = int(r.integers(9 * 3600, 14 * 3600))
                rows.add(
                    np.array([local]),
                    0,
                    np.array([d]),
                    np.array([t]),
                    np.array([big]),
                    K["transfer_in"],
                    C["mobile"],
                    cp_tag=TAGS["customer"],
                    cp_idx=_external(r, 1),
                )
                shares = r.dirichlet(np.ones(k)) * big * 0.97
                rows.add(
                    np.full(k, local),
                    0,
                    np.full(k, d),
                    t + np.sort(r.integers(600, 3 * 3600, k)),
                    -(shares // 100 * 100).astype(np.int64),
                    K["transfer_out"],
                    C["mobile"],
                    cp_tag=TAGS["customer"],
                    cp_idx=_external(r, k),
                )
                plan.items.append(Item(local, typology, d, d))
            elif typology in ("fan_in", "fan_out"):
                k = int(r.integers(20, 41))
                d0 = start + int(r.integers(0, max(span - 5, 1)))
                days = d0 + r.integers(0, 3, k)
                small = r.integers(2_000, 9_000, k) * 100
                sign = 1 if typology == "fan_in" else -1
                kind = K["transfer_in"] if sign > 0 else K["transfer_out"]
                big_day = d0 + 3 if sign > 0 else d0 - 1
                rows.add(
                    np.full(k, local),
                    0,
                    days,
                    r.integers(8 * 3600, 22 * 3600, k),
                    sign * small,
                    kind,
                    C["mobile"],
                    cp_tag=TAGS["customer"],
                    cp_idx=_external(r, k),
                )
                total = int(small.sum())
                rows.add(
                    np.array([local]),
                    0,
                    np.array([max(big_day, start)]),
                    np.array([10 * 3600]),
                    np.array([-sign * (total * 96 // 100 // 100 * 100 if sign > 0 else total)]),
                    K["transfer_out"] if sign > 0 else K["transfer_in"],
                    C["mobile"],
                    cp_tag=TAGS["customer"],
                    cp_idx=_external(r, 1),
                )
                plan.items.append(
                    Item(
                        local,
                        typology,
                        max(min(int(days.min()), big_day), start),
                        max(int(days.max()), big_day),
                    )
                )
            elif typology == "dormant_wake":
                wake = end - int(r.integers(10, max(min(120, span - 1), 11)))
                if wake - start < 30:
                    continue
                plan.dormant[local] = wake
                k = int(r.integers(4, 9))
                days = np.sort(wake + r.integers(0, 7, k))
                amounts = r.integers(50_000, 200_000, k) * 100
                first_in = int(amounts.sum())
                rows.add(
                    np.array([local]),
                    0,
                    np.array([wake]),
                    np.array([9 * 3600]),
                    np.array([first_in]),
                    K["transfer_in"],
                    C["mobile"],
                    cp_tag=TAGS["customer"],
                    cp_idx=_external(r, 1),
                )
                rows.add(
                    np.full(k, local),
                    0,
                    days,
                    np.full(k, 15 * 3600),
                    -amounts,
                    K["transfer_out"],
                    C["mobile"],
                    cp_tag=TAGS["customer"],
                    cp_idx=_external(r, k),
                )
                plan.items.append(Item(local, typology, wake, int(min(days.max(), end))))
        if typology == "mule_chain":
            for _ in range(count):
                chain = pick(int(r.integers(3, 6)))
                if len(chain) < 3:
                    break
                d = start + int(r.integers(0, span - 1))
                amount = int(r.integers(80_000, 300_000)) * 100
                t = int(r.integers(9 * 3600, 12 * 3600))
                payer = _external(r, 1)[0]
                for pos, local in enumerate(chain):
                    cp_in = payer if pos == 0 else people.index[chain[pos - 1]]
                    rows.add(
                        np.array([local]),
                        0,
                        np.array([d]),
                        np.array([t]),
                        np.array([amount]),
                        K["transfer_in"],
                        C["mobile"],
                        cp_tag=TAGS["customer"],
                        cp_idx=np.array([cp_in]),
                    )
                    out = amount * 97 // 100 // 100 * 100
                    t += int(r.integers(300, 3000))
                    nxt = (
                        people.index[chain[pos + 1]] if pos + 1 < len(chain) else _external(r, 1)[0]
                    )
                    rows.add(
                        np.array([local]),
                        0,
                        np.array([d]),
                        np.array([t]),
                        np.array([-out]),
                        K["transfer_out"],
                        C["mobile"],
                        cp_tag=TAGS["customer"],
                        cp_idx=np.array([nxt]),
                    )
                    plan.items.append(Item(local, typology, d, d))
                    amount = out
    return plan
