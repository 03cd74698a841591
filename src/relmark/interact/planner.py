"""Planning: evaluate every enabled playbook as of a time and write each decision to the outbox.

Reads in bulk (occasions, scores, facts, consents, contact history), decides in Polars, and
writes planned and held messages in one statement, all inside the caller's transaction and
under the contact-budget lock, so that concurrent planners cannot both spend one budget.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import polars as pl
from sqlalchemy import Connection

from relmark.interact import audience_sql, catch_up, occasions
from relmark.interact.audience import AudienceFacts, matches, missing_value
from relmark.interact.governor import decide, message_id
from relmark.interact.playbook import Playbook, TriggerKind, playbook_state
from relmark.interact.policy import ContactPolicy
from relmark.store import candidate_reads, consents, loyalty_tiers, outbox, score_reads
from relmark.store import scores as score_store
from relmark.store.bulk import stage

#: Consent channel that covers each outbox channel (webhooks carry SMS and the like).
CONSENT_CHANNEL = {"email": "email", "webhook": "sms"}
#: Candidates whose scores the score triggers' scan did not bring (staged to read them).
UNSCORED_IDS = "stg_plan_unscored"
#: The budget's widest window, on both sides of a new message.
HISTORY_DAYS = 31


@dataclass
class PlanOptions:
    as_of: datetime
    now: datetime
    playbooks: list[Playbook]
    policy: ContactPolicy = field(default_factory=ContactPolicy)
    default_zone: str = "UTC"
    mail_domain: str = "relmark.invalid"
    only_customer: int | None = None
    only_customers: Sequence[int] | None = None
    """Decide only these customers' occasions (the engine plans new arrivals quickly)."""
    ahead: timedelta = timedelta(0)
    """Decide event occasions falling due this long after `as_of` now, at their own due
    time (the engine plans a new order's thank-you as it arrives)."""
    max_catch_up_days: int = catch_up.MAX_CATCH_UP_DAYS
    scope: str | None = None
    """What a partial plan was limited to (e.g. one playbook); a plan limited to customers
    says so itself. Only whole-store plans start the next plan's catch-up."""

    @property
    def plan_scope(self) -> str | None:
        if self.scope is not None:
            return self.scope
        if self.only_customer is not None or self.only_customers is not None:
            return "customers"
        return None


@dataclass
class PlanResult:
    run_id: int | None
    as_of: datetime
    candidates: int
    planned: int
    held: dict[str, int]
    deferred: int
    by_playbook: dict[str, dict[str, Any]]
    decided: pl.DataFrame
    already_decided: list[str] = field(default_factory=list)
    """Idempotency keys of candidates the outbox already held (planned nothing new)."""
    expired_unsent: int = 0
    """Planned earlier, never sent, and now too late: held as `expired` by this plan."""

    def summary(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "as_of": self.as_of.isoformat(),
            "candidates": self.candidates,
            "planned": self.planned,
            "deferred_for_quiet_hours": self.deferred,
            "held": self.held,
            "expired_unsent": self.expired_unsent,
            "playbooks": self.by_playbook,
        }


def plan(connection: Connection, options: PlanOptions, *, write: bool = True) -> PlanResult:
    """Decide every candidate message as of `options.as_of`; write them unless `write` is
    False (a dry run, as `explain-message` uses)."""
    outbox.lock_budget(connection, options.now)
    states = outbox.playbook_states(connection)
    books = [b for b in options.playbooks if playbook_state(b, states.get(b.name))[0]]
    by_name = {b.name: b for b in books}
    only = _only_customers(options)
    if only is not None:
        # Read only these customers' facts: an arrival plan costs what they cost.
        outbox.stage_customers(connection, only)
    run_id = score_reads.latest_run(connection)
    audience_facts = _audience_facts(connection, books, run_id, staged=only is not None)
    span = catch_up.span(connection, options)
    candidates, scored = _candidates(
        connection, books, run_id, audience_facts, options, span, only is not None
    )
    if candidates.is_empty():
        return _result(connection, options, candidates, write)

    outbox.stage_customers(connection, candidates["customer_id"])
    candidates = _not_recently_considered(connection, candidates, books, options.as_of)
    facts = outbox.customer_facts(connection).filter(pl.col("merged_into_id").is_null())
    scores = _scores(connection, run_id, candidates["customer_id"], scored)
    rows = candidates.join(facts, on="customer_id").join(scores, on="customer_id", how="left")
    rows = _in_audience(connection, rows, books, audience_facts)
    rows = rows.with_columns(
        pl.format("{}:{}:{}", "playbook", "customer_id", "occasion").alias("idempotency_key")
    )
    existing = outbox.existing_keys(connection, rows["idempotency_key"])
    known = existing.filter(~pl.col("transient"))["idempotency_key"]
    rows = rows.filter(~pl.col("idempotency_key").is_in(known.implode()))
    if rows.is_empty():
        return _result(connection, options, rows, write, known.to_list())

    rows = _with_settings(rows, by_name)
    # An occasion held for a passing reason (a full cap) that is now too late keeps that
    # reason: `expired` tells what an outage lost, not what the caps held back.
    held_before = pl.col("idempotency_key").is_in(existing["idempotency_key"].implode())
    expired = rows.filter(pl.col("expired") & ~held_before)
    rows = rows.filter(~pl.col("expired"))
    rows = _with_consent(connection, rows)
    rows = occasions.with_zone(rows, options.default_zone)
    longest = max([HISTORY_DAYS, *(b.repeat_after_days for b in books)])
    history = outbox.contact_history(
        connection,
        options.as_of - timedelta(days=longest),
        options.as_of + timedelta(days=longest),
    )
    unvalued = rows.filter(pl.col("missing_value").is_not_null())
    rows = rows.filter(pl.col("missing_value").is_null())
    decided = decide(rows, history, options.policy) if rows.height else rows
    decided = catch_up.noted_if_late(decided, options.as_of)
    decided = catch_up.past_deadline(decided, options.as_of, by_name)
    extra = [_held_for_missing_values(connection, unvalued)] if unvalued.height else []
    if expired.height:
        extra.append(catch_up.held_as_expired(expired, options.as_of, by_name))
    if extra:
        decided = pl.concat([decided, *extra], how="diagonal_relaxed")
    return _result(
        connection,
        options,
        decided.drop("missing_value"),
        write,
        known.to_list(),
        existing["idempotency_key"],
    )


def _only_customers(options: PlanOptions) -> pl.Series | None:
    """The customers a partial plan is limited to (None: the whole store)."""
    wanted = None if options.only_customers is None else set(options.only_customers)
    if options.only_customer is not None:
        one = {options.only_customer}
        wanted = one if wanted is None else wanted & one
    return None if wanted is None else pl.Series("customer_id", sorted(wanted), dtype=pl.Int64)


def _held_for_missing_values(connection: Connection, unvalued: pl.DataFrame) -> pl.DataFrame:
    """Candidates an audience could not judge because the scoring run has no P(alive) or CLV
    for them: held with that reason, and the run's own words for why in the detail."""
    why = score_store.latest_reasons(connection)
    column = {"p_alive_not_computed": "p_alive_reason", "clv_not_computed": "clv_reason"}
    return (
        unvalued.with_columns(
            pl.lit("held").alias("status"),
            pl.col("missing_value").alias("reason"),
            pl.col("missing_value")
            .replace_strict(
                {
                    code: why.get(name) or "no value in the latest scoring run"
                    for code, name in column.items()
                },
                return_dtype=pl.String,
            )
            .alias("_why"),
        )
        .with_columns(pl.struct(pl.col("_why").alias("why")).struct.json_encode().alias("detail"))
        .drop("_why")
    )


def _audience_facts(
    connection: Connection, books: list[Playbook], run_id: int | None, *, staged: bool
) -> AudienceFacts:
    """The facts about the whole store that audiences compare a customer with (promoters:
    of the staged customers only, when a plan is limited to them)."""
    facts = AudienceFacts()
    if run_id is not None:
        facts.thresholds = {
            (name, share): score_reads.top_threshold(connection, run_id, name, share)
            for name, share in audience_sql.shares_needed(books)
        }
    if any(a.promoter is not None for b in books for a in b.audience):
        facts.promoters = outbox.promoters(connection, staged=staged)
    return facts


def _candidates(
    connection: Connection,
    books: list[Playbook],
    run_id: int | None,
    audience_facts: AudienceFacts,
    options: PlanOptions,
    span: occasions.Span,
    staged: bool,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Every occasion in the span; with `staged`, only the staged customers' (read so).
    Also the score values the score triggers' read brought along."""
    as_of = options.as_of
    parts = [occasions.empty()]
    scored = pl.DataFrame(schema=score_reads.SCORE_SCHEMA)
    for kind, read in (
        (TriggerKind.ORDER, candidate_reads.purchases),
        (TriggerKind.FIRST_PURCHASE_WITH_HOWTO, candidate_reads.first_howto_purchases),
    ):
        event_books = [b for b in books if b.trigger.on is kind]
        if not event_books:
            continue
        windows = [occasions.event_window(b, span) for b in event_books]
        start, end = min(w[0] for w in windows), max(w[1] for w in windows)
        facts = read(connection, start, end, staged=staged)
        parts += [occasions.from_orders(b, facts, span) for b in event_books]
    tier_books = [b for b in books if b.trigger.on is TriggerKind.TIER_CHANGED]
    if tier_books:
        windows = [occasions.event_window(b, span) for b in tier_books]
        changes = loyalty_tiers.tier_changes(
            connection, min(w[0] for w in windows), max(w[1] for w in windows)
        )
        parts += [occasions.from_tier_changes(b, changes, span) for b in tier_books]
    date_books = [b for b in books if b.trigger.is_date]
    if date_books:
        month_days = occasions.month_days_around(span)
        people = candidate_reads.customers_with_dates(connection, month_days, staged=staged)
        parts += [occasions.from_dates(b, people, span, options.default_zone) for b in date_books]
    score_books = [b for b in books if b.trigger.on is TriggerKind.SCORE]
    if score_books and run_id is not None:
        promoters = None
        if any(a.promoter is not None for b in score_books for a in b.audience):
            promoters = score_reads.stage_promoters(connection, audience_facts.promoters)
        conditions = {
            b.name: audience_sql.could_match(b, audience_facts.top_threshold, promoters)
            for b in score_books
        }
        only = outbox.STAGED_IDS if staged else None
        found = score_reads.customers_matching(connection, run_id, conditions, only)
        parts += [
            occasions.from_scores(b, found.filter(pl.col(b.name))["customer_id"], as_of)
            for b in score_books
        ]
        scored = found.select(*score_reads.SCORE_SCHEMA)
    return pl.concat(parts), scored


def _scores(
    connection: Connection, run_id: int | None, customers: pl.Series, scored: pl.DataFrame
) -> pl.DataFrame:
    """The latest run's values for these customers: those the score triggers' scan brought,
    the others (occasions by date or order) read by id."""
    missing = customers.unique().filter(~customers.unique().is_in(scored["customer_id"].implode()))
    if missing.is_empty():
        return scored
    stage(connection, UNSCORED_IDS, pl.DataFrame({"customer_id": missing.sort()}))
    return pl.concat([scored, score_reads.scores_of_staged(connection, run_id, UNSCORED_IDS)])


def _not_recently_considered(
    connection: Connection, candidates: pl.DataFrame, books: list[Playbook], as_of: datetime
) -> pl.DataFrame:
    """A score-triggered playbook looks at a customer once per repeat window: any message
    of it in the window, held ones included, means 'already decided'."""
    score_books = {b.name: b.repeat_after_days for b in books if b.trigger.on is TriggerKind.SCORE}
    if not score_books:
        return candidates
    last = outbox.last_rows_by_playbook(
        connection, as_of - timedelta(days=max(score_books.values()))
    )
    repeat = pl.DataFrame(
        {"playbook": list(score_books), "repeat": list(score_books.values())},
        schema={"playbook": pl.String, "repeat": pl.Int64},
    )
    recent = (
        last.join(repeat, on="playbook")
        .filter(pl.col("last_due_at") > pl.lit(as_of) - pl.duration(days=pl.col("repeat")))
        .select("playbook", "customer_id")
    )
    return candidates.join(recent, on=["playbook", "customer_id"], how="anti")


def _in_audience(
    connection: Connection, rows: pl.DataFrame, books: list[Playbook], facts: AudienceFacts
) -> pl.DataFrame:
    audiences = [a for b in books for a in b.audience]
    if any(a.categories for a in audiences):
        facts.categories = outbox.categories_bought(connection)
    if any(a.partners for a in audiences):
        facts.partners = outbox.partners_used(connection)
    if any(a.tiers for a in audiences):
        facts.tiers = loyalty_tiers.member_tiers(connection)
    kept = []
    for b in books:
        if not rows["playbook"].is_in([b.name]).any():
            continue
        matched = matches(b, facts)
        kept.append(
            rows.filter(pl.col("playbook") == b.name)
            .with_columns(
                pl.when(matched)
                .then(pl.lit(None, pl.String))
                .otherwise(missing_value(b, facts))
                .alias("missing_value")
            )
            .filter(matched | pl.col("missing_value").is_not_null())
        )
    if not kept:
        return rows.clear().with_columns(pl.lit(None, pl.String).alias("missing_value"))
    return pl.concat(kept)


def _with_settings(rows: pl.DataFrame, books: dict[str, Playbook]) -> pl.DataFrame:
    settings = pl.DataFrame(
        [
            {
                "playbook": b.name,
                "purpose": b.purpose.value,
                "channel": b.channel,
                "priority": b.priority,
                "cost": b.cost,
                "control_share": b.control_share,
                "repeat_after_days": b.repeat_after_days,
            }
            for b in books.values()
        ]
    )
    return rows.join(settings, on="playbook")


def _with_consent(connection: Connection, rows: pl.DataFrame) -> pl.DataFrame:
    held = consents.effective_status(connection, outbox.STAGED_IDS).rename({"status": "consent"})
    return (
        rows.with_columns(
            pl.col("channel").replace_strict(CONSENT_CHANNEL).alias("consent_channel")
        )
        .join(
            held.rename({"channel": "consent_channel"}),
            on=["customer_id", "purpose", "consent_channel"],
            how="left",
        )
        .drop("consent_channel")
    )


def _result(
    connection: Connection,
    options: PlanOptions,
    decided: pl.DataFrame,
    write: bool,
    known: list[str] | None = None,
    held_before: pl.Series | None = None,
) -> PlanResult:
    """Count and (unless a dry run) write the decisions. `held_before`: the outbox's rows
    among them, held for a passing reason, which the decisions update; the rest are new."""
    if "status" not in decided.columns:
        decided = decided.with_columns(
            pl.lit(None, dtype=pl.String).alias("status"),
            pl.lit(None, dtype=pl.String).alias("reason"),
        )
    counts = _counts(decided)
    run_id = None
    if write:
        counts["expired_unsent"] = outbox.expire_unsent(
            connection, options.as_of, catch_up.legacy_deadlines(options)
        )
        run_id = outbox.start_plan_run(connection, options.as_of, options.now, options.plan_scope)
        if decided.height:
            rows = _outbox_rows(decided, run_id, options)
            outbox.insert_messages(connection, rows, held_before)
        outbox.finish_plan_run(connection, run_id, counts)
    return PlanResult(
        run_id,
        options.as_of,
        decided.height,
        counts["planned"],
        counts["held"],
        counts["deferred_for_quiet_hours"],
        counts["playbooks"],
        decided,
        known or [],
        counts.get("expired_unsent", 0),
    )


def _counts(decided: pl.DataFrame) -> dict[str, Any]:
    planned = decided.filter(pl.col("status") == "planned")
    held = decided.filter(pl.col("status") == "held")
    by_playbook: dict[str, dict[str, Any]] = {}
    for (name,), group in decided.group_by("playbook", maintain_order=True):
        by_playbook[str(name)] = {
            "planned": int((group["status"] == "planned").sum()),
            "held": _reason_counts(group.filter(pl.col("status") == "held")),
        }
    return {
        "candidates": decided.height,
        "planned": planned.height,
        "deferred_for_quiet_hours": int((planned["reason"] == "quiet_hours_deferred").sum()),
        "held": _reason_counts(held),
        "playbooks": dict(sorted(by_playbook.items())),
    }


def _reason_counts(frame: pl.DataFrame) -> dict[str, int]:
    if frame.is_empty():
        return {}
    counts = frame.group_by("reason").len().sort(["len", "reason"], descending=[True, False])
    return {str(r): int(n) for r, n in counts.iter_rows()}


def _outbox_rows(decided: pl.DataFrame, run_id: int, options: PlanOptions) -> pl.DataFrame:
    """The decisions plus what the outbox derives from them; the store picks its columns."""
    domain = options.mail_domain
    return decided.with_columns(
        pl.struct("order_id", "product_id").struct.json_encode().alias("context"),
        pl.lit(run_id, dtype=pl.Int64).alias("plan_run_id"),
        pl.lit(options.now, dtype=occasions.UTC_US).alias("created_at"),
        pl.lit(0, dtype=pl.Int64).alias("attempts"),
        pl.col("idempotency_key")
        .map_elements(lambda key: message_id(key, domain), return_dtype=pl.String)
        .alias("rfc_message_id"),
    )
