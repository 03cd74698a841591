"""Double opt-in: the confirmation message a pending e-mail marketing consent waits for.

When the store turns double opt-in on (`relmark consent double-opt-in on`), a new marketing
consent is recorded as `pending` and this message goes to the address it names, with a
signed confirm link (`/c/TOKEN`). Only the click makes the consent `granted`: it proves the
address belongs to the person who asked. The message is transactional (no caps, no
marketing consent needed: it asks for that consent) and has no playbook file, so stores
cannot disable or edit away the one message the law expects.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl

from relmark.interact.governor import message_id
from relmark.interact.playbook import Playbook, Purpose, Trigger, TriggerKind

CONFIRMATION = Playbook(
    name="consent-confirmation",
    title="Confirm your subscription (double opt-in)",
    description="Sent when a marketing consent needs the customer's confirming click.",
    purpose=Purpose.TRANSACTIONAL,
    channel="email",
    template="consent_confirmation",
    priority=100,
    control_share=0.0,
    trigger=Trigger(on=TriggerKind.ORDER),
)
#: A confirm link older than this no longer grants consent (the request has gone stale).
CONFIRM_VALID_DAYS = 30


def confirmation_messages(pending: pl.DataFrame, now: datetime, mail_domain: str) -> pl.DataFrame:
    """Outbox rows asking each customer in `pending` (customer_id, consent_id, email) to
    confirm; one per pending statement, so a re-run queues nothing twice."""
    rows = []
    for customer_id, consent_id, email in pending.select(
        "customer_id", "consent_id", "email"
    ).iter_rows():
        key = f"{CONFIRMATION.name}:{customer_id}:consent:{consent_id}"
        rows.append(
            {
                "idempotency_key": key,
                "playbook": CONFIRMATION.name,
                "customer_id": customer_id,
                "occasion": f"consent:{consent_id}",
                "channel": CONFIRMATION.channel,
                "purpose": CONFIRMATION.purpose.value,
                "priority": CONFIRMATION.priority,
                "status": "planned" if email else "held",
                "reason": None if email else "no_address",
                "detail": None,
                "context": f'{{"consent_id": {int(consent_id)}}}',
                "plan_run_id": None,
                "created_at": now,
                "due_at": now,
                "attempts": 0,
                "rfc_message_id": message_id(key, mail_domain),
            }
        )
    return pl.DataFrame(
        rows,
        schema={
            "idempotency_key": pl.String,
            "playbook": pl.String,
            "customer_id": pl.Int64,
            "occasion": pl.String,
            "channel": pl.String,
            "purpose": pl.String,
            "priority": pl.Int64,
            "status": pl.String,
            "reason": pl.String,
            "detail": pl.String,
            "context": pl.String,
            "plan_run_id": pl.Int64,
            "created_at": pl.Datetime("us", "UTC"),
            "due_at": pl.Datetime("us", "UTC"),
            "attempts": pl.Int64,
            "rfc_message_id": pl.String,
        },
    )
