"""`relmark run`: the always-on engine (plan as facts arrive, periodic jobs, send)."""

# Annotations stay evaluated (no __future__ import): see cli_base.

from datetime import timedelta
from typing import Annotated

import typer

from relmark.errors import InvalidInput
from relmark.interfaces.cli_base import DbOption, app, friendly, parse_moment
from relmark.interfaces.interact_cli import AsOf, PlaybooksDir, interaction

Poll = Annotated[
    float, typer.Option(min=0.05, max=3600, help="Seconds between looks for new work.")
]
PlanEvery = Annotated[
    int, typer.Option(min=1, max=1440, help="Minutes between full plans (date triggers).")
]
ScoreAt = Annotated[str, typer.Option(help="Daily re-score (then plan) at this UTC time, HH:MM.")]
LeaseSeconds = Annotated[
    float,
    typer.Option(
        min=0.5,
        max=3600,
        help="An engine silent this long is dead: its lease and jobs are taken over.",
    ),
]
ReclaimAfter = Annotated[
    int, typer.Option(min=0, help="Seconds after which a claimed, unsent message is retried.")
]


def engine_options(
    as_of: str | None,
    poll: float,
    plan_every: int,
    score_at: str,
    lease_seconds: float,
    reclaim_after: int,
):  # noqa: ANN201 (EngineOptions, imported lazily)
    """The engine's options from the command line, checked."""
    from datetime import time

    from relmark.engine import EngineOptions

    try:
        at = time.fromisoformat(score_at)
    except ValueError:
        problem = f"{score_at!r} is not a time of day HH:MM"
        raise InvalidInput.single("--score-at", problem) from None
    return EngineOptions(
        as_of=parse_moment(as_of, "--as-of") if as_of else None,
        poll=timedelta(seconds=poll),
        plan_every=timedelta(minutes=plan_every),
        score_at=at,
        stale_after=timedelta(seconds=lease_seconds),
        reclaim_after=timedelta(seconds=reclaim_after),
    )


@app.command("run")
@friendly
def run(
    once: Annotated[
        bool, typer.Option("--once", help="One tick (plan, due jobs, send) and exit: for cron.")
    ] = False,
    as_of: AsOf = None,
    poll: Poll = 1.0,
    plan_every: PlanEvery = 60,
    score_at: ScoreAt = "02:00",
    lease_seconds: LeaseSeconds = 30.0,
    reclaim_after: ReclaimAfter = 300,
    db: DbOption = None,
    playbooks: PlaybooksDir = None,
) -> None:
    """Run the engine: plan as orders and customers arrive, run the schedule (full plan
    hourly, re-score nightly), send due messages. SIGTERM or Ctrl-C stops it after the
    message in flight. Several engines may share a PostgreSQL store; a SQLite store has one."""
    import signal

    from relmark.engine import Runner

    options = engine_options(as_of, poll, plan_every, score_at, lease_seconds, reclaim_after)
    runner = Runner(interaction(db, playbooks), options)

    def stop(signum: int, _frame: object) -> None:
        runner.log(f"{signal.Signals(signum).name}: stopping after the work in flight")
        runner.stop.set()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        runner.run(once=once)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@app.command("jobs")
@friendly
def jobs(db: DbOption = None, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The engine's schedule: each job's next and last run, and what it did."""
    from relmark.interfaces.cli_base import open_store, print_rows
    from relmark.store import engine_state

    with open_store(db).connect() as connection:
        rows = engine_state.jobs(connection)
    print_rows(
        rows,
        as_json,
        {
            "job": lambda r: r["name"],
            "next run": lambda r: str(r["next_run_at"] or "")[:19],
            "last run": lambda r: str(r["last_run_at"] or "")[:19],
            "last result": lambda r: r["last_result"] or "",
            "held by": lambda r: "" if r["claimed_by"] is None else f"engine {r['claimed_by']}",
        },
    )
