"""The engine's loop: each tick plans new arrivals, runs due jobs, then sends due messages.

Stopping (SIGTERM, SIGINT, `serve` shutting down) sets `stop`: the message in flight is
finished, nothing new starts. A SIGKILL loses nothing: a plan is one transaction, a message
left `sending` is reclaimed by the delivery's own rule, a job claim lapses with the
heartbeat that kept it.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as clock

from relmark.engine.jobs import JOBS, Job, JobContext, default_jobs, plan_summary
from relmark.errors import RelmarkError
from relmark.interact.delivery import SendOptions
from relmark.interact.playbook import TriggerKind
from relmark.interaction import Interaction
from relmark.store import arrivals, engine_state, send_queue
from relmark.store.db import bulk_transaction

#: Above this many arrivals at once (a bulk import), the whole store is planned instead.
ARRIVAL_LIMIT = 50_000
#: The job row that holds the arrival marks (highest ids planned for, holes still open).
ARRIVALS = "arrivals"


@dataclass
class EngineOptions:
    as_of: datetime | None = None
    """A fixed business clock (tests, replays); None: the wall clock."""
    poll: timedelta = timedelta(seconds=1)
    plan_every: timedelta = timedelta(hours=1)
    score_at: clock = clock(2, 0)
    stale_after: timedelta = timedelta(seconds=30)
    """An engine silent this long is dead: its lease and claims are taken over."""
    reclaim_after: timedelta = timedelta(minutes=5)
    send_batch: int = 200
    """Messages sent per tick at most, so new arrivals are planned between batches."""
    rate: float | None = None
    extra_jobs: list[Job] = field(default_factory=list)


def stderr_log(line: str) -> None:
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    sys.stderr.write(f"{stamp} relmark run: {line}\n")
    sys.stderr.flush()


class Runner:
    """One engine process (or thread, beside the web server)."""

    def __init__(
        self,
        interaction: Interaction,
        options: EngineOptions | None = None,
        *,
        log: Callable[[str], None] = stderr_log,
        stop: threading.Event | None = None,
    ) -> None:
        self.interaction = interaction
        self.engine = interaction.engine
        self.options = options or EngineOptions()
        self.log = log
        self.stop = stop or threading.Event()
        self.instance_id: int | None = None
        jobs = [*default_jobs(self.options), *JOBS.values(), *self.options.extra_jobs]
        self.jobs = {job.name: job for job in jobs}
        self.transports: dict | None = None
        self._heart: threading.Thread | None = None
        self.taken_over: str | None = None
        """Why this engine stopped because another took its place (SQLite): `run` fails."""

    # --- life cycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Register (refused on SQLite while another engine is alive), create missing job
        rows, start the heartbeat."""
        self.interaction.playbooks()  # a broken playbook folder fails here, not in a tick
        self._warnings()
        now = datetime.now(UTC)
        exclusive = self.engine.dialect.name == "sqlite"
        with bulk_transaction(self.engine) as connection:
            registration = engine_state.register(
                connection,
                host=socket.gethostname(),
                pid=os.getpid(),
                now=now,
                stale_after=self.options.stale_after,
                exclusive=exclusive,
            )
            first = {
                name: (now if job.run_at_first_start else job.schedule(now), None)
                for name, job in self.jobs.items()
            }
            # The first full plan (due at once) covers everything already in the store.
            first[ARRIVALS] = (None, arrivals.marks(connection))
            engine_state.ensure_jobs(connection, first)
        self.instance_id = registration.instance_id
        for line in registration.took_over:
            self.log(line)
        self.log(f"engine {self.instance_id} started (pid {os.getpid()}, {self._where()})")
        self._heart = threading.Thread(target=self._heartbeat, name="engine-heartbeat", daemon=True)
        self._heart.start()

    def close(self) -> None:
        self.stop.set()
        if self._heart is not None:
            self._heart.join(timeout=10)
        if self.instance_id is not None:
            with self.engine.begin() as connection:
                engine_state.stop(connection, self.instance_id, datetime.now(UTC))
            self.log(f"engine {self.instance_id} stopped")
            self.instance_id = None

    def run(self, *, once: bool = False) -> None:
        """Start, tick until stopped (or once), stop. Raises EngineTakenOver when another
        engine took this one's place on a SQLite store, so the exit status is not 0 and a
        supervisor (systemd `Restart=on-failure`) starts it again."""
        self.start()
        self.loop(once=once)
        if self.taken_over is not None:
            raise engine_state.EngineTakenOver(self.taken_over)

    def loop(self, *, once: bool = False) -> None:
        """Tick until stopped (or once), then stop; after `start`."""
        try:
            while not self.stop.is_set():
                try:
                    failure = self.tick()
                    if failure is not None and once:
                        raise failure
                except (RelmarkError, OSError) as exc:
                    if once:  # cron hears of it through the exit code
                        raise
                    self.log(f"error: {exc}")
                except Exception as exc:  # a lost database connection must not end the engine
                    if once:
                        raise
                    self.log(f"error: {type(exc).__name__}: {_first_line(exc)}")
                if once:
                    break
                self.stop.wait(self.options.poll.total_seconds())
        finally:
            self.close()

    # --- one tick ---------------------------------------------------------------------------

    def tick(self) -> BaseException | None:
        """Each step on its own: a step that fails (an arrival plan, a job) is logged and the
        others still run, so one failing plan never stops sending. Returns the first failure
        (`--once` exits with it, for cron)."""
        failure: BaseException | None = None
        for step in (self.plan_arrivals, self.run_due_jobs, self.send_due):
            try:
                step()
            except Exception as exc:  # noqa: BLE001 — logged; the next tick tries again
                self.log(f"error in {step.__name__}: {type(exc).__name__}: {_first_line(exc)}")
                failure = failure or exc
        return failure

    def _now(self) -> datetime:
        return datetime.now(UTC)

    def _as_of(self) -> datetime:
        return self.options.as_of or self._now()

    def _claim(self, name: str, *, due_only: bool) -> dict | None:
        assert self.instance_id is not None
        with self.engine.begin() as connection:
            return engine_state.claim(
                connection,
                name,
                self.instance_id,
                self._now(),
                self.options.stale_after,
                due_only=due_only,
            )

    def plan_arrivals(self) -> None:
        """Plan when an order or customer arrived since the last arrival plan (imported,
        tracked through /v1/batch or posted through the API: all end up as rows). The look
        is a few index probes (`relmark.store.arrivals`), cheap at every tick."""
        with self.engine.connect() as connection:
            seen = engine_state.job_state(connection, ARRIVALS) or {}
            if self.stop.is_set() or not arrivals.pending(connection, seen):
                return
        claimed = self._claim(ARRIVALS, due_only=False)
        if claimed is None:
            return  # another engine plans them now
        holder = self.instance_id  # a takeover may re-register this engine meanwhile
        seen = claimed["state"] or {}
        result, state = "nothing new", seen  # a failed plan leaves the marks where they were
        try:
            with self.engine.connect() as connection:
                found = arrivals.read(connection, seen, ARRIVAL_LIMIT)
            if found.orders or found.new_customers or found.customers is None:
                # An arrival is decided now, at its messages' own due times (a thank-you
                # three days on); the sender holds one whose order is cancelled meanwhile.
                planned = self.interaction.plan(
                    self._as_of(),
                    self._now(),
                    only_customers=found.customers,
                    ahead=self._ahead(),
                )
                result = plan_summary(planned)
                whole = " (the whole store)" if found.customers is None else ""
                self.log(
                    f"{result} for {found.orders} new order(s), "
                    f"{found.new_customers} new customer(s){whole}"
                )
            state = found.state
        finally:
            with self.engine.begin() as connection:
                kept = engine_state.finish(
                    connection,
                    ARRIVALS,
                    holder,  # type: ignore[arg-type]
                    now=self._now(),
                    next_run_at=None,
                    result=result,
                    state=state,
                    keep_state=False,
                )
            if not kept:
                self._claim_lost(ARRIVALS)

    def _ahead(self) -> timedelta:
        """How far ahead arrival plans decide: the longest delay of an order-triggered
        playbook, so a new order's thank-you and satisfaction check are decided at once."""
        delays = [
            b.trigger.delay_days
            for b in self.interaction.enabled_playbooks()
            if b.trigger.on in (TriggerKind.ORDER, TriggerKind.FIRST_PURCHASE_WITH_HOWTO)
        ]
        return timedelta(days=max(delays, default=0))

    def run_due_jobs(self) -> None:
        now = self._now()
        with self.engine.connect() as connection:
            due = [
                n
                for n in engine_state.due_jobs(connection, now, self.instance_id)
                if n in self.jobs
            ]
        for name in due:
            if self.stop.is_set():
                return
            if self._claim(name, due_only=True) is None:
                continue
            holder = self.instance_id  # a takeover may re-register this engine meanwhile
            job = self.jobs[name]
            context = JobContext(self.interaction, self.options, now, self._as_of(), self.log)
            try:
                result = job.run(context)
            except Exception as exc:  # one failing job must not stop the others
                result = f"error: {type(exc).__name__}: {_first_line(exc)}"
            self.log(f"{name}: {result}")
            finished = self._now()
            with self.engine.begin() as connection:
                kept = engine_state.finish(
                    connection,
                    name,
                    holder,  # type: ignore[arg-type]
                    now=finished,
                    next_run_at=job.schedule(now),
                    result=result,
                )
            if not kept:
                self._claim_lost(name)

    def _claim_lost(self, name: str) -> None:
        """Said, not swallowed: the run happened but its record belongs to the claim's new
        holder (idempotent jobs: at worst the work is done twice, never lost)."""
        self.log(
            f"{name}: this engine's claim was taken over while the job ran (declared dead?); "
            "its result is not recorded and the engine now holding the job decides its next run"
        )

    def send_due(self) -> None:
        if self.stop.is_set() or not self._transports():
            return
        with self.engine.connect() as connection:
            if not send_queue.due_messages(connection, self._as_of(), 1, None):
                return
        fixed = self.options.as_of
        report = self.interaction.send(
            SendOptions(
                as_of=(lambda: fixed) if fixed else self._now,
                once=True,
                rate=self.options.rate,
                limit=self.options.send_batch,
                reclaim_after=self.options.reclaim_after,
                stop=self.stop.is_set,
            ),
            transports=self._transports(),
        )
        if report.sent or report.retried or report.failed or report.reclaimed or report.expired:
            line = f"sent {report.sent}"
            for label, value in (
                ("retrying", report.retried),
                ("failed", report.failed),
                ("reclaimed", report.reclaimed),
                ("held expired", report.expired),
            ):
                if value:
                    line += f", {label} {value}"
            self.log(line)
            for error in report.errors[:5]:
                self.log(f"  {error}")
        # Sender.run closes the transports: build them afresh for the next tick.
        self.transports = None

    def _transports(self) -> dict:
        if self.transports is None:
            self.transports = self.interaction.transports()
        return self.transports

    # --- heartbeat and warnings -------------------------------------------------------------

    def _heartbeat(self) -> None:
        every = max(self.options.stale_after.total_seconds() / 6, 0.2)
        while not self.stop.wait(every):
            try:
                with self.engine.begin() as connection:
                    alive = engine_state.heartbeat(
                        connection, self.instance_id, self._now(), self.options.stale_after
                    )  # type: ignore[arg-type]
            except Exception as exc:  # the next beat may get through
                self.log(f"heartbeat failed: {type(exc).__name__}")
                continue
            if not alive:
                self._taken_over()

    def _taken_over(self) -> None:
        """Another engine declared this one dead (it was silent past the lease: paused,
        SIGSTOPped, starved) and freed its claims. On PostgreSQL engines share the store: this
        one registers again and goes on. On SQLite only one engine may run: this one stops
        with a failure, so its supervisor restarts it (refused while the other is alive)."""
        old = self.instance_id
        if self.engine.dialect.name == "postgresql":
            with self.engine.begin() as connection:
                registration = engine_state.register(
                    connection,
                    host=socket.gethostname(),
                    pid=os.getpid(),
                    now=self._now(),
                    stale_after=self.options.stale_after,
                    exclusive=False,
                )
            self.instance_id = registration.instance_id
            self.log(
                f"engine {old} was declared dead by another engine (silent longer than "
                f"{self.options.stale_after.total_seconds():.0f} s: paused or starved?); "
                f"registered again as engine {self.instance_id} and going on"
            )
            return
        self.taken_over = (
            f"engine {old} was declared dead by another engine on this SQLite store (silent "
            f"longer than {self.options.stale_after.total_seconds():.0f} s: paused or "
            "starved?) and the store has one engine at a time: stopping with a failure"
        )
        self.log(self.taken_over)
        self.stop.set()

    def _where(self) -> str:
        url = self.engine.url
        return f"{url.get_backend_name()} store {url.database or ''}".strip()

    def _warnings(self) -> None:
        if not self._transports():
            self.log(
                "warning: no delivery configured (RELMARK_SMTP_HOST or RELMARK_WEBHOOK_URL): "
                "planning only, nothing is sent"
            )
        from relmark.send_warnings import send_warnings

        for warning in send_warnings(self.interaction.branding()):
            self.log(f"warning: {warning}")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else ""
