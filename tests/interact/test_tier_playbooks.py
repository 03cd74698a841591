"""Loyalty tiers in playbooks: a `tier_changed` trigger ("welcome to gold") and an audience
that names tiers, planned against a real store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from relmark.errors import InvalidInput
from relmark.interact.loyalty import run_posting
from relmark.interact.playbook import parse_playbook

from ..loyalty.seed import enable, programme
from .conftest import Shop, book

AS_OF = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
WELCOME_GOLD = book(
    "welcome-gold", purpose="service", trigger={"on": "tier_changed", "to_tier": "gold"}
)
GOLD_THANKS = book(
    "gold-thanks",
    purpose="service",
    trigger={"on": "order", "delay_days": 3},
    audience={"tiers": ["gold"]},
)


def members(shop: Shop) -> None:
    shop.customers(
        [
            ["C1", "ana@example.com", "", "Ana", "en-GB", "GB", "Europe/London", "", "", "yes"],
            ["C2", "bo@example.com", "", "Bo", "en-GB", "GB", "Europe/London", "", "", "yes"],
        ]
    )
    shop.products([["TEA", "Green tea", "tea", ""]])
    shop.orders(
        [
            ["O1", "C1", "2026-05-29T12:00:00Z", "EUR", "completed", "TEA", 1, "600.00"],
            ["O2", "C2", "2026-05-29T12:00:00Z", "EUR", "completed", "TEA", 1, "150.00"],
        ]
    )
    enable(shop.engine)
    run_posting(shop.engine, programme(), AS_OF - timedelta(days=1))


def test_a_tier_change_triggers_its_playbook_once(shop: Shop) -> None:
    members(shop)
    relmark = shop.interaction(WELCOME_GOLD)

    first = relmark.plan(AS_OF, AS_OF)
    again = relmark.plan(AS_OF, AS_OF)

    assert (first.planned, again.planned) == (1, 0)
    [message] = shop.messages()
    assert message["customer_id"] == shop.id_of("C1")
    assert message["occasion"].startswith("tier:")


def test_an_audience_can_name_tiers(shop: Shop) -> None:
    members(shop)
    relmark = shop.interaction(GOLD_THANKS)

    relmark.plan(AS_OF, AS_OF)

    assert [m["customer_id"] for m in shop.messages()] == [shop.id_of("C1")]


def test_to_tier_belongs_to_tier_changed_triggers_only() -> None:
    text = book("odd", trigger={"on": "order", "to_tier": "gold"})

    with pytest.raises(InvalidInput, match='to_tier belongs to on = "tier_changed"'):
        parse_playbook(text, "odd.toml")
