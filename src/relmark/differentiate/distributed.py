"""The value pipeline on Apache Spark: the same code, run where the data is.

A customer's summary and scores depend on that customer's transactions alone, so Spark
partitions the transactions by customer and runs relmark's own Polars functions
(`rfm_summary`, `score_customers`) on each partition through Arrow (`mapInArrow`). The fit
needs only the distinct (frequency, recency, T) rows and their counts: Spark groups them, the
driver fits with the same models (`fit_distinct`). Nothing is reimplemented for Spark, so the
results equal a local run's (tested).

What stays with the store pipeline: RFM quintiles and profit deciles rank customers against
each other and are computed on the gathered scores.

pyspark is an optional extra (`pip install relmark[spark]`, Java 17+); this module imports it
only when called.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from relmark.differentiate.clv import ValueSettings, score_customers
from relmark.differentiate.models import TRANSACTION_MODELS, GammaGamma
from relmark.differentiate.models.transaction import TransactionModel
from relmark.differentiate.summary import TimeUnit, rfm_summary
from relmark.errors import InvalidInput

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import DataFrame, SparkSession

SUMMARY_COLUMNS = (
    "frequency bigint, recency double, T double, monetary_value double, "
    "first_purchase timestamp, last_purchase timestamp, orders bigint, revenue double"
)
SCORE_COLUMNS = "p_alive double, expected_purchases double, expected_spend double, clv double"


def local_session(cores: int = 2, *, app: str = "relmark") -> SparkSession:
    """A local Spark session set up the way relmark's tests and benchmarks run it."""
    from pyspark.sql import SparkSession

    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    return (
        SparkSession.builder.master(f"local[{cores}]")
        .appName(app)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", str(cores))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.warehouse.dir", tempfile.mkdtemp(prefix="relmark-spark-"))
        .config("spark.driver.host", "127.0.0.1")
        .getOrCreate()
    )


def summarise(
    transactions: DataFrame,
    *,
    as_of: datetime,
    time_unit: TimeUnit = "week",
    partitions: int | None = None,
) -> DataFrame:
    """Per-customer summary (as `rfm_summary`) of a Spark DataFrame of transactions
    (customer_id, timestamp, amount), computed by `rfm_summary` on each partition."""
    missing = [c for c in ("customer_id", "timestamp", "amount") if c not in transactions.columns]
    if missing:
        raise InvalidInput.single(
            "transactions",
            f"required column {missing[0]!r} is missing (have: {', '.join(transactions.columns)})",
        )
    key = transactions.schema["customer_id"].dataType.simpleString()
    from pyspark.sql import functions as F

    selected = transactions.select(
        "customer_id", "timestamp", F.col("amount").cast("double").alias("amount")
    )
    spread = (
        selected.repartition(partitions, "customer_id")
        if partitions
        else selected.repartition("customer_id")
    )

    def per_partition(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        frames = [pl.from_arrow(batch) for batch in batches]
        frames = [f for f in frames if isinstance(f, pl.DataFrame) and f.height]
        if not frames:
            return
        frame = pl.concat(frames)
        stamp = frame.schema["timestamp"]
        # Spark hands timestamps over in its session's time zone; days are counted in UTC
        utc = (
            pl.col("timestamp").dt.convert_time_zone("UTC")
            if isinstance(stamp, pl.Datetime) and stamp.time_zone
            else pl.col("timestamp").dt.replace_time_zone("UTC")
        )
        summary = rfm_summary(frame.with_columns(utc), as_of=as_of, time_unit=time_unit)
        yield from (
            summary.with_columns(pl.col("frequency", "orders").cast(pl.Int64))
            .to_arrow()
            .to_batches()
        )

    return spread.mapInArrow(per_partition, f"customer_id {key}, {SUMMARY_COLUMNS}")


def fit(summary: DataFrame, model: str = "bgnbd") -> tuple[TransactionModel, GammaGamma]:
    """Fit a purchase model and Gamma-Gamma on the driver from the distinct rows Spark counts."""
    if model not in TRANSACTION_MODELS:
        raise InvalidInput.single(
            "model", f"{model!r} is not one of {', '.join(TRANSACTION_MODELS)}"
        )
    from pyspark.sql import functions as F

    rows = summary.groupBy("frequency", "recency", "T").count().toArrow()
    purchases = TRANSACTION_MODELS[model]()
    purchases.fit_distinct(*(_column(rows, c) for c in ("frequency", "recency", "T", "count")))
    repeat = (
        summary.where(F.col("frequency") > 0)
        .groupBy("frequency", "monetary_value")
        .count()
        .toArrow()
    )
    spend = GammaGamma()
    spend.fit_distinct(*(_column(repeat, c) for c in ("frequency", "monetary_value", "count")))
    return purchases, spend


def score(
    summary: DataFrame,
    purchases: TransactionModel,
    spend: GammaGamma,
    settings: ValueSettings,
) -> DataFrame:
    """`summary` with P(alive), expected purchases, expected spend and CLV, computed by
    `score_customers` on each Arrow batch (the fitted models travel to the executors)."""

    def per_batch(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            frame = pl.from_arrow(batch)
            assert isinstance(frame, pl.DataFrame)
            if frame.height:
                yield from (
                    score_customers(purchases, spend, frame, settings).to_arrow().to_batches()
                )

    columns = ", ".join(f"`{f.name}` {f.dataType.simpleString()}" for f in summary.schema.fields)
    return summary.mapInArrow(per_batch, f"{columns}, {SCORE_COLUMNS}")


def _column(table: pa.Table, name: str) -> np.ndarray:
    return table.column(name).to_numpy().astype(float)
