"""A small shop with gifts owed, for the pick-list tests (CLI, API, dashboard)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, update

from relmark.store.models import Customer

from . import offer_factory as make

T0 = make.T0


def gift_shop(engine: Engine) -> dict[str, Any]:
    """Ana ordered after her gift (due), Bo only before his, Cy is restricted, Di's gift was
    sent already, Ed's expired; Ana also holds a discount code."""
    ana = make.customer(
        engine,
        "A1",
        first_name="Ana",
        last_name="Novak",
        address="Slovenska 1",
        postcode="1000",
        city="Ljubljana",
        country="SI",
    )
    bo = make.customer(engine, "B1", first_name="Bo", city="Ipoh", country="MY")
    cy = make.customer(engine, "C1", first_name="Cy")
    di = make.customer(engine, "D1", first_name="Di")
    ed = make.customer(engine, "E1", first_name="Ed")
    with engine.begin() as connection:
        connection.execute(update(Customer).where(Customer.id == cy).values(restricted_at=T0))
    gift = {"kind": "gift", "percent_off": None, "gift": "tea-sampler"}
    make.offer(engine, ana, "GIFT-AAAA2222", **gift)
    make.offer(engine, bo, "GIFT-BBBB3333", **gift, issued_at=T0 - timedelta(days=3))
    make.offer(engine, cy, "GIFT-CCCC4444", **gift)
    make.offer(engine, di, "GIFT-DDDD5555", **gift, fulfilled_at=T0)
    make.offer(engine, ed, "GIFT-EEEE6666", **gift, status="expired")
    make.offer(engine, ana, "BACK-FFFF7777")
    orders = {
        "ana_before": make.order(engine, ana, "1001", T0 - timedelta(days=1), 2000),
        "ana_next": make.order(engine, ana, "1002", T0 + timedelta(days=2), 3000),
        "ana_later": make.order(engine, ana, "1003", T0 + timedelta(days=9), 3000),
        "bo_before": make.order(engine, bo, "2001", T0 - timedelta(days=5), 2000),
    }
    return {"ana": ana, "bo": bo, "cy": cy, "orders": orders}
