"""The always-on engine (`relmark run`): plans as facts arrive, runs a durable schedule of
periodic jobs, and sends due messages, on one store shared by any number of engines
(PostgreSQL) or by one (SQLite).

It composes the stages the way `relmark.interaction` does: planning and sending go through
`Interaction`, scoring through `relmark.pipeline`, state through `relmark.store.engine_state`.
"""

from relmark.engine.jobs import JOBS, Job, JobContext, daily_at, every, register
from relmark.engine.runner import EngineOptions, Runner

__all__ = [
    "JOBS",
    "EngineOptions",
    "Job",
    "JobContext",
    "Runner",
    "daily_at",
    "every",
    "register",
]
