"""Demo behaviour: who buys what and when, who calls support, who posts about the shop.

Purchases follow a buy-till-you-die process with known parameters (BG/NBD: Poisson purchases
at rate λ ~ Gamma(r, α) per week while alive; after each purchase the customer drops out
with probability p ~ Beta(a, b)); order values follow a Gamma-Gamma spend process
(transaction value ~ Gamma(shape=P, rate=ν), ν ~ Gamma(shape=Q, rate=G)). Everything is
vectorised over customers with numpy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import polars as pl

from relmark.demo import catalog
from relmark.demo.locales import to_latin
from relmark.demo.texts import (
    MENTION_KINDS,
    MENTIONS,
    PLATFORMS,
    SUPPORT_CHANNELS,
    SUPPORT_REASONS,
)


@dataclass(frozen=True)
class BuyTillYouDie:
    """Known parameters the demo store is drawn from (weeks; dollars)."""

    r: float = 0.85
    alpha: float = 9.0
    a: float = 0.9
    b: float = 3.2
    p: float = 6.0
    q: float = 3.5
    gamma: float = 23.0


PARAMS = BuyTillYouDie()
WEEK = np.timedelta64(7 * 24 * 3600, "s")


def purchase_times(
    rng: np.random.Generator, first: np.ndarray, end: np.datetime64, params: BuyTillYouDie = PARAMS
) -> tuple[np.ndarray, np.ndarray]:
    """(customer index, purchase time) of every purchase, first purchases included."""
    n = first.size
    rate = rng.gamma(params.r, 1.0 / params.alpha, size=n)  # purchases per week
    dropout = rng.beta(params.a, params.b, size=n)
    alive = first < end
    who = [np.flatnonzero(alive)]
    when = [first[alive]]
    current = first.copy()
    while alive.any():
        alive &= rng.random(n) >= dropout  # may drop out after each purchase
        gaps = rng.exponential(1.0 / np.maximum(rate, 1e-9), size=n)
        current = current + (gaps * WEEK / np.timedelta64(1, "s")).astype("timedelta64[s]")
        alive &= current < end
        who.append(np.flatnonzero(alive))
        when.append(current[alive])
    return np.concatenate(who), np.concatenate(when)


def make_orders(
    rng: np.random.Generator,
    customers: pl.DataFrame,
    as_of: datetime,
    prefix: str,
    buyers_share: float = 0.92,
    in_store: bool = False,
    params: BuyTillYouDie = PARAMS,
) -> pl.DataFrame:
    """Line-level orders (one row per line) for `customers`, as the import reads them."""
    n = customers.height
    since = (
        customers["customer_since"]
        .str.to_datetime(time_zone="UTC")
        .dt.replace_time_zone(None)
        .to_numpy()
        .astype("datetime64[s]")
    )
    delay = (rng.exponential(2.0, size=n) * 86_400).astype("timedelta64[s]")
    first = since + delay
    buys = rng.random(n) < buyers_share
    end = np.datetime64(as_of.astimezone(UTC).replace(tzinfo=None), "s")
    who, when = purchase_times(rng, first[buys], end, params)
    who = np.flatnonzero(buys)[who]
    order = np.lexsort((when, who))
    who, when = who[order], when[order]
    spend_rate = rng.gamma(params.q, 1.0 / params.gamma, size=n)
    target = rng.gamma(params.p, 1.0 / spend_rate[who])
    return _lines(rng, customers, who, when, target, prefix, in_store)


def _lines(
    rng: np.random.Generator,
    customers: pl.DataFrame,
    who: np.ndarray,
    when: np.ndarray,
    target: np.ndarray,
    prefix: str,
    in_store: bool,
) -> pl.DataFrame:
    items = catalog.ITEMS
    prices = np.array([float(i.price) for i in items])
    weights = np.array([catalog.POPULARITY[i.category] for i in items])
    n_orders = who.size
    n_lines = np.clip(rng.poisson(target / 45.0) + 1, 1, 6)
    order_of_line = np.repeat(np.arange(n_orders), n_lines)
    item = rng.choice(len(items), size=order_of_line.size, p=weights / weights.sum())
    share = target[order_of_line] / n_lines[order_of_line]
    quantity = np.clip(np.rint(share / prices[item]), 1, 5).astype(np.int64)
    countries = customers["country"].to_numpy()[who]
    status = rng.choice(
        ["completed", "returned", "refunded", "cancelled"],
        size=n_orders,
        p=[0.94, 0.03, 0.02, 0.01],
    )
    discounted = rng.random(n_orders) < 0.12
    channel, partner = _channels(rng, countries, in_store)
    frame = pl.DataFrame(
        {
            "_order": order_of_line,
            "order_id": np.char.add(prefix, np.char.zfill((order_of_line + 1).astype(str), 7)),
            "customer_id": customers["customer_id"].to_numpy()[who][order_of_line],
            "ordered_at": pl.Series(when[order_of_line].astype("datetime64[us]")).dt.strftime(
                "%Y-%m-%dT%H:%M:%SZ"
            ),
            "sku": np.array([i.sku for i in items])[item],
            "quantity": quantity,
            "unit_price": prices[item],
            "currency": "USD",
            "status": status[order_of_line],
            "channel": pl.Series(channel[order_of_line].tolist(), dtype=pl.String),
            "partner_id": pl.Series(partner[order_of_line].tolist(), dtype=pl.String),
            "_discounted": discounted[order_of_line],
        }
    )
    totals = frame.group_by("_order").agg(
        (pl.col("quantity") * pl.col("unit_price")).sum().alias("_total")
    )
    frame = frame.join(totals, on="_order").with_columns(
        pl.when(pl.col("_discounted"))
        .then((pl.col("_total") * 0.10).round(2))
        .otherwise(0.0)
        .alias("discount"),
    )
    return frame.sort("_order", maintain_order=True).select(
        "order_id",
        "customer_id",
        "ordered_at",
        "sku",
        "quantity",
        pl.col("unit_price").map_elements(lambda v: f"{v:.2f}", return_dtype=pl.String),
        pl.col("discount").map_elements(lambda v: f"{v:.2f}", return_dtype=pl.String),
        "currency",
        "status",
        "channel",
        "partner_id",
    )


def _channels(
    rng: np.random.Generator, countries: np.ndarray, in_store: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Where each order was placed and which partner (if any) brought it."""
    n = countries.size
    channel = rng.choice(
        ["web", "marketplace", "store", "phone"],
        size=n,
        p=[0.0, 0.0, 1.0, 0.0] if in_store else [0.70, 0.22, 0.0, 0.08],
    ).astype(object)
    partner = np.full(n, None, dtype=object)
    for country, places in catalog.MARKETPLACES.items():
        here = (countries == country) & (channel == "marketplace")
        if places:
            partner[here] = rng.choice(places, size=int(here.sum()))
        else:
            channel[here] = "web"
    for country, distributor in catalog.DISTRIBUTORS.items():
        partner[(countries == country) & (channel == "store")] = distributor
    referred = (channel == "web") & (rng.random(n) < 0.08)
    partner[referred] = rng.choice(catalog.AGENCIES, size=int(referred.sum()))
    return channel, partner


def make_support_contacts(rng: np.random.Generator, orders: pl.DataFrame) -> pl.DataFrame:
    """Contacts with customer service after orders; returns and refunds bring more."""
    per_order = orders.unique("order_id", keep="first", maintain_order=True)
    troubled = per_order["status"].is_in(["returned", "refunded"]).to_numpy()
    counts = rng.poisson(np.where(troubled, 1.4, 0.18))
    idx = np.repeat(np.arange(per_order.height), counts)
    channel = rng.choice(SUPPORT_CHANNELS, size=idx.size, p=[0.5, 0.3, 0.2])
    minutes = np.where(
        channel == "phone", rng.integers(8, 26, size=idx.size), rng.integers(4, 16, size=idx.size)
    )
    reason = np.where(
        troubled[idx],
        "return",
        rng.choice(SUPPORT_REASONS, size=idx.size, p=[0.35, 0.35, 0.0, 0.15, 0.15]),
    )
    after = pl.Series((rng.exponential(3.0, size=idx.size) * 86_400e6).astype(np.int64)).cast(
        pl.Duration("us")
    )
    at = per_order["ordered_at"].str.to_datetime(time_zone="UTC").gather(idx) + after
    return pl.DataFrame(
        {
            "customer_id": per_order["customer_id"].gather(idx),
            "at": at,
            "channel": channel,
            "reason": reason,
            "minutes": minutes,
        }
    )


def make_mentions(
    rng: np.random.Generator, customers: pl.DataFrame, orders: pl.DataFrame, share: float = 0.15
) -> pl.DataFrame:
    """Social posts: most by customers (handle derived from their name), some by strangers."""
    names = {i.sku: i.name for i in catalog.ITEMS}
    bought = orders.group_by("customer_id", maintain_order=True).agg(
        pl.col("sku").first(),
        pl.col("ordered_at").max(),
        pl.col("status").is_in(["returned", "refunded"]).any().alias("troubled"),
    )
    people = customers.join(bought, on="customer_id", how="inner")
    count = int(round(customers.height * share))
    known = min(int(count * 0.65), people.height)
    picked = people.sample(known, seed=int(rng.integers(0, 2**31)), shuffle=True)
    rows = []
    for person in picked.iter_rows(named=True):
        language = person["language"].split("-")[0].replace("fil", "tl")
        p_complaint = 0.6 if person["troubled"] else 0.2
        kind = str(rng.choice(MENTION_KINDS, p=[0.8 - p_complaint, 0.2, p_complaint]))
        handle = to_latin(person["first_name"] + person["last_name"][:1]).lower()
        rows.append(
            _mention(
                rng,
                language,
                kind,
                names[person["sku"]],
                f"@{handle}",
                person["ordered_at"],
                person["customer_id"],
            )
        )
    for _ in range(count - known):
        language = str(rng.choice(list(MENTIONS)))
        kind = str(rng.choice(MENTION_KINDS, p=[0.45, 0.3, 0.25]))
        sku = catalog.ITEMS[int(rng.integers(0, len(catalog.ITEMS)))].sku
        when = str(orders["ordered_at"][int(rng.integers(0, orders.height))])
        rows.append(
            _mention(rng, language, kind, names[sku], f"@user{rng.integers(1e5, 1e6)}", when, None)
        )
    return pl.DataFrame(rows, infer_schema_length=None).sort("posted_at")


def _mention(
    rng: np.random.Generator,
    language: str,
    kind: str,
    product: str,
    handle: str,
    after: str,
    customer_id: str | None,
) -> dict[str, object]:
    text = str(rng.choice(MENTIONS[language][kind])).format(product=product)
    posted = datetime.fromisoformat(after.replace("Z", "+00:00"))
    posted = posted + np.timedelta64(int(rng.integers(3_600, 20 * 86_400)), "s").item()
    return {
        "platform": str(rng.choice(PLATFORMS, p=[0.35, 0.3, 0.15, 0.2])),
        "author_handle": handle,
        "language": language,
        "text": text,
        "posted_at": posted.isoformat(timespec="seconds"),
        "customer_id": customer_id,
        "kind": kind,
    }
