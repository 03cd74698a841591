"""Deterministic identity: profiles whose records share a normalised e-mail or phone are one
person. Connected components over shared keys; the oldest profile survives, so ids are
stable as records arrive."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher

import numpy as np
import polars as pl

from relmark.identify.normalize import normalize_email, normalize_phone

KEYS = ("email", "phone")


def match_keys(records: pl.DataFrame) -> pl.DataFrame:
    """email_key, phone_key and key_problems for records (id, email, phone, country).

    Each distinct (value, country) is normalised once.
    """
    emails = {v: normalize_email(v) for v in records["email"].unique().to_list()}
    pairs = records.select("phone", "country").unique().rows()
    phones = {(p, c): normalize_phone(p, c) for p, c in pairs}
    email_keys = [emails[v] for v in records["email"].to_list()]
    phone_keys = [
        phones[(p, c)]
        for p, c in zip(records["phone"].to_list(), records["country"].to_list(), strict=True)
    ]
    problems = [
        "; ".join(
            f"{name}: {key.problem}"
            for name, key, raw in (("email", e, r_e), ("phone", p, r_p))
            if key.problem and key.problem != "missing" and raw is not None
        )
        or None
        for e, p, r_e, r_p in zip(
            email_keys,
            phone_keys,
            records["email"].to_list(),
            records["phone"].to_list(),
            strict=True,
        )
    ]
    return records.select("id").with_columns(
        pl.Series("email_key", [k.value for k in email_keys], dtype=pl.String),
        pl.Series("phone_key", [k.value for k in phone_keys], dtype=pl.String),
        pl.Series("key_problems", problems, dtype=pl.String),
    )


@dataclass
class PlannedMerge:
    survivor_id: int
    absorbed_id: int
    evidence: dict[str, list[str]]
    record_ids: list[int] = field(default_factory=list)


@dataclass
class Conflict:
    """Two profiles that share a key but not a first name: a family e-mail, a reused phone."""

    customer_a: int
    customer_b: int
    evidence: dict[str, str]


def plan_merges(
    records: pl.DataFrame,
    keys: Sequence[str] = KEYS,
    excluded: set[tuple[int, int]] | None = None,
) -> tuple[list[PlannedMerge], list[Conflict]]:
    """Which live profiles to fold into which, from records (id, customer_id, first_name,
    *_key); and the pairs that share a key while their first names clearly differ, which
    go to review instead. `excluded` pairs (undone merges, rejected reviews) are left alone.
    """
    from scipy.sparse import coo_matrix  # SciPy loads only when profiles are matched
    from scipy.sparse.csgraph import connected_components

    excluded = excluded or set()
    names = _first_names(records)
    edges, conflicts = [], {}
    for key in keys:
        column = f"{key}_key"
        linked = (
            records.filter(pl.col(column).is_not_null())
            .group_by(column)
            .agg(pl.col("customer_id").unique())
            .filter(pl.col("customer_id").list.len() > 1)
        )
        for members in linked["customer_id"].to_list():
            anchor = min(members)
            for member in members:
                pair = (min(anchor, member), max(anchor, member))
                if member == anchor or pair in excluded:
                    continue
                if _names_differ(names.get(anchor), names.get(member)):
                    conflicts.setdefault(
                        pair, Conflict(*pair, {key: "same", "first_name": "different"})
                    )
                else:
                    edges.append((anchor, member))
    if not edges:
        return [], list(conflicts.values())
    customers = np.unique(np.array(edges).ravel())
    position = {c: i for i, c in enumerate(customers.tolist())}
    rows = [position[a] for a, _ in edges]
    cols = [position[b] for _, b in edges]
    graph = coo_matrix((np.ones(len(edges)), (rows, cols)), shape=(len(customers),) * 2)
    _, labels = connected_components(graph, directed=False)
    survivors = pl.DataFrame({"customer_id": customers, "label": labels}).with_columns(
        pl.col("customer_id").min().over("label").alias("survivor_id")
    )
    plans = _describe(
        records, survivors.filter(pl.col("customer_id") != pl.col("survivor_id")), survivors, keys
    )
    merged = {frozenset((p.survivor_id, p.absorbed_id)) for p in plans}
    return plans, [
        c for c in conflicts.values() if frozenset((c.customer_a, c.customer_b)) not in merged
    ]


def _first_names(records: pl.DataFrame) -> dict[int, set[str]]:
    """Each customer's first names, transliterated and case-folded."""
    from relmark.identify.probabilistic import latin

    if "first_name" not in records.columns:
        return {}
    names: dict[int, set[str]] = {}
    for customer, name in records.select("customer_id", "first_name").iter_rows():
        folded = latin(name)
        if folded:
            names.setdefault(customer, set()).add(folded)
    return names


def _names_differ(a: set[str] | None, b: set[str] | None) -> bool:
    """True when both profiles have first names and none of them is alike (one a typo or an
    initial of the other counts as alike)."""
    if not a or not b:
        return False
    for x in a:
        for y in b:
            if x[0] != y[0]:
                continue
            if len(x) == 1 or len(y) == 1 or SequenceMatcher(None, x, y).ratio() >= 0.75:
                return False
    return True


def _describe(
    records: pl.DataFrame, absorbed: pl.DataFrame, survivors: pl.DataFrame, keys: Sequence[str]
) -> list[PlannedMerge]:
    """Evidence (the keys each absorbed profile shares within its component) and records."""
    component = records.join(survivors.select("customer_id", "survivor_id"), on="customer_id")
    absorbed_ids = absorbed.select("customer_id", "survivor_id")
    evidence: dict[str, pl.DataFrame] = {}
    for key in keys:
        column = f"{key}_key"
        linking = (
            component.filter(pl.col(column).is_not_null())
            .group_by("survivor_id", column)
            .agg(pl.col("customer_id").n_unique().alias("n"))
            .filter(pl.col("n") > 1)
        )
        evidence[key] = (
            component.join(linking, on=["survivor_id", column], how="semi")
            .join(absorbed_ids, on="customer_id", how="semi")
            .group_by("customer_id")
            .agg(pl.col(column).unique().sort())
        )
    records_of = (
        component.join(absorbed_ids, on="customer_id", how="semi")
        .group_by("customer_id")
        .agg(pl.col("id").sort())
    )
    table = absorbed_ids.join(records_of, on="customer_id", how="left")
    for frame in evidence.values():
        table = table.join(frame, on="customer_id", how="left")
    plans = []
    for row in table.sort("customer_id").iter_rows(named=True):
        found = {k: row[f"{k}_key"] for k in keys if row.get(f"{k}_key")}
        plans.append(
            PlannedMerge(
                int(row["survivor_id"]), int(row["customer_id"]), found, list(row["id"] or [])
            )
        )
    return plans
