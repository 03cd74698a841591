"""A few of the demo's new customers came on a friend's recommendation: their first order
carries a referrer's code (as an order file's `referral_code` column would), attributed by
the store's own rule. Two codes are typed where they should not be (a customer's own code,
a friend's code on a repeat order), so the referrals pages show rejections with a reason."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import polars as pl
from sqlalchemy import Connection, text

from relmark.store import referrals
from relmark.store.bulk import fetch_frame
from relmark.store.referral_models import ReferralVia

#: Of the customers whose first order falls in the demo's recent history, the share who
#: arrived with a friend's code (at least MIN_REFERRED, when there are that many).
REFERRED_SHARE = 0.05
MIN_REFERRED = 3
#: How many regular customers recommend the shop: the ambassadors.
AMBASSADORS = 8

_ORDERS = text(
    "SELECT d.id AS order_id, COALESCE(c.merged_into_id, c.id) AS customer_id, "
    "d.ordered_at, d.status FROM orders d JOIN customers c ON c.id = d.customer_id"
)
_SCHEMA = {
    "order_id": pl.Int64,
    "customer_id": pl.Int64,
    "ordered_at": pl.Datetime("us", "UTC"),
    "status": pl.String,
}


def refer_friends(
    connection: Connection, rng: np.random.Generator, since: datetime, end: datetime
) -> dict[str, int]:
    """Attribute referred first orders placed from `since` to `end`, and two refused ones;
    how many referrals ended pending and rejected right away."""
    orders = fetch_frame(connection, _ORDERS, _SCHEMA).sort("customer_id", "ordered_at", "order_id")
    ranked = orders.with_columns(nth=pl.int_range(pl.len()).over("customer_id"))
    in_window = pl.col("ordered_at").is_between(since, end, closed="left")
    firsts = ranked.filter((pl.col("nth") == 0) & in_window).sort("order_id")
    regulars = (
        ranked.filter(pl.col("status") == "completed")
        .group_by("customer_id")
        .agg(pl.len().alias("n"), pl.col("ordered_at").min().alias("first"))
        .filter((pl.col("n") >= 2) & (pl.col("first") < since))
        .sort("customer_id")["customer_id"]
    )
    if firsts.is_empty() or regulars.len() < 2:
        return {"pending": 0, "rejected": 0}
    pool = rng.choice(regulars.to_numpy(), size=min(AMBASSADORS, regulars.len()), replace=False)
    codes = {int(c): _code_id(connection, int(c), since) for c in pool}
    wanted = min(firsts.height, max(MIN_REFERRED, round(firsts.height * REFERRED_SHARE)))
    picked = np.sort(rng.choice(firsts.height, size=wanted, replace=False))
    referred = firsts[picked]
    items = [
        (int(order), codes[int(rng.choice(pool))], at)
        for order, at in zip(referred["order_id"], referred["ordered_at"], strict=True)
    ]
    items += _misused(ranked, in_window, pool, codes)
    outcome = {"pending": 0, "rejected": 0}
    for order_id, code_id, at in items:
        made = referrals.attribute(
            connection, order_id=order_id, code_id=code_id, via=ReferralVia.IMPORT, now=at
        )
        if made is not None:
            outcome[made[1]] = outcome.get(made[1], 0) + 1
    return outcome


def _code_id(connection: Connection, customer_id: int, at: datetime) -> int:
    """The ambassador's referral code (made when they first shared it), by id."""
    found = referrals.find_code(connection, referrals.code_for(connection, customer_id, at))
    assert found is not None  # just made or read: it exists
    return found[0]


def _misused(
    ranked: pl.DataFrame, in_window: pl.Expr, pool: np.ndarray, codes: dict[int, int]
) -> list[tuple[int, int, datetime]]:
    """An ambassador's own code on their own later order (a self-referral), and an
    ambassador's code on a regular customer's repeat order (the referee was not new)."""
    later = ranked.filter(in_window & (pl.col("nth") > 0)).sort("order_id")
    ambassadors = pool.tolist()
    own = later.filter(pl.col("customer_id").is_in(ambassadors)).head(1)
    repeat = later.filter(
        ~pl.col("customer_id").is_in(ambassadors) & (pl.col("status") == "completed")
    ).head(1)
    misused = [
        (int(r["order_id"]), codes[int(r["customer_id"])], r["ordered_at"])
        for r in own.iter_rows(named=True)
    ]
    misused += [
        (int(r["order_id"]), codes[ambassadors[0]], r["ordered_at"])
        for r in repeat.iter_rows(named=True)
    ]
    return misused
