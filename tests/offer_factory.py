"""Plain factories for the shop-side offer tests: customers, orders, messages and offers
written straight into the store, as import, planner, sender and issuing leave them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert

from relmark.config import Settings
from relmark.enums import ConsentStatus
from relmark.interaction import Interaction
from relmark.store.models import Customer, Message, Order, SourceRecord
from relmark.store.offer_models import Offer, OfferRedemption

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


def customer(engine: Engine, external_id: str, **profile: Any) -> int:
    """A live customer with one source record `default:external_id`."""
    with engine.begin() as connection:
        customer_id = connection.execute(
            insert(Customer).values(created_at=T0, updated_at=T0, **profile)
        ).inserted_primary_key[0]
        connection.execute(
            insert(SourceRecord).values(
                source="default",
                external_id=external_id,
                customer_id=customer_id,
                imported_at=T0,
                updated_at=T0,
                email=profile.get("email"),
            )
        )
    return int(customer_id)


def order(
    engine: Engine,
    customer_id: int,
    external_id: str,
    at: datetime,
    amount_minor: int,
    currency: str = "EUR",
    status: str = "completed",
) -> int:
    with engine.begin() as connection:
        record = connection.execute(
            SourceRecord.__table__.select().where(SourceRecord.customer_id == customer_id)
        ).first()
        return int(
            connection.execute(
                insert(Order).values(
                    source="default",
                    external_id=external_id,
                    customer_id=customer_id,
                    source_record_id=record.id,  # type: ignore[union-attr]
                    ordered_at=at,
                    currency=currency,
                    amount_minor=amount_minor,
                    discount_minor=0,
                    status=status,
                )
            ).inserted_primary_key[0]
        )


def message(
    engine: Engine,
    customer_id: int,
    playbook: str,
    status: str,
    due_at: datetime,
    reason: str | None = None,
) -> int:
    key = f"{playbook}:{customer_id}:{due_at.isoformat()}"
    with engine.begin() as connection:
        return int(
            connection.execute(
                insert(Message).values(
                    idempotency_key=key,
                    playbook=playbook,
                    customer_id=customer_id,
                    occasion=due_at.date().isoformat(),
                    channel="email",
                    purpose="marketing",
                    priority=50,
                    status=status,
                    reason=reason,
                    created_at=due_at,
                    due_at=due_at,
                    attempts=1 if status == "sent" else 0,
                    sent_at=due_at if status == "sent" else None,
                    rfc_message_id=f"<{key}@test>",
                )
            ).inserted_primary_key[0]
        )


def offer(engine: Engine, customer_id: int, code: str, **fields: Any) -> int:
    """An issued offer (a 15% discount for 30 days unless told otherwise)."""
    issued = fields.pop("issued_at", T0)
    values: dict[str, Any] = {
        "kind": "discount",
        "status": "issued",
        "percent_off": 15,
        "max_uses": 1,
        "uses": 0,
        "created_at": issued or T0,
        "issued_at": issued,
        "expires_at": (issued or T0) + timedelta(days=30),
    }
    values |= fields
    with engine.begin() as connection:
        return int(
            connection.execute(
                insert(Offer).values(code=code, customer_id=customer_id, **values)
            ).inserted_primary_key[0]
        )


def redemption(
    engine: Engine, offer_id: int, order_id: int, customer_id: int, discount_minor: int | None
) -> None:
    with engine.begin() as connection:
        connection.execute(
            insert(OfferRedemption).values(
                offer_id=offer_id,
                order_id=order_id,
                customer_id=customer_id,
                discount_minor=discount_minor,
                redeemed_at=T0,
            )
        )


def share(engine: Engine, customer_id: int) -> None:
    """The customer consents to third-party sharing."""
    Interaction(engine, Settings(secret_key="x" * 32)).record_consent(
        customer_id,
        purpose="third_party_sharing",
        channel="email",
        status=ConsentStatus.GRANTED,
        source="test",
        proof="form 3",
        wording_version=None,
        now=T0,
    )
