"""The pick list as the warehouse reads it: the store's owed gifts with each gift's name
from the catalogue (in the reader's language) and how the shelf compares. One seam for the
CLI, the API and the dashboard."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from relmark.config import Settings
from relmark.interact.gift_catalogue import Gift, load_gifts
from relmark.store import gifts
from relmark.store.audit import Actor


@dataclass
class PickList:
    total: int
    rows: list[dict[str, Any]]
    shelf: list[dict[str, Any]]
    """Per gift key: its name, cost, stock and how many are owed (unknown keys included)."""


def pick_list(
    engine: Engine,
    settings: Settings,
    *,
    due_only: bool = False,
    language: str = "en",
    limit: int = 500,
    offset: int = 0,
) -> PickList:
    catalogue = load_gifts(settings.gifts_dir)
    with engine.connect() as connection:
        total, rows = gifts.pick_list(connection, due_only=due_only, limit=limit, offset=offset)
        owed = gifts.open_counts(connection)
    for row in rows:
        row["gift_name"] = _name(catalogue.get(row["gift"]), row["gift"], language)
        row["due"] = row["next_order_id"] is not None
    shelf = [
        {
            "gift": key,
            "name": _name(catalogue.get(key), key, language),
            "in_catalogue": key in catalogue,
            "cost_minor": catalogue[key].cost_minor if key in catalogue else None,
            "currency": catalogue[key].currency if key in catalogue else None,
            "stock": catalogue[key].stock if key in catalogue else None,
            "owed": owed.get(key, 0),
        }
        for key in sorted(set(catalogue) | set(owed))
    ]
    return PickList(total, rows, shelf)


def _name(gift: Gift | None, key: str | None, language: str) -> str:
    if gift is None:
        return f"{key} (not in the gift catalogue)"
    return gift.name_in(language)


def fulfil(engine: Engine, code: str, order: str, now: datetime, actor: Actor) -> dict[str, Any]:
    with engine.begin() as connection:
        return gifts.fulfil(connection, code, order, now, actor)
