"""The value pipeline on a real (local) Spark gives what the local pipeline gives.

Runs when pyspark and Java are available; `RELMARK_TEST_SPARK=1` (set by `.ci/run`) turns a
missing Spark into a failure instead of a skip.
"""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from relmark.differentiate import distributed
from relmark.differentiate.clv import ValueSettings, score_customers
from relmark.differentiate.models import BetaGeo, GammaGamma, ParetoNBD
from relmark.differentiate.summary import rfm_summary
from relmark.errors import InvalidInput

from .conftest import CALIBRATION_END, cdnow_transactions

REQUIRED = os.environ.get("RELMARK_TEST_SPARK") == "1"


@pytest.fixture(scope="module")
def spark():
    problem = None
    try:
        import pyspark  # noqa: F401
    except ImportError:
        problem = "pyspark is not installed (pip install relmark[spark])"
    if problem is None and shutil.which("java") is None:
        problem = "Java is not installed (Spark needs Java 17+)"
    if problem:
        if REQUIRED:
            pytest.fail(f"RELMARK_TEST_SPARK=1 but {problem}")
        pytest.skip(problem)
    session = distributed.local_session(2, app="relmark-tests")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def calibration() -> pl.DataFrame:
    frame = cdnow_transactions()
    return frame.filter(pl.col("timestamp") <= CALIBRATION_END)


def spark_frame(spark, frame: pl.DataFrame):
    return spark.createDataFrame(frame.to_arrow())


def collected(frame) -> pl.DataFrame:
    result = pl.from_arrow(frame.toArrow())
    assert isinstance(result, pl.DataFrame)
    return result.sort("customer_id")


@pytest.mark.parametrize("partitions", [None, 7])
def test_summary_on_spark_equals_the_local_summary(spark, calibration, partitions) -> None:
    local = rfm_summary(calibration, as_of=CALIBRATION_END, time_unit="week")

    remote = collected(
        distributed.summarise(
            spark_frame(spark, calibration),
            as_of=CALIBRATION_END,
            time_unit="week",
            partitions=partitions,
        )
    )

    assert remote.height == local.height == 2357
    for column in ("customer_id", "frequency", "orders", "first_purchase", "last_purchase"):
        assert remote[column].cast(local[column].dtype).to_list() == local[column].to_list()
    for column in ("recency", "T", "monetary_value", "revenue"):
        np.testing.assert_allclose(remote[column].to_numpy(), local[column].to_numpy(), rtol=1e-12)


def test_a_session_in_another_time_zone_counts_the_same_days(spark, calibration) -> None:
    local = rfm_summary(calibration, as_of=CALIBRATION_END, time_unit="week")
    spark.conf.set("spark.sql.session.timeZone", "Asia/Kuala_Lumpur")
    try:
        remote = collected(
            distributed.summarise(
                spark_frame(spark, calibration), as_of=CALIBRATION_END, time_unit="week"
            )
        )
    finally:
        spark.conf.set("spark.sql.session.timeZone", "UTC")

    np.testing.assert_allclose(remote["recency"].to_numpy(), local["recency"].to_numpy())
    np.testing.assert_allclose(remote["T"].to_numpy(), local["T"].to_numpy())
    assert remote["frequency"].to_list() == local["frequency"].cast(pl.Int64).to_list()


@pytest.mark.parametrize("model", ["bgnbd", "pnbd"])
def test_fit_on_spark_equals_the_local_fit(spark, calibration, model) -> None:
    summary = distributed.summarise(
        spark_frame(spark, calibration), as_of=CALIBRATION_END, time_unit="week"
    )
    local = rfm_summary(calibration, as_of=CALIBRATION_END, time_unit="week")
    reference = {"bgnbd": BetaGeo, "pnbd": ParetoNBD}[model]()
    reference.fit(*(local[c].to_numpy().astype(float) for c in ("frequency", "recency", "T")))
    reference_spend = GammaGamma()
    reference_spend.fit(local["frequency"].to_numpy(), local["monetary_value"].to_numpy())

    purchases, spend = distributed.fit(summary, model)

    assert purchases.fit_ is not None
    assert reference.fit_ is not None
    assert purchases.fit_.n_customers == 2357
    assert purchases.fit_.log_likelihood == pytest.approx(reference.fit_.log_likelihood, rel=1e-12)
    np.testing.assert_allclose(purchases.params, reference.params, rtol=1e-9)
    np.testing.assert_allclose(spend.params, reference_spend.params, rtol=1e-9)
    if model == "bgnbd":  # the published CDNOW estimates
        np.testing.assert_allclose(purchases.params, [0.243, 4.414, 0.793, 2.426], rtol=5e-3)


def test_scores_on_spark_equal_the_local_scores(spark, calibration) -> None:
    summary = distributed.summarise(
        spark_frame(spark, calibration), as_of=CALIBRATION_END, time_unit="week"
    )
    purchases, spend = distributed.fit(summary, "bgnbd")
    settings = ValueSettings(horizon_months=12, discount_rate=0.1, margin=0.3, time_unit="week")

    remote = collected(distributed.score(summary, purchases, spend, settings))
    local = score_customers(
        purchases,
        spend,
        rfm_summary(calibration, as_of=CALIBRATION_END, time_unit="week"),
        settings,
    ).sort("customer_id")

    assert remote["customer_id"].to_list() == local["customer_id"].to_list()
    for column in ("p_alive", "expected_purchases", "expected_spend", "clv"):
        np.testing.assert_allclose(remote[column].to_numpy(), local[column].to_numpy(), rtol=1e-10)
    assert remote["clv"].sum() > 0


def test_bad_transactions_fail_on_spark_with_the_local_message(spark, calibration) -> None:
    late = calibration.head(3).with_columns(
        (pl.col("timestamp") + timedelta(days=400)).alias("timestamp")
    )
    frame = spark_frame(spark, pl.concat([calibration, late]))

    with pytest.raises(Exception, match="transactions are after as_of"):
        distributed.summarise(frame, as_of=CALIBRATION_END).count()
    with pytest.raises(InvalidInput, match="required column 'amount' is missing"):
        distributed.summarise(frame.drop("amount"), as_of=CALIBRATION_END)
    with pytest.raises(InvalidInput, match="'xyz' is not one of"):
        distributed.fit(frame, "xyz")


def test_a_simulated_store_over_many_partitions_gives_the_local_result(spark) -> None:
    from relmark.differentiate import simulate

    rng = np.random.default_rng(4)
    transactions = simulate.transactions(
        rng, 20_000, days=365, r=0.6, alpha=60.0, a=0.8, b=3.0, p=6.0, q=3.5, gamma=20.0
    )
    as_of = datetime(2025, 1, 1, tzinfo=UTC)
    settings = ValueSettings(horizon_months=6, discount_rate=0.1, margin=1.0, time_unit="day")
    summary = distributed.summarise(
        spark.createDataFrame(transactions.to_arrow()),
        as_of=as_of,
        time_unit="day",
        partitions=16,
    )
    purchases, spend = distributed.fit(summary, "bgnbd")
    remote = collected(distributed.score(summary, purchases, spend, settings))

    local_summary = rfm_summary(transactions, as_of=as_of, time_unit="day")
    reference = BetaGeo()
    reference.fit(
        *(local_summary[c].to_numpy().astype(float) for c in ("frequency", "recency", "T"))
    )
    assert remote.height == local_summary.height == transactions["customer_id"].n_unique()
    np.testing.assert_allclose(purchases.params, reference.params, rtol=1e-9)
    local = score_customers(purchases, spend, local_summary, settings).sort("customer_id")
    np.testing.assert_allclose(remote["clv"].to_numpy(), local["clv"].to_numpy(), rtol=1e-10)
