"""`relmark score` on small and hostile stores, and P(alive) on the demo store (issue 11).

Part 1: for each small store (the three Shopify-like shapes of the tests, and hostile ones) the
whole `relmark score` process is run `--repeat` times: wall time (imports included) and peak
resident memory (GNU time), and the time of `pipeline.score` alone, in this process.
Part 2: the demo store scored with the default choice and with BG/NBD forced: mean P(alive) per
segment, one-time buyers gone over a year, and how many customers count as active.

    python benchmarks/scoring_small_stores.py [--repeat 3] [--demo-customers 5000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from relmark import pipeline
from relmark.differentiate.score import ScoreSettings
from relmark.store.db import make_engine
from relmark.store.migrate import ensure_current

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.differentiate.small_stores import DAYS, SHAPES, write_orders  # noqa: E402

AS_OF = "2026-10-01"
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "src")}


def stores() -> dict[str, list[list[float]]]:
    found = {name: make() for name, make in SHAPES.items()}
    found["one customer"] = [[10.0, 200.0, 400.0]]
    found["all one-time buyers"] = [[float(d)] for d in range(0, 540, 9)]
    found["all on one day"] = [[300.0, 300.0] for _ in range(40)]
    found["nobody churns"] = [[float(d) for d in range(c % 30, DAYS, 30)] for c in range(60)]
    found["everyone churns"] = [[c * 1.0, c + 10.0, c + 20.0] for c in range(60)]
    return found


def relmark(*args: str) -> subprocess.CompletedProcess[str]:
    command = ["/usr/bin/time", "-f", "%M %e", sys.executable, "-m", "relmark", *args]
    return subprocess.run(command, env=ENV, capture_output=True, text=True, check=False)


def small_stores(folder: Path, repeat: int) -> None:
    as_of = datetime.fromisoformat(AS_OF).replace(hour=23, minute=59, second=59, tzinfo=UTC)
    print("store | model | peak MB | process s (min-max) | pipeline.score s (min-max)")
    for name, histories in stores().items():
        slug = name.replace(" ", "_")
        db = f"sqlite:///{folder / slug}.db"
        orders = write_orders(folder / f"{slug}.csv", histories)
        relmark("import", "orders", str(orders), "--create-missing", "--db", db)
        peaks, walls, model = [], [], "?"
        for _ in range(repeat):
            done = relmark("score", "--db", db, "--as-of", AS_OF, "--json")
            kilobytes, seconds = done.stderr.strip().splitlines()[-1].split()
            peaks.append(int(kilobytes) / 1024)
            walls.append(float(seconds))
            model = json.loads(done.stdout)["model"] if done.returncode == 0 else "FAILED"
        engine = make_engine(db)
        inner = []
        for _ in range(repeat):
            started = time.perf_counter()
            pipeline.score(engine, as_of=as_of, settings=ScoreSettings(), now=as_of)
            inner.append(time.perf_counter() - started)
        engine.dispose()
        print(
            f"{name} | {model} | {max(peaks):.0f} | {min(walls):.1f}-{max(walls):.1f} | "
            f"{min(inner):.2f}-{max(inner):.2f}"
        )


def demo(folder: Path, customers: int) -> None:
    from relmark.demo.build import load, write_files
    from relmark.demo.generate import generate

    as_of = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
    engine = make_engine(f"sqlite:///{folder / 'demo.db'}")
    ensure_current(engine)
    data = generate(customers, 42, as_of)
    write_files(data, folder)
    load(engine, data, folder, now=as_of)
    pipeline.identify(engine, now=as_of)
    for model in (None, "bgnbd"):
        report = pipeline.score(engine, as_of=as_of, settings=ScoreSettings(model=model), now=as_of)
        forced = model or "(default)"
        print(f"\ndemo, {customers:,} customers, --model {forced}: {report.run['model']}")
        with engine.connect() as connection:
            by_segment = connection.execute(
                text(
                    "SELECT segment, COUNT(*), AVG(p_alive) FROM customer_scores "
                    "WHERE run_id = :r GROUP BY segment ORDER BY 3 DESC"
                ),
                {"r": report.run_id},
            ).all()
            gone = connection.execute(
                text(
                    "SELECT COUNT(*), MAX(p_alive), AVG(p_alive) FROM customer_scores "
                    "WHERE run_id = :r AND frequency = 0 AND days_since_last > 365"
                ),
                {"r": report.run_id},
            ).one()
            active = connection.execute(
                text(
                    "SELECT SUM(CASE WHEN p_alive >= 0.5 THEN 1 ELSE 0 END), "
                    "SUM(CASE WHEN p_alive >= 0.5 AND days_since_last > 365 THEN 1 ELSE 0 END) "
                    "FROM customer_scores WHERE run_id = :r"
                ),
                {"r": report.run_id},
            ).one()
        print("  " + ", ".join(f"{s} {p:.0%}" for s, _, p in by_segment))
        print(f"  one-time buyers gone > 1 year: {gone[0]:,}, P(alive) max {gone[1]:.2f}")
        print(f"  active (P(alive) >= 0.5): {active[0]:,}, of them silent > 1 year: {active[1]:,}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--demo-customers", type=int, default=5000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        small_stores(Path(scratch), args.repeat)
        demo(Path(scratch), args.demo_customers)


if __name__ == "__main__":
    main()
