"""The engine's upkeep runs the loyalty posting: nothing where the programme is off, and
postings, expiry and reversals where it is on, idempotently."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine

from relmark.config import Settings
from relmark.engine.jobs import JobContext
from relmark.engine.upkeep import upkeep_jobs
from relmark.interaction import Interaction

from ..conftest import NOW
from .seed import add_customer, add_order, balance, enable, write_programme


def run_job(engine: Engine, programme: Path, at: object) -> str:
    job = next(j for j in upkeep_jobs() if j.name == "loyalty")
    interaction = Interaction(engine, Settings(loyalty_file=programme))
    context = JobContext(interaction, None, at, at, lambda _line: None)  # type: ignore[arg-type]
    return job.run(context)


def test_the_upkeep_job_posts_and_expires_only_where_the_programme_is_on(
    engine: Engine, tmp_path: Path
) -> None:
    programme = write_programme(tmp_path)
    anna = add_customer(engine)
    add_order(engine, anna, 4200, NOW - timedelta(days=2))

    assert run_job(engine, programme, NOW) == "loyalty programme off"
    assert balance(engine, anna) == (0, 0)

    enable(engine)
    first = run_job(engine, programme, NOW)
    again = run_job(engine, programme, NOW)
    year_later = run_job(engine, programme, NOW + timedelta(days=365))

    assert first.startswith("loyalty: 42 point(s) from 1 order(s), 0 expired")
    assert again.startswith("loyalty: 0 point(s) from 0 order(s), 0 expired")
    assert "42 expired" in year_later
    assert balance(engine, anna) == (0, 0)
