"""Catch-up speed: a plan after a 9-day outage against a normal daily plan (issue 13).

Goal: a plan that decides every occasion a gap left (late or `expired`) costs no more than
a few normal plans. Uses the store of benchmarks/interact.py (same generator, same size
options); for each case a fresh copy is planned once at the gap's start (untimed), then
planned as of 2026-11-20 09:00 UTC (timed).

    python benchmarks/catch_up.py [--customers 100000] [--orders 500000] [--gap 9]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from interact import AS_OF, DATA, build, interaction  # noqa: E402
from relmark.store.db import make_engine  # noqa: E402


def timed_plan(store: Path, gap_days: int | None) -> dict[str, object]:
    work = DATA / "catch-up-work.db"
    shutil.copyfile(store, work)
    for suffix in ("-wal", "-shm"):
        Path(str(work) + suffix).unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{work}")
    try:
        relmark = interaction(engine)
        if gap_days is not None:
            before = AS_OF - timedelta(days=gap_days)
            relmark.plan(before, before)
        started, cpu = time.perf_counter(), time.process_time()
        result = relmark.plan(AS_OF, AS_OF)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    finally:
        engine.dispose()
        work.unlink(missing_ok=True)
    return {
        "previous_plan_days_before": gap_days,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu, 2),  # all threads: less swayed by a loaded machine
        "candidates": result.candidates,
        "planned": result.planned,
        "expired": result.held.get("expired", 0),
        "expired_unsent": getattr(result, "expired_unsent", 0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--orders", type=int, default=500_000)
    parser.add_argument("--gap", type=int, default=9)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    DATA.mkdir(exist_ok=True)
    store = DATA / f"interact-{args.customers}-{args.orders}.db"
    if not store.exists():
        build(store, args.customers, args.orders)
    for _ in range(args.repeat):
        for gap in (None, 1, args.gap):
            print(json.dumps(timed_plan(store, gap)))


if __name__ == "__main__":
    main()
