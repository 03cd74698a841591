"""The engine's durable state: who runs (`engine_instances`) and what is due (`engine_jobs`).

Several `relmark run` processes may share one PostgreSQL store: a job is run by whoever
claims its row first (`FOR UPDATE SKIP LOCKED`, then a conditional UPDATE, so a claim is
atomic on SQLite too). A claim lasts as long as its holder's heartbeat keeps extending it,
so a SIGKILLed engine's jobs are free again within one lease. On SQLite one engine at a
time holds the store: the start-up check runs under SQLite's write lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, or_, select, update

from relmark.errors import RelmarkError
from relmark.store.models import EngineInstance, EngineJob


class EngineBusy(RelmarkError):
    """Another engine holds this (SQLite) store."""


class EngineTakenOver(RelmarkError):
    """Another engine took this one's place on a SQLite store while it was silent."""


@dataclass(frozen=True)
class Registration:
    instance_id: int
    took_over: list[str]
    """One line per dead engine whose place was taken (for the log)."""


def register(
    connection: Connection,
    *,
    host: str,
    pid: int,
    now: datetime,
    stale_after: timedelta,
    exclusive: bool,
) -> Registration:
    """Record this engine; with `exclusive` (SQLite) refuse while another one is alive.

    Engines silent for longer than `stale_after` are marked stopped and their claims freed.
    The caller holds the write lock (SQLite) so two engines starting together cannot both pass.
    """
    running = connection.execute(
        select(EngineInstance).where(EngineInstance.stopped_at.is_(None))
    ).mappings()
    took_over = []
    for other in list(running):
        silent = now - other["heartbeat_at"]
        if silent <= stale_after and exclusive:
            raise EngineBusy(
                f"another engine runs on this store (engine {other['id']}, pid {other['pid']} on "
                f"{other['host']}, last heartbeat {silent.total_seconds():.0f} s ago); a SQLite "
                "store has one engine at a time: stop it first, or use PostgreSQL to run "
                f"several (an engine killed without stopping is taken over once silent for "
                f"{stale_after.total_seconds():.0f} s)"
            )
        if silent > stale_after:
            connection.execute(
                update(EngineInstance)
                .where(EngineInstance.id == other["id"])
                .values(stopped_at=now)
            )
            release_claims(connection, other["id"])
            took_over.append(
                f"took over from engine {other['id']} (pid {other['pid']} on {other['host']}), "
                f"silent for {silent.total_seconds():.0f} s"
            )
    instance_id = connection.execute(
        insert(EngineInstance)
        .values(host=host, pid=pid, started_at=now, heartbeat_at=now)
        .returning(EngineInstance.id)
    ).scalar_one()
    return Registration(int(instance_id), took_over)


def heartbeat(connection: Connection, instance_id: int, now: datetime, lease: timedelta) -> bool:
    """Prove this engine alive and extend its claims; False when another engine has taken
    its place (it was silent too long) and it must stop."""
    alive = connection.execute(
        update(EngineInstance)
        .where(EngineInstance.id == instance_id, EngineInstance.stopped_at.is_(None))
        .values(heartbeat_at=now)
    )
    if alive.rowcount != 1:
        return False
    connection.execute(
        update(EngineJob)
        .where(EngineJob.claimed_by == instance_id)
        .values(claimed_until=now + lease)
    )
    return True


def stop(connection: Connection, instance_id: int, now: datetime) -> None:
    connection.execute(
        update(EngineInstance).where(EngineInstance.id == instance_id).values(stopped_at=now)
    )
    release_claims(connection, instance_id)


def release_claims(connection: Connection, instance_id: int) -> None:
    connection.execute(
        update(EngineJob)
        .where(EngineJob.claimed_by == instance_id)
        .values(claimed_by=None, claimed_until=None)
    )


def ensure_jobs(connection: Connection, first_runs: dict[str, tuple[datetime | None, Any]]) -> None:
    """Create the rows of jobs this store has not seen yet: name → (first run, state)."""
    known = set(connection.execute(select(EngineJob.name)).scalars())
    for name, (first_run, state) in first_runs.items():
        if name in known:
            continue
        values = {"name": name, "next_run_at": first_run, "state": state}
        if connection.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            connection.execute(pg_insert(EngineJob).values(values).on_conflict_do_nothing())
        else:
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            connection.execute(sqlite_insert(EngineJob).values(values).on_conflict_do_nothing())


def _free(now: datetime, instance_id: int | None = None) -> Any:
    """Unclaimed, or claimed by an engine whose lease ran out, or by this engine itself (a
    claim it failed to release, e.g. when finishing the job's transaction failed, must not
    keep the job from it forever: its heartbeat keeps that claim fresh)."""
    free = or_(EngineJob.claimed_by.is_(None), EngineJob.claimed_until < now)
    return free if instance_id is None else or_(free, EngineJob.claimed_by == instance_id)


def due_jobs(connection: Connection, now: datetime, instance_id: int | None = None) -> list[str]:
    """Jobs whose time has come that this engine may claim, the most overdue first."""
    rows = connection.execute(
        select(EngineJob.name)
        .where(EngineJob.next_run_at <= now, _free(now, instance_id))
        .order_by(EngineJob.next_run_at, EngineJob.name)
    )
    return [str(r[0]) for r in rows]


def claim(
    connection: Connection,
    name: str,
    instance_id: int,
    now: datetime,
    lease: timedelta,
    *,
    due_only: bool = True,
) -> dict[str, Any] | None:
    """Take a job for this engine; None when another engine holds it (or it is not due).

    Commit right after: the claim is what the others see."""
    conditions = [EngineJob.name == name, _free(now, instance_id)]
    if due_only:
        conditions.append(EngineJob.next_run_at <= now)
    # SKIP LOCKED: an engine that finds the row being claimed moves on instead of waiting
    # (SQLite compiles no FOR UPDATE; its UPDATE below is atomic under the write lock).
    row = connection.execute(
        select(EngineJob.name).where(*conditions).with_for_update(skip_locked=True)
    ).first()
    if row is None:
        return None
    taken = connection.execute(
        update(EngineJob)
        .where(*conditions)
        .values(claimed_by=instance_id, claimed_until=now + lease)
    )
    if taken.rowcount != 1:
        return None
    job = connection.execute(select(EngineJob).where(EngineJob.name == name)).mappings().one()
    return {"name": job["name"], "next_run_at": job["next_run_at"], "state": job["state"]}


def finish(
    connection: Connection,
    name: str,
    instance_id: int,
    *,
    now: datetime,
    next_run_at: datetime | None,
    result: str,
    state: Any = None,
    keep_state: bool = True,
) -> bool:
    """Record a run and release the claim, only if this engine still holds it; False when
    the claim was lost meanwhile (the engine was declared dead: the holder decides next)."""
    values: dict[str, Any] = {
        "last_run_at": now,
        "last_result": result[:2000],
        "next_run_at": next_run_at,
        "claimed_by": None,
        "claimed_until": None,
    }
    if not keep_state:
        values["state"] = state
    done = connection.execute(
        update(EngineJob)
        .where(EngineJob.name == name, EngineJob.claimed_by == instance_id)
        .values(values)
    )
    return done.rowcount == 1


def job_state(connection: Connection, name: str) -> Any:
    return connection.execute(select(EngineJob.state).where(EngineJob.name == name)).scalar()


def jobs(connection: Connection) -> list[dict[str, Any]]:
    columns = ("name", "next_run_at", "last_run_at", "last_result", "claimed_by")
    rows = connection.execute(select(EngineJob).order_by(EngineJob.name)).mappings()
    return [{c: row[c] for c in columns} for row in rows]
