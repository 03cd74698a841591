"""Value-model speed and agreement: relmark against lifetimes and pymc-marketing.

Part 1, CDNOW (Fader-Hardie-Lee set-up): fit BG/NBD, Pareto/NBD, MBG/NBD and Gamma-Gamma
with each library; compare fit time, parameters, the log-likelihood each optimum reaches
(evaluated with relmark's likelihood), and lifetimes' predictions at lifetimes' own
parameters against relmark's at the same parameters.
Part 2, 1,000,000 simulated customers (BG/NBD × Gamma-Gamma, two years of daily data):
summary, BG/NBD fit and scoring of everyone; relmark's peak memory.

Peers run in their own virtual environments (`make bench-clv` creates them):

    python benchmarks/clv_models.py [--customers 1000000] [--lifetimes PY] [--pymc PY]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl

from relmark.differentiate import simulate
from relmark.differentiate.clv import ValueSettings, score_customers
from relmark.differentiate.models import TRANSACTION_MODELS, GammaGamma
from relmark.differentiate.summary import calibration_and_holdout, rfm_summary
from relmark.enums import FileFormat
from relmark.ingest.transactions import read_transactions

HERE = Path(__file__).resolve().parent
CDNOW = HERE.parent / "tests" / "data" / "cdnow" / "CDNOW_sample.txt"
NAMES = {"bgnbd": "BG/NBD", "pnbd": "Pareto/NBD", "mbgnbd": "MBG/NBD", "gg": "Gamma-Gamma"}


def best_of(function, repeats: int = 5) -> tuple[object, float]:
    times, value = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        value = function()
        times.append(time.perf_counter() - started)
    return value, min(times)


def peer(python: str | None, script: str, task: str, path: Path) -> dict | None:
    if not python or not Path(python).exists():
        return None
    result = subprocess.run(
        [python, str(HERE / "peers" / script), task, str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        print(f"  ({script} failed: {result.stderr.strip().splitlines()[-1:]})")
        return None
    return json.loads(result.stdout.strip().splitlines()[-1])


def cdnow_part(args: argparse.Namespace, folder: Path) -> None:
    transactions = read_transactions(CDNOW, file_format=FileFormat.CDNOW)
    summary = calibration_and_holdout(
        transactions,
        calibration_end=datetime(1997, 9, 30, tzinfo=UTC),
        holdout_end=datetime(1998, 6, 30, tzinfo=UTC),
    )
    path = folder / "cdnow_summary.csv"
    summary.select("customer_id", "frequency", "recency", "T", "monetary_value").write_csv(path)
    x, tx, T = (summary[c].to_numpy().astype(float) for c in ("frequency", "recency", "T"))
    m = summary["monetary_value"].to_numpy()
    ours = {}
    for name, cls in TRANSACTION_MODELS.items():
        model = cls()
        fit, seconds = best_of(lambda model=model: model.fit(x, tx, T), repeats=15)
        ours[name] = {"model": model, "fit": fit, "seconds": seconds}
    gg = GammaGamma()
    fit, seconds = best_of(lambda: gg.fit(x, m), repeats=15)
    ours["gg"] = {"model": gg, "fit": fit, "seconds": seconds}
    lifetimes = peer(args.lifetimes, "lifetimes_peer.py", "cdnow", path)
    pymc = peer(args.pymc, "pymc_peer.py", "cdnow", path)
    print(
        "\n## CDNOW (2,357 customers): fit time, best of 15 for relmark, "
        "best of 5 for lifetimes, one MAP fit for pymc-marketing\n"
    )
    print(
        "| model | relmark | lifetimes | ratio | pymc-marketing (MAP) | ratio | "
        "LL relmark | LL lifetimes | LL pymc | max rel. diff of predictions vs lifetimes |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, mine in ours.items():
        row = [NAMES[name], f"{mine['seconds'] * 1000:.1f} ms"]
        lls = [f"{mine['fit'].log_likelihood:.4f}"]
        agreement = "-"
        for result in (lifetimes, pymc):
            theirs = result.get(name) if result else None
            if theirs is None:
                row += ["-", "-"]
                lls.append("-")
                continue
            row += [
                f"{theirs['seconds'] * 1000:.1f} ms",
                f"{theirs['seconds'] / mine['seconds']:.0f}×",
            ]
            lls.append(f"{_ll_at(name, theirs['params'], x, tx, T, m):.4f}")
            if result is lifetimes and "expected_purchases" in theirs:
                same = type(mine["model"]).with_params(**theirs["params"])
                diffs = [
                    _rel(same.expected_purchases(39.0, x, tx, T), theirs["expected_purchases"]),
                    _rel(same.probability_alive(x, tx, T), theirs["p_alive"]),
                ]
                agreement = f"{max(diffs):.1e}"
        print("| " + " | ".join(row + lls + [agreement]) + " |")


def _ll_at(name: str, params: dict, x, tx, T, m) -> float:
    if name == "gg":
        keep = x > 0
        values = np.array([params["p"], params["q"], params["gamma"]])
        return float(GammaGamma.loglik(values, (x[keep], m[keep]))[0].sum())
    model = TRANSACTION_MODELS[name].with_params(**params)
    return model.log_likelihood(x, tx, T)


def _rel(ours: np.ndarray, theirs: list) -> float:
    theirs_array = np.asarray(theirs, dtype=float)
    return float(np.max(np.abs(ours - theirs_array) / np.maximum(np.abs(theirs_array), 1e-12)))


def large_part(args: argparse.Namespace, folder: Path) -> None:
    rng = np.random.default_rng(1)
    transactions = simulate.transactions(
        rng, args.customers, days=730, r=0.6, alpha=60.0, a=0.8, b=3.0, p=6.0, q=3.5, gamma=20.0
    )
    path = folder / "transactions.parquet"
    transactions.write_parquet(path)
    print(f"\n## {args.customers:,} simulated customers, {transactions.height:,} transactions\n")
    child = subprocess.run(
        [sys.executable, __file__, "--relmark-large", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    mine = json.loads(child.stdout.strip().splitlines()[-1])
    theirs = None
    if args.lifetimes and Path(args.lifetimes).exists():
        csv = folder / "transactions.csv"
        transactions.with_columns(pl.col("timestamp").dt.replace_time_zone(None)).write_csv(csv)
        theirs = peer(args.lifetimes, "lifetimes_peer.py", "large", csv)
    print("| step | relmark | lifetimes | ratio |")
    print("|---|---|---|---|")
    for step, key in (
        ("summary from transactions", "summary_seconds"),
        ("BG/NBD fit", "fit_seconds"),
    ):
        other = f"{theirs[key]:.2f} s" if theirs else "-"
        ratio = f"{theirs[key] / mine[key]:.0f}×" if theirs else "-"
        print(f"| {step} | {mine[key]:.2f} s | {other} | {ratio} |")
    print(
        f"| score everyone: P(alive), expected purchases (12 months), CLV (12 months) | "
        f"{mine['score_seconds']:.2f} s | - | - |"
    )
    print(
        f"\nrelmark peak memory (whole process): {mine['peak_mb']:.0f} MB; "
        f"{mine['customers']:,} customers; BG/NBD {mine['params']}"
    )
    if theirs:
        print(f"lifetimes BG/NBD {theirs['params']}")


def relmark_large(path: str) -> None:
    """The relmark side of part 2, in its own process so that its peak memory is its own."""
    transactions = pl.read_parquet(path)
    end = transactions["timestamp"].max()
    summary, summary_seconds = best_of(
        lambda: rfm_summary(transactions, as_of=end, time_unit="day"), repeats=3
    )
    x, tx, T = (summary[c].to_numpy().astype(float) for c in ("frequency", "recency", "T"))
    model = TRANSACTION_MODELS["bgnbd"]()
    fit, fit_seconds = best_of(lambda: model.fit(x, tx, T), repeats=3)
    spend = GammaGamma()
    spend.fit(x, summary["monetary_value"].to_numpy())
    settings = ValueSettings(horizon_months=12, discount_rate=0.1, margin=1.0, time_unit="day")
    _, score_seconds = best_of(lambda: score_customers(model, spend, summary, settings), repeats=3)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "summary_seconds": summary_seconds,
                "fit_seconds": fit_seconds,
                "score_seconds": score_seconds,
                "peak_mb": peak,
                "customers": summary.height,
                "params": {k: round(v, 5) for k, v in fit.params.items()},
            }
        )
    )


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--relmark-large":
        relmark_large(sys.argv[2])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--lifetimes", default=str(HERE / ".venv-lifetimes" / "bin" / "python"))
    parser.add_argument("--pymc", default=str(HERE / ".venv-pymc" / "bin" / "python"))
    parser.add_argument("--skip-large", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        cdnow_part(args, Path(scratch))
        if not args.skip_large:
            large_part(args, Path(scratch))


if __name__ == "__main__":
    main()
