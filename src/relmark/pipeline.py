"""The one seam the interfaces share: run the stages in the order of the flow.

ingest → identify → differentiate → interact → report. Each function opens what it needs
from the store, calls the pure stage, and saves the result in one transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import polars as pl

from relmark.differentiate.currency import SETTING_KEY as CURRENCY_KEY
from relmark.differentiate.currency import ReportingCurrency, to_reporting_currency
from relmark.identify.exact import KEYS
from relmark.store import identity as identity_store
from relmark.store import kv, survivorship
from relmark.store import scores as score_store
from relmark.store.db import bulk_transaction

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from relmark.differentiate.score import ScoreSettings
    from relmark.ingest.importer import ImportOptions, ImportReport
    from relmark.store.audit import Actor

# A stage's heavier modules (the models' SciPy, the matcher, the importer) are imported by
# the function that runs the stage: a command loads only the stages it runs.


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
    from babel.numbers import get_currency_precision

    from relmark.differentiate.score import score as score_frames

    with engine.connect() as connection:
        orders = score_store.scoring_orders(connection, as_of)
        contacts = score_store.support_minutes(connection, as_of)
        restricted = score_store.restricted_count(connection)
        reporting = ReportingCurrency.from_setting(kv.get_setting(connection, CURRENCY_KEY))
    orders, currency = to_reporting_currency(orders, reporting)
    minor_units = 10 ** get_currency_precision(currency) if currency else 100
    result = score_frames(orders, contacts, as_of=as_of, minor_units=minor_units, settings=settings)
    result.run["settings"] = {**result.run["settings"], "restricted_left_out": restricted}
    if reporting is not None:
        rates = reporting.as_setting()["rates"]
        result.run["settings"] = {**result.run["settings"], "exchange_rates": rates}
    with bulk_transaction(engine) as connection:
        run_id, moved = score_store.save_run(connection, result.run, result.scores, now=now)
        segments = score_store.segment_counts(connection, run_id)
    return ScoreReport(run_id, result.scores.height, moved, segments, result.run)


def reporting_currency(engine: Engine) -> ReportingCurrency | None:
    with engine.connect() as connection:
        return ReportingCurrency.from_setting(kv.get_setting(connection, CURRENCY_KEY))


def set_reporting_currency(engine: Engine, reporting: ReportingCurrency, now: datetime) -> None:
    """Scores are compared in this currency from the next `relmark score` on."""
    with engine.begin() as connection:
        kv.put_setting(connection, CURRENCY_KEY, reporting.as_setting(), now)


@dataclass
class IdentifyReport:
    records_keyed: int
    merges: int
    flagged: int
    plans: list[dict[str, Any]]
    probabilistic_merges: int = 0
    queued_for_review: int = 0
    probabilistic_skipped: str | None = None
    probabilistic_mode: str | None = None


#: Below this many live records the unsupervised model has too little to learn from.
PROBABILISTIC_MIN_RECORDS = 200
#: New records up to this share of all are matched against the saved model (incremental);
#: more, and the model is trained again on everything.
INCREMENTAL_SHARE = 0.2
MODEL_KEY = "identity:model"
SEEN_KEY = "identity:records-matched-up-to"
#: Records an import changed after this moment are matched again incrementally.
MATCHED_AT_KEY = "identity:matched-at"


def identify(
    engine: Engine,
    *,
    now: datetime,
    keys: tuple[str, ...] = KEYS,
    probabilistic: bool = True,
    threshold: float = 0.95,
    review_band: tuple[float, float] = (0.5, 0.95),
    full: bool = False,
    source_priority: list[str] | None = None,
) -> IdentifyReport:
    """Identity resolution: key new records, merge profiles sharing a key, then score the
    remaining candidates with the probabilistic model: merge above `threshold`, queue the
    `review_band` for a person to decide. After a first full run, only records new since
    the last run are compared (incremental, against the saved model) unless `full`.
    `source_priority` (sources, first preferred) is kept with the store for survivorship
    and every merged profile chooses its values again."""
    from relmark.identify.exact import match_keys, plan_merges
    from relmark.store.identity_new import lock_identity

    with bulk_transaction(engine) as connection:
        lock_identity(connection)
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
        plans, conflicts = plan_merges(records, keys, identity_store.excluded_pairs(connection))
        merges = _exact_merges(plans)
        identity_store.apply_merges(connection, merges, kind="exact", now=now)
        flagged = int(records["key_problems"].is_not_null().sum())
        report = IdentifyReport(fresh.height, len(merges), flagged, merges)
        report.queued_for_review = identity_store.queue_reviews(
            connection, [(c.customer_a, c.customer_b, None, c.evidence) for c in conflicts], now
        )
        matched_at = kv.get_setting(connection, MATCHED_AT_KEY)
        if source_priority is not None:
            survivorship.set_source_priority(connection, source_priority, now)
        if probabilistic:
            _probabilistic(connection, report, threshold, review_band, now, full=full)
        # an import wrote its records' values over their profiles: choose the best again
        again = full or source_priority is not None or not matched_at
        since = None if again else datetime.fromisoformat(matched_at)
        identity_store.refresh_profiles(
            connection, survivorship.changed_since(connection, since), now
        )
    return report


def _probabilistic(
    connection: Any,
    report: IdentifyReport,
    threshold: float,
    review_band: tuple[float, float],
    now: datetime,
    *,
    full: bool = False,
) -> None:
    from relmark.identify.probabilistic import plan_probabilistic, score_new_pairs, score_pairs

    records = identity_store.live_records(connection)
    if records.height < PROBABILISTIC_MIN_RECORDS:
        report.probabilistic_skipped = (
            f"{records.height} records: the probabilistic model needs at least "
            f"{PROBABILISTIC_MIN_RECORDS}"
        )
        return
    model = None if full else kv.get_setting(connection, MODEL_KEY)
    seen = int(kv.get_setting(connection, SEEN_KEY) or 0)
    new_ids = records.filter(pl.col("id") > seen)["id"].to_list()
    matched_at = kv.get_setting(connection, MATCHED_AT_KEY)
    live = set(records["id"].to_list())
    changed = (
        [
            i
            for i in identity_store.updated_since(connection, datetime.fromisoformat(matched_at))
            if i <= seen and i in live
        ]
        if matched_at
        else []
    )
    newest = int(records["id"].max() or 0)
    try:
        if model and not new_ids and not changed:
            report.probabilistic_mode = "nothing new"
            return
        if model and len(new_ids) + len(changed) <= INCREMENTAL_SHARE * records.height:
            pairs = score_new_pairs(
                records, sorted({*new_ids, *changed}), model, threshold=review_band[0]
            )
            report.probabilistic_mode = (
                f"incremental ({len(new_ids)} new, {len(changed)} changed records)"
            )
        else:
            trained: dict[str, Any] = {}
            pairs = score_pairs(records, threshold=review_band[0], model_out=trained)
            kv.put_setting(connection, MODEL_KEY, trained, now)
            report.probabilistic_mode = "full (model trained)"
    except Exception as exc:  # noqa: BLE001 - an untrainable model must not stop exact merges
        # one plain line for the user; Splink's own words go to the debug log
        report.probabilistic_skipped = (
            "the model could not be trained on these records (too little in common to learn "
            "from); only profiles sharing an e-mail or phone were merged"
        )
        logging.getLogger(__name__).debug("identity model not trained", exc_info=exc)
        return
    kv.put_setting(connection, SEEN_KEY, newest, now)
    kv.put_setting(connection, MATCHED_AT_KEY, now.isoformat(), now)
    accepted, review = plan_probabilistic(
        records,
        pairs,
        threshold=threshold,
        review_low=review_band[0],
        excluded=identity_store.excluded_pairs(connection),
    )
    merges = _components(records, accepted)
    identity_store.apply_merges(connection, merges, kind="probabilistic", now=now)
    report.probabilistic_merges = len(merges)
    report.queued_for_review += identity_store.queue_reviews(connection, review, now)


def _components(
    records: pl.DataFrame, accepted: list[tuple[int, int, float, dict[str, str]]]
) -> list[dict[str, Any]]:
    """Accepted customer pairs → merges into the oldest profile of each connected group."""
    if not accepted:
        return []
    parent: dict[int, int] = {}

    def root(node: int) -> int:
        while parent.get(node, node) != node:
            node = parent[node]
        return node

    for a, b, _, _ in accepted:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    by_pair = {(a, b): (p, e) for a, b, p, e in accepted}
    records_of = records.group_by("customer_id").agg(pl.col("id").sort())
    owned = dict(zip(records_of["customer_id"].to_list(), records_of["id"].to_list(), strict=True))
    merges = []
    for node in sorted({n for a, b, _, _ in accepted for n in (a, b)}):
        survivor = root(node)
        if survivor == node:
            continue
        link = by_pair.get((min(node, survivor), max(node, survivor)))
        probability, evidence = (
            link
            if link
            else max(
                ((p, e) for (a, b), (p, e) in by_pair.items() if node in (a, b)),
                key=lambda item: item[0],
            )
        )
        merges.append(
            {
                "survivor_id": survivor,
                "absorbed_id": node,
                "probability": probability,
                "evidence": evidence,
                "record_ids": owned.get(node, []),
            }
        )
    return merges


@dataclass
class NewIdentityReport:
    """What one incremental identity run did."""

    mode: str
    records_keyed: int = 0
    merges: list[dict[str, Any]] = field(default_factory=list)
    queued_for_review: int = 0


#: More unkeyed records than this (a first load, a big import): one full exact pass is
#: cheaper than looking up each record's keys.
INCREMENTAL_MAX_RECORDS = 20_000


def identify_new(
    engine: Engine, since: datetime | None = None, *, now: datetime
) -> NewIdentityReport:
    """Match the records that arrived since the last identity run (tracking, imports, the
    API) to the person they belong to, by exact e-mail and phone keys: a tracked order by a
    known address lands on the known customer before anything plans for it. The records
    are found by their missing keys, so nothing is skipped whenever this runs; `since`
    only narrows the look-up to records changed at or after it. The probabilistic model
    stays with the full `identify` run."""
    with bulk_transaction(engine) as connection:
        report = identify_new_in(connection, since, now=now, limit=INCREMENTAL_MAX_RECORDS)
    if report is not None:
        return report
    full = identify(engine, now=now, probabilistic=False)
    return NewIdentityReport(
        "full exact pass", full.records_keyed, full.plans, full.queued_for_review
    )


def identify_new_in(
    connection: Any, since: datetime | None, *, now: datetime, limit: int | None = None
) -> NewIdentityReport | None:
    """`identify_new` inside the caller's transaction (the tracking endpoint's, so a
    request's order is on the merged customer when it is answered). None when more than
    `limit` records wait (the caller runs the full pass)."""
    from relmark.identify.exact import match_keys, plan_merges
    from relmark.store import identity_new

    identity_new.lock_identity(connection)
    fresh = identity_new.unkeyed_records(connection, since, None if limit is None else limit + 1)
    if limit is not None and fresh.height > limit:
        return None
    if fresh.is_empty():
        return NewIdentityReport("nothing new")
    keyed = match_keys(fresh)
    identity_store.save_keys(connection, keyed)
    report = NewIdentityReport("incremental", fresh.height)
    emails = keyed["email_key"].drop_nulls().unique().to_list()
    phones = keyed["phone_key"].drop_nulls().unique().to_list()
    if not emails and not phones:
        return report
    records = identity_new.records_sharing_keys(
        connection, emails, phones, fresh["customer_id"].unique().to_list()
    )
    plans, conflicts = plan_merges(records, KEYS, identity_store.excluded_pairs(connection))
    report.merges = _exact_merges(plans)
    identity_store.apply_merges(connection, report.merges, kind="exact", now=now)
    report.queued_for_review = identity_store.queue_reviews(
        connection, [(c.customer_a, c.customer_b, None, c.evidence) for c in conflicts], now
    )
    return report


def import_and_identify(
    engine: Engine,
    options: ImportOptions,
    *,
    now: datetime,
    progress: Any = None,
    actor: Actor | None = None,
) -> tuple[ImportReport, IdentifyReport]:
    """Every import of customers (or orders that bring customers) ends by resolving them.
    The audit trail says who imported (the CLI user unless another actor is named): an
    import creates and changes personal data, consents included."""
    from relmark.ingest.importer import import_file
    from relmark.store import audit

    report = import_file(engine, options, now=now, progress=progress)
    with engine.begin() as connection:
        audit.record(
            connection,
            actor or audit.Actor.cli(),
            f"import.{report.kind}",
            detail={"import_id": report.import_id, "rows": report.rows, **report.counts},
            at=now,
        )
    return report, identify(engine, now=now)


def _exact_merges(plans: list[Any]) -> list[dict[str, Any]]:
    """Merge plans of the exact-key pass as the store records them (no probability)."""
    return [
        {
            "survivor_id": p.survivor_id,
            "absorbed_id": p.absorbed_id,
            "evidence": p.evidence,
            "record_ids": p.record_ids,
            "probability": None,
        }
        for p in plans
    ]
