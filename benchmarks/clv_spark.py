"""The value pipeline on Spark (local mode) against the same pipeline in one process.

The data are part 2 of `clv_models.py` (1,000,000 simulated customers, two years of daily
transactions, same seed). Spark runs relmark's own code on each partition
(`relmark.differentiate.distributed`); the script checks that it finds the same BG/NBD
parameters and the same total CLV as the in-process run, and prints both timings. Local
mode on two cores shows the path works at this size, not what a cluster would gain.

    python benchmarks/clv_spark.py [--customers 1000000] [--cores 2]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from relmark.differentiate import distributed, simulate
from relmark.differentiate.clv import ValueSettings, score_customers
from relmark.differentiate.models import BetaGeo, GammaGamma
from relmark.differentiate.summary import rfm_summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--cores", type=int, default=2)
    args = parser.parse_args()
    rng = np.random.default_rng(1)
    transactions = simulate.transactions(
        rng, args.customers, days=730, r=0.6, alpha=60.0, a=0.8, b=3.0, p=6.0, q=3.5, gamma=20.0
    )
    as_of = transactions["timestamp"].max()
    settings = ValueSettings(horizon_months=12, discount_rate=0.1, margin=1.0, time_unit="day")
    print(f"{args.customers:,} customers, {transactions.height:,} transactions")

    started = time.perf_counter()
    summary = rfm_summary(transactions, as_of=as_of, time_unit="day")
    x, tx, T, m = (
        summary[c].to_numpy().astype(float) for c in ("frequency", "recency", "T", "monetary_value")
    )
    purchases, spend = BetaGeo(), GammaGamma()
    purchases.fit(x, tx, T)
    spend.fit(x, m)
    local = score_customers(purchases, spend, summary, settings)
    local_seconds = time.perf_counter() - started

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "transactions.parquet"
        transactions.write_parquet(path)
        spark = distributed.local_session(args.cores, app="relmark-bench")
        frame = spark.read.parquet(str(path))
        frame.count()  # read once, outside the timing
        started = time.perf_counter()
        remote_summary = distributed.summarise(frame, as_of=as_of, time_unit="day").cache()
        remote_purchases, remote_spend = distributed.fit(remote_summary, "bgnbd")
        scores = distributed.score(remote_summary, remote_purchases, remote_spend, settings)
        total_clv = scores.agg({"clv": "sum"}).collect()[0][0]
        spark_seconds = time.perf_counter() - started
        spark.stop()

    assert remote_purchases.fit_ is not None
    same = np.allclose(remote_purchases.params, purchases.params, rtol=1e-9)
    local_clv = float(local["clv"].sum())
    print("| run | summary + BG/NBD and Gamma-Gamma fits + scores of everyone |")
    print("|---|---|")
    print(f"| relmark in one process (Polars + numpy) | {local_seconds:.1f} s |")
    label = f"relmark on Spark local[{args.cores}], same code per partition"
    print(f"| {label} | {spark_seconds:.1f} s |")
    print(
        f"\nsame BG/NBD parameters: {same} ({remote_purchases.fit_.params}); total CLV "
        f"{total_clv:,.2f} on Spark, {local_clv:,.2f} in process "
        f"(relative difference {abs(total_clv - local_clv) / local_clv:.1e})"
    )
    assert same
    assert abs(total_clv - local_clv) <= 1e-9 * abs(local_clv)


if __name__ == "__main__":
    main()
