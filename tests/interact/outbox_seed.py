"""A small outbox with every status and several reasons, for the listing tests (store, CLI,
API, dashboard): three customers imported for real, seven messages written as the planner
and the sender leave them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, insert

from relmark.store.models import Message

from .conftest import Shop

DAY = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


def at(day: int, hour: int = 9, minute: int = 0) -> datetime:
    return DAY.replace(day=day, hour=hour, minute=minute)


#: (key, customer, playbook, status, reason, due, sent, attempts, last_error)
ROWS: list[tuple[str, str, str, str, str | None, datetime, datetime | None, int, str | None]] = [
    ("m1", "C1", "thank-you", "sent", None, at(3), at(3, 9, 1), 1, None),
    ("m2", "C2", "thank-you", "held", "cap_7d", at(4), None, 0, None),
    ("m3", "C3", "birthday", "held", "expired", at(5), None, 0, None),
    ("m4", "C3", "thank-you", "held", "expired", at(6), None, 0, None),
    ("m5", "C1", "satisfaction", "planned", "quiet_hours_deferred", at(7), None, 0, None),
    ("m6", "C2", "satisfaction", "failed", None, at(2), None, 3, "550 mailbox unavailable"),
    ("m7", "C2", "win-back", "planned", None, at(8), None, 0, None),
]
#: Newest due first, as every listing sorts.
NEWEST_FIRST = ["m7", "m5", "m4", "m3", "m2", "m1", "m6"]


def seed(shop: Shop) -> dict[str, Any]:
    """Customers C1-C3 and the messages of ROWS; → {"ids": key → message id, "customers":
    external id → customer id}."""
    shop.customers(
        [
            [
                "C1",
                "ana.novak@example.si",
                "",
                "Ana",
                "sl",
                "SI",
                "Europe/Ljubljana",
                "",
                "",
                "yes",
            ],
            ["C2", "bo@example.my", "", "Bo", "ms", "MY", "Asia/Kuala_Lumpur", "", "", "yes"],
            ["C3", "cy@example.kz", "", "Айгерим", "kk", "KZ", "Asia/Almaty", "", "", "yes"],
        ]
    )
    customers = {c: shop.id_of(c) for c in ("C1", "C2", "C3")}
    return {"ids": write(shop.engine, customers), "customers": customers}


def write(engine: Engine, customers: dict[str, int]) -> dict[str, int]:
    ids = {}
    with engine.begin() as connection:
        for key, who, playbook, status, reason, due, sent, attempts, error in ROWS:
            ids[key] = connection.execute(
                insert(Message)
                .values(
                    idempotency_key=f"{playbook}:{customers[who]}:{key}",
                    playbook=playbook,
                    customer_id=customers[who],
                    occasion=f"{key}-occasion",
                    channel="email",
                    purpose="marketing",
                    priority=50,
                    status=status,
                    reason=reason,
                    detail={"in_7_days": 2} if reason == "cap_7d" else None,
                    created_at=DAY,
                    due_at=due,
                    attempts=attempts,
                    sent_at=sent,
                    last_error=error,
                    rfc_message_id=f"<{key}@test>",
                )
                .returning(Message.id)
            ).scalar_one()
    return ids
