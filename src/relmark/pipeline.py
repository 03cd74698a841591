"""The one seam the interfaces share: run the stages in the order of the flow.

ingest → identify → differentiate → interact → report. Each function opens what it needs
from the store, calls the pure stage, and saves the result in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import polars as pl
from babel.numbers import get_currency_precision
from sqlalchemy import Engine

from relmark.differentiate.score import ScoreSettings
from relmark.differentiate.score import score as score_frames
from relmark.identify.exact import KEYS, match_keys, plan_merges
from relmark.ingest.importer import ImportOptions, ImportReport, import_file
from relmark.store import identity as identity_store
from relmark.store import scores as score_store
from relmark.store.db import bulk_transaction


@dataclass
class ScoreReport:
    run_id: int
    customers: int
    segment_changes: int
    segments: dict[str, int]
    run: dict[str, Any]


def score(
    engine: Engine, *, as_of: datetime, settings: ScoreSettings, now: datetime
) -> ScoreReport:
    """Score every customer with orders up to `as_of` and save the run."""
    with engine.connect() as connection:
        orders = score_store.scoring_orders(connection, as_of)
        contacts = score_store.support_minutes(connection, as_of)
    currencies = orders["currency"].unique().to_list()
    minor_units = 10 ** get_currency_precision(currencies[0]) if currencies else 100
    result = score_frames(orders, contacts, as_of=as_of, minor_units=minor_units, settings=settings)
    with bulk_transaction(engine) as connection:
        run_id, moved = score_store.save_run(connection, result.run, result.scores, now=now)
        segments = score_store.segment_counts(connection, run_id)
    return ScoreReport(run_id, result.scores.height, moved, segments, result.run)


@dataclass
class IdentifyReport:
    records_keyed: int
    merges: int
    flagged: int
    plans: list[dict[str, Any]]


def identify(engine: Engine, *, now: datetime, keys: tuple[str, ...] = KEYS) -> IdentifyReport:
    """Deterministic identity resolution: key new records, merge profiles sharing a key."""
    with bulk_transaction(engine) as connection:
        records = identity_store.live_records(connection)
        fresh = records.filter(
            pl.col("email_key").is_null()
            & pl.col("phone_key").is_null()
            & pl.col("key_problems").is_null()
            & (pl.col("email").is_not_null() | pl.col("phone").is_not_null())
        )
        if fresh.height:
            keyed = match_keys(fresh)
            identity_store.save_keys(connection, keyed)
            records = records.update(keyed, on="id", include_nulls=True)
        plans = plan_merges(records, keys, identity_store.undone_pairs(connection))
        merges = [
            {
                "survivor_id": p.survivor_id,
                "absorbed_id": p.absorbed_id,
                "evidence": p.evidence,
                "record_ids": p.record_ids,
                "probability": None,
            }
            for p in plans
        ]
        identity_store.apply_merges(connection, merges, kind="exact", now=now)
        flagged = int(records["key_problems"].is_not_null().sum())
    return IdentifyReport(fresh.height, len(merges), flagged, merges)


def import_and_identify(
    engine: Engine, options: ImportOptions, *, now: datetime, progress: Any = None
) -> tuple[ImportReport, IdentifyReport]:
    """Every import of customers (or orders that bring customers) ends by resolving them."""
    report = import_file(engine, options, now=now, progress=progress)
    return report, identify(engine, now=now)
