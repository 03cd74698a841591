"""The demo shop runs the shipped loyalty programme over its history: switched on (audited),
points posted half a year ago, the best-off members buying a reward then, and posted again
today, so balances, tiers, expiry and the liability report show real figures."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, text

from relmark.interact.loyalty import ENABLED_KEY, load_programme, redeem, run_posting
from relmark.store import audit, kv
from relmark.store.audit import Actor

#: How many members with enough points buy the cheapest reward half a year before the end.
REDEEMERS = 40


def run_demo_programme(engine: Engine, now: datetime) -> dict[str, Any]:
    programme = load_programme()
    with engine.begin() as connection:
        kv.put_setting(connection, ENABLED_KEY, True, now)
        audit.record(connection, Actor.cli(), "loyalty.enable", at=now)
    then = now - timedelta(days=182)
    run_posting(engine, programme, then)
    cheapest = min(programme.rewards, key=lambda r: r.points)
    with engine.connect() as connection:
        members = connection.execute(
            text(
                "SELECT customer_id FROM loyalty_accounts WHERE balance >= :p "
                "ORDER BY balance DESC, customer_id LIMIT :n"
            ),
            {"p": cheapest.points, "n": REDEEMERS},
        ).scalars()
        chosen = list(members)
    for customer in chosen:
        redeem(engine, programme, customer, cheapest.key, then, Actor.cli())
    report = run_posting(engine, programme, now)
    return {"redeemed": len(chosen), **report.as_dict()}
