"""BG/NBD in weeks and in days against lifetimes: the fit alone, and the whole process.

For each size (default 200,000 and 1,000,000 simulated customers, two years of daily data)
and each unit:
- fit: relmark and lifetimes fit BG/NBD on the same (frequency, recency, T) — relmark's
  summary, written to CSV for lifetimes — best of 3 each, and the parameters compared;
- whole process: `relmark clv fit --transactions FILE.csv --time-unit UNIT --json` as a user
  runs it, against a lifetimes script that reads the same CSV with pandas, summarises it
  (`summary_data_from_transaction_data`, freq "D", `freq_multiplier` 7 for weeks) and fits;
  wall time and peak memory (ru_maxrss of each child process), and relmark's in-process
  part (read, summary, fit; without the library imports).

    python benchmarks/clv_time_unit.py [--customers 200000 1000000] [--lifetimes PY]

The lifetimes environment is made by `make bench-clv` (benchmarks/.venv-lifetimes).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
import polars as pl

HERE = Path(__file__).resolve().parent
RELMARK = Path(sys.executable).with_name("relmark")

PEER = r"""
import json, sys, time
started = time.perf_counter()
import pandas as pd
from lifetimes import BetaGeoFitter
from lifetimes.utils import summary_data_from_transaction_data
mode, path, unit, end = sys.argv[1:5]
multiplier = 7 if unit == "week" else 1
if mode == "fit":
    data = pd.read_csv(path)
    best = float("inf")
    for _ in range(3):
        model = BetaGeoFitter()
        t = time.perf_counter()
        model.fit(data["frequency"], data["recency"], data["T"])
        best = min(best, time.perf_counter() - t)
    params = {k: float(model.params_[k]) for k in ("r", "alpha", "a", "b")}
    print(json.dumps({"seconds": best, "params": params}))
else:
    frame = pd.read_csv(path, parse_dates=["date"])
    summary = summary_data_from_transaction_data(
        frame, "customer_id", "date", observation_period_end=end, freq="D",
        freq_multiplier=multiplier,
    )
    model = BetaGeoFitter().fit(summary["frequency"], summary["recency"], summary["T"])
    print(json.dumps({"params": {k: float(model.params_[k]) for k in ("r", "alpha", "a", "b")}}))
"""

IN_PROCESS = r"""
import json, sys, time
from datetime import datetime, UTC
from pathlib import Path
from relmark.differentiate.analysis import fit_transactions
from relmark.ingest.transactions import read_transactions
path, unit, end = sys.argv[1:4]
started = time.perf_counter()
frame = read_transactions(Path(path))
read = time.perf_counter()
result = fit_transactions(
    frame, model="bgnbd", calibration_end=datetime.fromisoformat(end).replace(tzinfo=UTC),
    time_unit=unit,
)
done = time.perf_counter()
print(json.dumps({"read": read - started, "summary_and_fit": done - read, "total": done - started}))
"""


#: Runs a command and prints its own peak memory. A child's ru_maxrss on Linux starts from
#: the memory of the process that forked it (exec records the old image's high-water mark),
#: so children are started from this small launcher, not from the benchmark's large process.
LAUNCH = r"""
import os, subprocess, sys
child = subprocess.Popen(sys.argv[1:])
_, status, usage = os.wait4(child.pid, 0)
print(f"maxrss_kb={usage.ru_maxrss}", file=sys.stderr)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_measured(command: list[str]) -> tuple[str, float, float]:
    """stdout, wall seconds and peak resident memory (MB) of exactly this command."""
    started = time.perf_counter()
    child = subprocess.run(
        [sys.executable, "-c", LAUNCH, *command], capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - started
    if child.returncode:
        raise SystemExit(f"{command[:3]} failed: {child.stderr[-2000:]}")
    kilobytes = int(child.stderr.rsplit("maxrss_kb=", 1)[1].split()[0])
    return child.stdout, seconds, kilobytes / 1024


def simulate_csv(customers: int, folder: Path) -> tuple[Path, str]:
    from relmark.differentiate import simulate

    rng = np.random.default_rng(1)
    log = simulate.transactions(
        rng, customers, days=730, r=0.6, alpha=60.0, a=0.8, b=3.0, p=6.0, q=3.5, gamma=20.0
    )
    end = (log["timestamp"].max() + timedelta(days=1)).date().isoformat()
    path = folder / f"transactions_{customers}.csv"
    log.select("customer_id", pl.col("timestamp").dt.date().alias("date"), "amount").write_csv(path)
    return path, end


def fit_part(lifetimes: str, path: Path, unit: str, end: str, folder: Path) -> dict:
    from datetime import UTC, datetime

    from relmark.differentiate.models import BetaGeo
    from relmark.differentiate.summary import rfm_summary
    from relmark.ingest.transactions import read_transactions

    frame = read_transactions(path)
    summary = rfm_summary(
        frame, as_of=datetime.fromisoformat(end).replace(tzinfo=UTC), time_unit=unit
    )
    columns = [summary[c].to_numpy().astype(float) for c in ("frequency", "recency", "T")]
    best, fit = float("inf"), None
    for _ in range(3):
        started = time.perf_counter()
        fit = BetaGeo().fit(*columns)
        best = min(best, time.perf_counter() - started)
    assert fit is not None
    rows = folder / f"summary_{unit}.csv"
    summary.select("frequency", "recency", "T").write_csv(rows)
    out, _, _ = run_measured([lifetimes, "-c", PEER, "fit", str(rows), unit, end])
    theirs = json.loads(out.strip().splitlines()[-1])
    difference = max(
        abs(fit.params[k] - theirs["params"][k]) / abs(theirs["params"][k]) for k in fit.params
    )
    return {"relmark": best, "lifetimes": theirs["seconds"], "difference": difference}


def process_part(lifetimes: str, path: Path, unit: str, end: str) -> dict:
    command = [str(RELMARK), "clv", "fit", "--transactions", str(path)]
    command += ["--calibration-end", end, "--time-unit", unit, "--json"]
    _, mine, mine_mb = run_measured(command)
    inside, _, _ = run_measured([sys.executable, "-c", IN_PROCESS, str(path), unit, end])
    _, theirs, theirs_mb = run_measured([lifetimes, "-c", PEER, "process", str(path), unit, end])
    return {
        "relmark": mine,
        "relmark_mb": mine_mb,
        "in_process": json.loads(inside.strip().splitlines()[-1]),
        "lifetimes": theirs,
        "lifetimes_mb": theirs_mb,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, nargs="+", default=[200_000, 1_000_000])
    parser.add_argument("--units", nargs="+", default=["week", "day"])
    parser.add_argument("--lifetimes", default=str(HERE / ".venv-lifetimes" / "bin" / "python"))
    args = parser.parse_args()
    print(
        "| customers | unit | fit relmark | fit lifetimes | ratio | max rel. param diff | "
        "process relmark (in-process) | process lifetimes | ratio (in-process) | "
        "peak MB relmark | peak MB lifetimes |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        for customers in args.customers:
            path, end = simulate_csv(customers, folder)
            for unit in args.units:
                fit = fit_part(args.lifetimes, path, unit, end, folder)
                whole = process_part(args.lifetimes, path, unit, end)
                inside = whole["in_process"]["total"]
                print(
                    f"| {customers:,} | {unit} | {fit['relmark']:.3f} s | "
                    f"{fit['lifetimes']:.2f} s | {fit['lifetimes'] / fit['relmark']:.0f}× | "
                    f"{fit['difference']:.1e} | {whole['relmark']:.2f} s ({inside:.2f} s) | "
                    f"{whole['lifetimes']:.2f} s | {whole['lifetimes'] / whole['relmark']:.1f}× "
                    f"({whole['lifetimes'] / inside:.1f}×) | {whole['relmark_mb']:.0f} | "
                    f"{whole['lifetimes_mb']:.0f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
