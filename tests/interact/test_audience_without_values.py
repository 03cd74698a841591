"""Playbooks whose audience needs P(alive) or CLV hold, with the scoring run's reason, the
customers whose value could not be computed; they are decided again once a run has it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from .conftest import Shop, book, scores
from .test_planner import people

AS_OF = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
REASON = "only 2 of 4 customers bought more than once; the purchase models need at least 3"
WINBACK = book(
    "winback",
    template="winback",
    purpose="service",
    repeat_after_days=90,
    offer={"discount_percent": 15, "code_prefix": "BACK"},
    trigger={"on": "score"},
    audience={"segments": ["lost"], "max_p_alive": 0.3},
)
VIP = book(
    "vip",
    purpose="service",
    repeat_after_days=90,
    trigger={"on": "score"},
    audience={"clv_top_share": 0.5},
)


def _without_values(shop: Shop, at: datetime) -> dict[str, int]:
    people(shop)
    ids = {name: shop.id_of(name) for name in ("C1", "C2", "C3")}
    scores(
        shop.engine,
        {
            ids["C1"]: {"segment": "lost", "p_alive": None, "clv_minor": None},
            ids["C2"]: {"segment": "champions", "p_alive": None, "clv_minor": None},
            ids["C3"]: {"segment": "lost", "p_alive": None, "clv_minor": None},
        },
        at,
    )
    with shop.engine.begin() as connection:
        connection.execute(
            text("UPDATE score_runs SET p_alive_reason = :r, clv_reason = :r"), {"r": REASON}
        )
    return ids


def test_customers_without_p_alive_are_held_with_the_reason(shop: Shop) -> None:
    ids = _without_values(shop, AS_OF)
    relmark = shop.interaction(WINBACK, VIP, offers_on=True)

    relmark.plan(AS_OF, AS_OF)

    held = {(m["customer_id"], m["playbook"], m["status"], m["reason"]) for m in shop.messages()}
    # lost customers the win-back would judge by P(alive); everyone the VIP gift judges by CLV;
    # a champion is outside the win-back's segments whatever its P(alive)
    assert held == {
        (ids["C1"], "winback", "held", "p_alive_not_computed"),
        (ids["C3"], "winback", "held", "p_alive_not_computed"),
        (ids["C1"], "vip", "held", "clv_not_computed"),
        (ids["C2"], "vip", "held", "clv_not_computed"),
        (ids["C3"], "vip", "held", "clv_not_computed"),
    }
    assert all(m["detail"] == {"why": REASON} for m in shop.messages())
    explained = relmark.explain(ids["C1"], "winback", AS_OF, AS_OF)
    assert [(m["reason"], m["detail"]) for m in explained["messages"]] == [
        ("p_alive_not_computed", {"why": REASON})
    ]


def test_they_are_decided_again_once_a_run_has_the_value(shop: Shop) -> None:
    ids = _without_values(shop, AS_OF)
    relmark = shop.interaction(WINBACK, offers_on=True)
    relmark.plan(AS_OF, AS_OF)
    later = AS_OF + timedelta(days=1)
    scores(shop.engine, {ids["C1"]: {"segment": "lost", "p_alive": 0.1}}, later)

    relmark.plan(later, later)

    decided = [(m["status"], m["reason"]) for m in shop.messages(f"customer_id = {ids['C1']}")]
    assert decided == [("held", "p_alive_not_computed"), ("planned", None)]
