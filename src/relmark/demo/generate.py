"""The whole demo data set, drawn from one seeded generator: same seed and date, same store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import polars as pl

from relmark.demo import catalog
from relmark.demo.history import make_mentions, make_orders, make_support_contacts
from relmark.demo.people import make_customers, make_second_source

WEB, POS = "web", "pos"


@dataclass
class DemoData:
    """Frames in the canonical import columns (text), plus what is not imported from files."""

    partners: pl.DataFrame
    products: pl.DataFrame
    customers_web: pl.DataFrame
    customers_pos: pl.DataFrame
    orders_web: pl.DataFrame
    orders_pos: pl.DataFrame
    support_contacts: pl.DataFrame
    mentions: pl.DataFrame
    identity_truth: pl.DataFrame

    def files(self) -> dict[str, tuple[str, str | None, pl.DataFrame]]:
        """File name → (import kind, source, frame), in the order they must be imported."""
        return {
            "partners.csv": ("partners", None, self.partners),
            "products.csv": ("products", None, self.products),
            "customers_web.csv": ("customers", WEB, self.customers_web),
            "customers_pos.csv": ("customers", POS, self.customers_pos),
            "orders_web.csv": ("orders", WEB, self.orders_web),
            "orders_pos.csv": ("orders", POS, self.orders_pos),
        }


def generate(customers: int, seed: int, as_of: datetime) -> DemoData:
    rng = np.random.default_rng(seed)
    web = make_customers(rng, customers, as_of)
    pos, truth = make_second_source(rng, web, as_of)
    orders_web = make_orders(rng, web, as_of, prefix="W")
    orders_pos = make_orders(rng, pos, as_of, prefix="S", buyers_share=0.7, in_store=True)
    contacts = pl.concat(
        [
            make_support_contacts(rng, orders_web).with_columns(source=pl.lit(WEB)),
            make_support_contacts(rng, orders_pos).with_columns(source=pl.lit(POS)),
        ]
    )
    web_truth = web.select(
        pl.format("web:{}", "customer_id").alias("key"),
        pl.format("web:{}", "customer_id").alias("truth"),
    )
    return DemoData(
        partners=pl.DataFrame(
            catalog.PARTNERS, schema=["partner_id", "name", "kind"], orient="row"
        ),
        products=_products(),
        customers_web=web,
        customers_pos=pos,
        orders_web=orders_web,
        orders_pos=orders_pos,
        support_contacts=contacts,
        mentions=make_mentions(rng, web, orders_web),
        identity_truth=pl.concat([web_truth, truth]),
    )


def _products() -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "sku": i.sku,
                "name": i.name,
                "category": i.category,
                "price": i.price,
                "unit_cost": i.unit_cost,
                "currency": "USD",
                "howto_url": catalog.howto_url(i.sku) if i.howto else None,
            }
            for i in catalog.ITEMS
        ]
    )
