"""What staff and customers do with points: a manual grant or correction (with a reason,
audited), and a redemption that buys a catalogue reward as an offer in the same
transaction as the debit, so points are never taken without the offer, nor the reverse."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import polars as pl
from sqlalchemy import Connection, Engine, insert, select

from relmark.errors import InvalidInput
from relmark.interact.loyalty.posting import require_enabled
from relmark.interact.loyalty.programme import Programme
from relmark.store import audit
from relmark.store.audit import Actor
from relmark.store.db import bulk_transaction
from relmark.store.loyalty_ledger import balance_of, credit, debit
from relmark.store.loyalty_models import EntryKind
from relmark.store.models import Customer
from relmark.store.offer_codes import new_code
from relmark.store.offer_models import Offer, OfferKind, OfferStatus

MAX_GRANT = 10**7


def live_customer(connection: Connection, customer_id: int, where: str = "CUSTOMER") -> None:
    """Refuse a customer who does not exist, was merged into another or was erased."""
    found = connection.execute(
        select(Customer.merged_into_id, Customer.erased_at).where(Customer.id == customer_id)
    ).first()
    if found is None:
        raise InvalidInput.single(where, f"no customer with id {customer_id}")
    if found.merged_into_id is not None:
        raise InvalidInput.single(
            where,
            f"customer {customer_id} was merged into {found.merged_into_id}: use that id",
        )
    if found.erased_at is not None:
        raise InvalidInput.single(where, f"customer {customer_id} was erased")


def expiry_from(programme: Programme, now: datetime) -> datetime | None:
    if programme.expiry_months is None:
        return None
    return pl.Series([now]).dt.offset_by(f"{programme.expiry_months}mo")[0]  # type: ignore[no-any-return]


def grant(
    engine: Engine,
    programme: Programme,
    customer_id: int,
    points: int,
    reason: str,
    now: datetime,
    actor: Actor,
) -> dict[str, Any]:
    """Add (points > 0, expiring like earned points) or take away (points < 0) points by
    hand; the reason is kept on the entry, the act in the audit trail."""
    reason = reason.strip()
    if not reason:
        raise InvalidInput.single("--reason", "a manual grant needs a reason")
    if len(reason) > 500:
        raise InvalidInput.single("--reason", "at most 500 characters")
    if points == 0 or abs(points) > MAX_GRANT:
        raise InvalidInput.single("POINTS", f"a non-zero number of points up to {MAX_GRANT:,}")
    with bulk_transaction(engine) as connection:
        require_enabled(connection)
        live_customer(connection, customer_id)
        if points > 0:
            entry = credit(
                connection,
                customer_id,
                points,
                now,
                kind=EntryKind.ADJUST,
                rule="grant",
                expires_at=expiry_from(programme, now),
                reason=reason,
                actor=actor.name,
            )
        else:
            entry = debit(
                connection,
                customer_id,
                -points,
                now,
                kind=EntryKind.ADJUST,
                rule="grant",
                reason=reason,
                actor=actor.name,
            )
        audit.record(
            connection,
            actor,
            "loyalty.grant",
            customer_id=customer_id,
            detail={"points": points, "entry": entry},
            at=now,
        )
        balance = balance_of(connection, customer_id)
    return {"customer_id": customer_id, "entry_id": entry, "points": points, "balance": balance}


def redeem(
    engine: Engine,
    programme: Programme,
    customer_id: int,
    reward_key: str,
    now: datetime,
    actor: Actor,
) -> dict[str, Any]:
    """Debit the reward's points and issue its offer (kind points_reward), or neither."""
    reward = programme.reward(reward_key)
    expires_at = now + timedelta(days=reward.valid_days)
    amount_minor = (
        int(reward.amount * Decimal(10) ** programme.digits) if reward.amount is not None else None
    )
    with bulk_transaction(engine) as connection:
        require_enabled(connection)
        live_customer(connection, customer_id)
        code = new_code("PTS")
        offer_id = connection.execute(
            insert(Offer.__table__)
            .values(
                code=code,
                kind=OfferKind.POINTS_REWARD.value,
                status=OfferStatus.ISSUED.value,
                customer_id=customer_id,
                percent_off=reward.percent_off,
                amount_minor=amount_minor,
                currency=programme.currency if amount_minor is not None else None,
                gift=reward.gift,
                max_uses=1,
                uses=0,
                created_at=now,
                issued_at=now,
                expires_at=expires_at,
            )
            .returning(Offer.__table__.c.id)
        ).scalar_one()
        entry = debit(
            connection,
            customer_id,
            reward.points,
            now,
            kind=EntryKind.REDEEM,
            rule=reward.key,
            actor=actor.name,
            offer_id=offer_id,
        )
        audit.record(
            connection,
            actor,
            "loyalty.redeem",
            customer_id=customer_id,
            detail={"reward": reward.key, "points": reward.points, "offer": offer_id},
            at=now,
        )
        balance = balance_of(connection, customer_id)
    return {
        "customer_id": customer_id,
        "reward": reward.key,
        "title": reward.title,
        "points": reward.points,
        "entry_id": entry,
        "offer_id": offer_id,
        "code": code,
        "expires_at": expires_at,
        "balance": balance,
    }


def post_referral_bonus(
    connection: Connection,
    programme: Programme,
    customer_id: int,
    referral: str,
    now: datetime,
) -> int | None:
    """The programme's referral points for `customer_id`, once per `referral` (a key the
    referral programme chooses, e.g. "referral:42:referrer"), in the caller's transaction.
    None when the programme is off, gives no referral points, or this one was posted."""
    from relmark.interact.loyalty.posting import is_enabled
    from relmark.store.loyalty_ledger import ENTRIES

    if programme.referral_points <= 0 or not is_enabled(connection):
        return None
    occasion = referral[:60]
    posted = connection.execute(
        select(ENTRIES.c.id).where(
            ENTRIES.c.customer_id == customer_id,
            ENTRIES.c.rule == "referral",
            ENTRIES.c.occasion == occasion,
        )
    ).first()
    if posted is not None:
        return None
    return credit(
        connection,
        customer_id,
        programme.referral_points,
        now,
        kind=EntryKind.EARN,
        rule="referral",
        expires_at=expiry_from(programme, now),
        occasion=occasion,
    )
