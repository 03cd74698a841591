"""What a customer's click on a link in a message does: unsubscribe, open, click, rating.

A signed token names a message and the customer it was sent to. Identity resolution may
have merged that customer into an older profile since, moving the message with it: the link
keeps working and acts on the profile the customer lives on now (issue 12).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import polars as pl
from sqlalchemy import Connection, select

from relmark.enums import ConsentStatus
from relmark.errors import InvalidInput
from relmark.interact.tokens import LinkClaim, LinkKind
from relmark.store import consents, outbox
from relmark.store.audit import Actor
from relmark.store.live import live_profile
from relmark.store.models import Merge

if TYPE_CHECKING:
    from relmark.interaction import Interaction


def profile_of(connection: Connection, customer_id: int) -> int:
    """Follow `merged_into_id` to the live profile (a chain when survivors merged again)."""
    found = live_profile(connection, customer_id)
    return customer_id if found is None else found


def _ever_merged(connection: Connection, absorbed: int, survivor: int) -> bool:
    """Whether `absorbed` was ever folded into `survivor` (also when undone since)."""
    found = connection.execute(
        select(Merge.id).where(Merge.absorbed_id == absorbed, Merge.survivor_id == survivor)
    ).first()
    return found is not None


def linked_message(connection: Connection, claim: LinkClaim) -> tuple[dict[str, Any], int]:
    """The message a link names and the live profile it acts on.

    Merges move messages to the survivor while the tokens already sent keep naming the
    absorbed profile: a link is good when its customer and the message's owner are one
    profile now, or the token's customer was ever merged into the owner."""
    message = outbox.message_row(connection, claim.message_id)
    if message is None:
        raise InvalidInput.single("link", "the link names an unknown message")
    owner = int(message["customer_id"])
    customer_id = profile_of(connection, claim.customer_id)
    if customer_id != profile_of(connection, owner) and not _ever_merged(
        connection, claim.customer_id, owner
    ):
        raise InvalidInput.single("link", "the link names an unknown message")
    return message, customer_id


def _withdrawn(connection: Connection, customer_id: int, purpose: str, channel: str) -> bool:
    held = consents.effective(
        consents.latest_statements(connection, customer_id=customer_id, channel=channel)
    )
    row = held.filter(pl.col("purpose") == purpose)
    return bool(row.height) and row["status"][0] == ConsentStatus.WITHDRAWN.value


def unsubscribe(
    relmark: Interaction,
    token: str,
    now: datetime,
    *,
    via: str,
    origin: str | None,
    evidence: str | None = None,
) -> dict[str, Any]:
    """Withdraw the consent a signed unsubscribe token names; every unsent message of that
    customer and purpose is held at once. Idempotent. `evidence` adds to the proof how the
    request came (a mailto: names the mail's sender)."""
    claim = relmark.signer(now).verify(LinkKind.UNSUBSCRIBE, token)
    with relmark.engine.connect() as connection:
        message, customer_id = linked_message(connection, claim)
        channel = "email" if message["channel"] == "email" else "sms"
        already = _withdrawn(connection, customer_id, claim.purpose, channel)
    if already:
        return {
            "customer_id": customer_id,
            "purpose": claim.purpose,
            "consent_id": None,
            "messages_held": 0,
            "already": True,
        }
    result = relmark.record_consent(
        customer_id,
        purpose=claim.purpose,
        channel=channel,
        status=ConsentStatus.WITHDRAWN,
        source=f"unsubscribe-{via}",
        proof=f"signed unsubscribe token of message {claim.message_id} "
        f"({message['rfc_message_id']}), used {now.isoformat()}"
        + (f"; {evidence}" if evidence else ""),
        wording_version=None,
        now=now,
        actor=Actor("link", f"unsubscribe-{via}", origin),
    )
    with relmark.engine.begin() as connection:
        outbox.record_message_event(
            connection,
            message_id=claim.message_id,
            customer_id=customer_id,
            kind="unsubscribe",
            data={"via": via},
            now=now,
        )
    return {"customer_id": customer_id, "purpose": claim.purpose, **result}


def track(relmark: Interaction, kind: LinkKind, token: str, now: datetime) -> LinkClaim:
    """Record an open, click or rating from a signed link; the claim says where a click
    goes (only to the URL that was signed: no open redirect)."""
    if kind in (LinkKind.UNSUBSCRIBE, LinkKind.CONFIRM):
        raise InvalidInput.single("link", f"{kind} links change consent: not tracked here")
    claim = relmark.signer(now).verify(kind, token)
    data: dict[str, Any] | None = None
    if kind is LinkKind.CLICK:
        data = {"url": claim.url}
    elif kind is LinkKind.RATING:
        if claim.score is None or not 0 <= claim.score <= 10:
            raise InvalidInput.single("rating", "a rating is a whole number from 0 to 10")
        data = {"score": claim.score}
    with relmark.engine.begin() as connection:
        _message, customer_id = linked_message(connection, claim)
        outbox.record_message_event(
            connection,
            message_id=claim.message_id,
            customer_id=customer_id,
            kind=kind.value,
            data=data,
            now=now,
        )
    return claim
