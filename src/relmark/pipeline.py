"""The one seam the interfaces share: run the stages in the order of the flow.

ingest → identify → differentiate → interact → report. Each function opens what it needs
from the store, calls the pure stage, and saves the result in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from babel.numbers import get_currency_precision
from sqlalchemy import Engine

from relmark.differentiate.score import ScoreSettings
from relmark.differentiate.score import score as score_frames
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
