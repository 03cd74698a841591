"""The engine's periodic jobs: a schedule (when next, after a run) and what to do.

Adding a job is one line anywhere imported before the engine starts:

    register(Job("prune-held", every(timedelta(hours=6)), prune_held))

where `prune_held(context) -> str` does the work and returns a one-line result for the log.
The schedule lives in the store (`engine_jobs`), so a job missed while every engine was
down runs as soon as one starts again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from relmark.engine.runner import EngineOptions
    from relmark.interaction import Interaction

Schedule = Callable[[datetime], datetime]
"""The next run after a moment (UTC)."""


@dataclass(frozen=True)
class JobContext:
    interaction: Interaction
    options: EngineOptions
    now: datetime
    """The wall clock: schedules and claims."""
    as_of: datetime
    """The business clock plans and scores use (`--as-of`, else the wall clock)."""
    log: Callable[[str], None]


@dataclass(frozen=True)
class Job:
    name: str
    schedule: Schedule
    run: Callable[[JobContext], str]
    run_at_first_start: bool = True
    """A store that never ran this job runs it at once (else at its first scheduled time)."""


JOBS: dict[str, Job] = {}


def register(job: Job) -> Job:
    """Add (or replace) a periodic job every engine runs."""
    JOBS[job.name] = job
    return job


def every(interval: timedelta) -> Schedule:
    return lambda moment: moment + interval


def daily_at(at: clock) -> Schedule:
    """Each day at `at` (UTC)."""

    def next_run(moment: datetime) -> datetime:
        moment = moment.astimezone(UTC)
        today = datetime.combine(moment.date(), at, tzinfo=UTC)
        return today if today > moment else today + timedelta(days=1)

    return next_run


def plan_summary(result: Any) -> str:
    held = sum(result.held.values())
    return f"planned {result.planned} (held {held}, candidates {result.candidates})"


def plan(context: JobContext) -> str:
    """The full plan: date triggers (birthdays, anniversaries at 09:00 local), lapsing
    windows, score-triggered playbooks; whatever the arrival plans did not see."""
    return plan_summary(context.interaction.plan(context.as_of, context.now))


def rescore(context: JobContext) -> str:
    """Value every customer again, then plan: score-triggered playbooks follow each run."""
    from relmark import pipeline
    from relmark.differentiate.score import ScoreSettings

    report = pipeline.score(
        context.interaction.engine,
        as_of=context.as_of,
        settings=ScoreSettings(),
        now=context.now,
    )
    scored = f"scored {report.customers} customers (run {report.run_id})"
    return scored + "; " + plan_summary(context.interaction.plan(context.as_of, context.now))


def default_jobs(options: EngineOptions) -> list[Job]:
    """The engine's own jobs, on the schedules its options give, and the upkeep jobs."""
    from relmark.engine.upkeep import upkeep_jobs

    return [
        *upkeep_jobs(),
        Job("plan", every(options.plan_every), plan),
        Job("rescore", daily_at(options.score_at), rescore, run_at_first_start=False),
    ]
