"""Seeded simulators of the buy-till-you-die and spend processes, for tests and benchmarks.

Each draws customers from known parameters, so that fits can be checked to recover them.
Vectorised over customers: one numpy pass per purchase round.
"""

from __future__ import annotations

import numpy as np
import polars as pl

Array = np.ndarray


def bgnbd_summary(
    rng: np.random.Generator, n: int, T: Array | float, r: float, alpha: float, a: float, b: float
) -> tuple[Array, Array, Array]:
    """(frequency, recency, T) of n customers observed for T periods after their first purchase."""
    horizon = np.broadcast_to(np.asarray(T, dtype=float), (n,)).copy()
    rate = rng.gamma(r, 1.0 / alpha, size=n)
    dropout = rng.beta(a, b, size=n)
    frequency, recency, clock = np.zeros(n), np.zeros(n), np.zeros(n)
    alive = np.ones(n, dtype=bool)
    while alive.any():
        clock = clock + rng.exponential(1.0 / np.maximum(rate, 1e-12))
        alive &= clock < horizon
        frequency += alive
        recency = np.where(alive, clock, recency)
        alive &= rng.random(n) >= dropout
    return frequency, recency, horizon


def pnbd_summary(
    rng: np.random.Generator,
    n: int,
    T: Array | float,
    r: float,
    alpha: float,
    s: float,
    beta: float,
) -> tuple[Array, Array, Array]:
    """(frequency, recency, T) under Pareto/NBD: exponential lifetimes with gamma rates."""
    horizon = np.broadcast_to(np.asarray(T, dtype=float), (n,)).copy()
    rate = rng.gamma(r, 1.0 / alpha, size=n)
    lifetime = rng.exponential(1.0 / rng.gamma(s, 1.0 / beta, size=n))
    end = np.minimum(horizon, lifetime)
    frequency, recency, clock = np.zeros(n), np.zeros(n), np.zeros(n)
    active = np.ones(n, dtype=bool)
    while active.any():
        clock = clock + rng.exponential(1.0 / np.maximum(rate, 1e-12))
        active &= clock < end
        frequency += active
        recency = np.where(active, clock, recency)
    return frequency, recency, horizon


def gamma_gamma_spend(
    rng: np.random.Generator, frequency: Array, p: float, q: float, gamma: float
) -> Array:
    """Mean repeat-transaction value of each customer (0 without repeats)."""
    frequency = np.asarray(frequency, dtype=int)
    nu = rng.gamma(q, 1.0 / gamma, size=frequency.size)
    total = rng.gamma(p * np.maximum(frequency, 1), 1.0 / nu)
    return np.where(frequency > 0, total / np.maximum(frequency, 1), 0.0)


def transactions(
    rng: np.random.Generator,
    n: int,
    *,
    days: int,
    r: float,
    alpha: float,
    a: float,
    b: float,
    p: float,
    q: float,
    gamma: float,
    start: np.datetime64 = np.datetime64("2024-01-01"),
) -> pl.DataFrame:
    """A transaction log (customer_id, timestamp, amount) from BG/NBD × Gamma-Gamma, in days.

    Customers join uniformly over the first half of the window; rates are per day.
    """
    first = rng.integers(0, days // 2, size=n).astype(float)
    rate = rng.gamma(r, 1.0 / alpha, size=n)
    dropout = rng.beta(a, b, size=n)
    nu = rng.gamma(q, 1.0 / gamma, size=n)
    who, when = [np.arange(n)], [first]
    clock, alive = first.copy(), np.ones(n, dtype=bool)
    while alive.any():
        alive &= rng.random(n) >= dropout
        clock = clock + rng.exponential(1.0 / np.maximum(rate, 1e-12))
        alive &= clock < days
        who.append(np.flatnonzero(alive))
        when.append(clock[alive])
    customer = np.concatenate(who)
    offset = np.concatenate(when)
    amount = np.round(rng.gamma(p, 1.0 / nu[customer]), 2)
    timestamp = start.astype("datetime64[us]") + (offset * 86_400e6).astype("timedelta64[us]")
    return pl.DataFrame(
        {
            "customer_id": customer.astype(np.int64),
            "timestamp": timestamp,
            "amount": amount,
        }
    ).with_columns(pl.col("timestamp").dt.replace_time_zone("UTC"))


#: The hostile small stores `small_store` makes: the shapes real small shops' exports took.
SMALL_STORES = (
    "no_churn",
    "homogeneous_churn",
    "heterogeneous_churn",
    "one_customer",
    "one_time_buyers",
    "one_day",
    "everyone_churns",
    "three_customers",
)


def small_store(
    rng: np.random.Generator, shape: str, *, customers: int = 75, days: int = 548
) -> pl.DataFrame:
    """A small shop's transaction log (customer_id, timestamp, amount) of a given shape, over
    `days` (18 months) ending on the last day: the data on which fits used to run away.

    Shapes (`SMALL_STORES`): nobody drops out; everyone drops out with the same probability
    after each purchase; drop-out varies between customers (about 45% buy only once); one
    customer; nobody buys twice; everyone bought on one day; everyone stopped buying in the
    first three months; three customers.
    """
    if shape not in SMALL_STORES:
        raise ValueError(f"unknown shape {shape!r}; one of {', '.join(SMALL_STORES)}")
    n = {"one_customer": 1, "three_customers": 3}.get(shape, customers)
    first = rng.integers(0, days // 2, size=n).astype(float)
    rate = rng.gamma(2.0, 1.0 / 80.0, size=n)  # one purchase every 40 days on average
    end = np.full(n, float(days))
    dropout = {
        "no_churn": np.zeros(n),
        "homogeneous_churn": np.full(n, 0.25),
        "heterogeneous_churn": rng.beta(0.6, 0.7, size=n),
        "one_time_buyers": np.ones(n),
    }.get(shape, np.full(n, 0.2))
    if shape == "everyone_churns":
        first = rng.integers(0, 30, size=n).astype(float)
        end = first + 90.0
        dropout = np.zeros(n)
    if shape == "one_day":
        first, rate = np.zeros(n), np.zeros(n)
    who, when = [np.arange(n)], [first]
    clock, alive = first.copy(), rate > 0
    while alive.any():
        alive &= rng.random(n) >= dropout
        clock = clock + rng.exponential(1.0 / np.maximum(rate, 1e-12))
        alive &= clock < end
        who.append(np.flatnonzero(alive))
        when.append(clock[alive])
    customer = np.concatenate(who)
    offset = np.concatenate(when)
    amount = np.round(rng.gamma(4.0, 10.0, size=customer.size), 2)
    start = np.datetime64("2024-01-01", "us")
    timestamp = start + (offset * 86_400e6).astype("timedelta64[us]")
    return pl.DataFrame(
        {"customer_id": customer.astype(np.int64), "timestamp": timestamp, "amount": amount}
    ).with_columns(pl.col("timestamp").dt.replace_time_zone("UTC"))
