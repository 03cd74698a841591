"""Small shops' order histories, simulated (seeded numpy): the shapes default scoring failed on.

Measured on real Shopify exports (issue 11): 70-80 buyers over 18 months, with no churn, with
the same drop-out for everyone, or with heterogeneous drop-out and 34 one-time buyers.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

END = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)
DAYS = 548  # 18 months


def _buyer(
    rng: np.random.Generator, rate_per_day: float, drop_out: float, first: float
) -> list[float]:
    """Days of one buyer's purchases: Poisson purchases, and after each one a coin with
    probability `drop_out` that they never return (BG/NBD's story)."""
    days, day = [first], first
    while True:
        if rng.random() < drop_out:
            return days
        day += rng.exponential(1 / rate_per_day)
        if day >= DAYS:
            return days
        days.append(day)


def no_churn(seed: int = 1, buyers: int = 76) -> list[list[float]]:
    """Everyone keeps buying at their own pace."""
    rng = np.random.default_rng(seed)
    return [
        _buyer(rng, rng.gamma(1.5, 1 / 60), 0.0, rng.uniform(0, DAYS - 1)) for _ in range(buyers)
    ]


def homogeneous_churn(seed: int = 2, buyers: int = 74) -> list[list[float]]:
    """Everyone drops out after a purchase with the same probability."""
    rng = np.random.default_rng(seed)
    return [
        _buyer(rng, rng.gamma(1.5, 1 / 45), 0.25, rng.uniform(0, DAYS - 1)) for _ in range(buyers)
    ]


def heterogeneous_churn(seed: int = 3, one_time: int = 34, repeat: int = 44) -> list[list[float]]:
    """34 one-time buyers, and repeat buyers whose drop-out differs widely."""
    rng = np.random.default_rng(seed)
    histories = [[rng.uniform(0, DAYS - 1)] for _ in range(one_time)]
    while len(histories) < one_time + repeat:
        days = _buyer(rng, rng.gamma(1.2, 1 / 40), rng.beta(0.6, 1.8), rng.uniform(0, DAYS - 30))
        if len(days) > 1:
            histories.append(days)
    return histories


SHAPES = {
    "no churn": no_churn,
    "homogeneous churn": homogeneous_churn,
    "heterogeneous churn": heterogeneous_churn,
}


def write_orders(path: Path, histories: list[list[float]], seed: int = 0) -> Path:
    """An orders CSV (order_id, customer_id, ordered_at, amount) with gamma-distributed spend."""
    rng = np.random.default_rng(seed)
    start = END - timedelta(days=DAYS)
    lines = ["order_id,customer_id,ordered_at,amount"]
    number = 0
    for customer, days in enumerate(histories):
        mean = rng.gamma(4.0, 12.0)
        for day in days:
            number += 1
            when = start + timedelta(days=float(day))
            amount = max(0.0, rng.gamma(6.0, mean / 6.0))
            lines.append(f"{number},C{customer},{when.isoformat()},{amount:.2f}")
    path.write_text("\n".join(lines) + "\n")
    return path
