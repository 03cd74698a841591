"""Double opt-in for e-mail marketing, across the interact stage and the store.

With `consent.double_opt_in` on, a new marketing consent (an import's "yes", `relmark consent
grant`, the preference centre) is stored as `pending` and a confirmation message is queued in
the outbox; only the customer's click on its signed `/c/` link records `granted`, with the
message, time, address and browser as proof. Pending is never consent: the planner holds
marketing for it as `no_consent`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import polars as pl
from sqlalchemy import Connection, bindparam, text

from relmark.enums import ConsentPurpose, ConsentStatus
from relmark.errors import InvalidInput
from relmark.interact.confirmation import CONFIRM_VALID_DAYS, CONFIRMATION, confirmation_messages
from relmark.interact.tokens import LinkKind
from relmark.store import audit, consents, outbox
from relmark.store.audit import Actor
from relmark.store.bulk import stage

if TYPE_CHECKING:
    from relmark.interaction import Interaction

MARKETING, EMAIL = ConsentPurpose.MARKETING.value, "email"


def applies(purpose: str, channel: str, status: ConsentStatus) -> bool:
    """Only a grant of e-mail marketing waits for confirmation."""
    return status is ConsentStatus.GRANTED and purpose == MARKETING and channel == EMAIL


def current_status(connection: Connection, customer_id: int) -> str | None:
    """The e-mail marketing status that holds for a customer now (None: no statement)."""
    held = consents.effective(
        consents.latest_statements(connection, customer_id=customer_id, channel=EMAIL)
    ).filter(pl.col("purpose") == MARKETING)
    return str(held["status"][0]) if held.height else None


def set_enabled(connection: Connection, on: bool, now: datetime, actor: Actor) -> None:
    consents.set_double_opt_in(connection, on, now)
    audit.record(
        connection, actor, "policy.change", detail={"fields": [consents.DOUBLE_OPT_IN_KEY]}, at=now
    )


def queue(
    connection: Connection,
    now: datetime,
    mail_domain: str,
    customer_ids: list[int] | None = None,
) -> int:
    """Queue a confirmation for every live customer whose e-mail marketing consent is
    pending and not yet asked about (one message per pending statement). Set-based: an
    import may leave many thousands pending at once."""
    only = "AND c.customer_id IN :ids" if customer_ids is not None else ""
    statement = text(
        "SELECT c.customer_id, MAX(c.id) AS consent_id FROM consents c "
        "JOIN customers cu ON cu.id = c.customer_id "
        f"WHERE cu.merged_into_id IS NULL AND c.status = '{ConsentStatus.PENDING}' "
        f"AND c.purpose = '{MARKETING}' AND c.channel = '{EMAIL}' {only} "
        "GROUP BY c.customer_id"
    )
    params: dict[str, Any] = {}
    if customer_ids is not None:
        statement = statement.bindparams(bindparam("ids", expanding=True))
        params["ids"] = customer_ids
    rows = connection.execute(statement, params).fetchall()
    if not rows:
        return 0
    pending = pl.DataFrame(
        rows, schema={"customer_id": pl.Int64, "consent_id": pl.Int64}, orient="row"
    )
    stage(connection, "stg_confirm_ids", pending.select("customer_id"))
    still = consents.effective_status(connection, "stg_confirm_ids").filter(
        (pl.col("purpose") == MARKETING)
        & (pl.col("channel") == EMAIL)
        & (pl.col("status") == ConsentStatus.PENDING.value)
    )
    asked = pl.DataFrame(
        connection.execute(
            text(
                "SELECT m.customer_id, m.occasion FROM messages m "
                "JOIN stg_confirm_ids s ON s.customer_id = m.customer_id "
                "WHERE m.playbook = :playbook"
            ),
            {"playbook": CONFIRMATION.name},
        ).fetchall(),
        schema={"customer_id": pl.Int64, "occasion": pl.String},
        orient="row",
    )
    emails = pl.DataFrame(
        connection.execute(
            text(
                "SELECT cu.id, cu.email FROM stg_confirm_ids s "
                "JOIN customers cu ON cu.id = s.customer_id"
            )
        ).fetchall(),
        schema={"customer_id": pl.Int64, "email": pl.String},
        orient="row",
    )
    todo = (
        pending.join(still.select("customer_id"), on="customer_id", how="semi")
        .with_columns(pl.format("consent:{}", "consent_id").alias("occasion"))
        .join(asked, on=["customer_id", "occasion"], how="anti")
        .join(emails, on="customer_id", how="left")
    )
    if todo.is_empty():
        return 0
    return outbox.insert_messages(connection, confirmation_messages(todo, now, mail_domain))


def confirm(
    relmark: Interaction, token: str, now: datetime, origin: str | None = None
) -> dict[str, Any]:
    """The customer's click on a confirmation link: e-mail marketing becomes granted, with
    the message, time and origin as proof. Idempotent; a stale or foreign link changes
    nothing."""
    claim = relmark.signer(now).verify(LinkKind.CONFIRM, token)
    message, customer_id = relmark.linked_message(claim)
    if message["playbook"] != CONFIRMATION.name:
        raise InvalidInput.single("link", "the link names an unknown message")
    if message["created_at"] < now - timedelta(days=CONFIRM_VALID_DAYS):
        raise InvalidInput.single(
            "link", f"this confirmation link is older than {CONFIRM_VALID_DAYS} days"
        )
    with relmark.engine.connect() as connection:
        status = current_status(connection, customer_id)
    if status == ConsentStatus.GRANTED.value:
        return {"customer_id": customer_id, "consent_id": None, "already": True}
    result = relmark.record_consent(
        customer_id,
        purpose=MARKETING,
        channel=EMAIL,
        status=ConsentStatus.GRANTED,
        source="double-opt-in",
        proof=f"confirm link of message {message['id']} ({message['rfc_message_id']}), "
        f"clicked {now.isoformat()} from {origin or 'unknown'}",
        wording_version=CONFIRMATION.template,
        now=now,
        actor=Actor("link", "double-opt-in", origin),
        confirmed=True,
    )
    with relmark.engine.begin() as connection:
        outbox.record_message_event(
            connection,
            message_id=int(message["id"]),
            customer_id=customer_id,
            kind="confirm",
            data=None,
            now=now,
        )
    return {"customer_id": customer_id, **result}
