"""A dry run: what a send would deliver now, rendered, with nothing claimed or changed.

It walks the sender's own queue (same due order, same quiet-hours rule) and composes each
message exactly as the transport would get it: the RFC 5322 e-mail, or the webhook's JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import Any

from relmark.errors import RelmarkError
from relmark.interact import offer_issue
from relmark.interact.compose import email_message, webhook_payload
from relmark.interact.delivery import Sender, SendOptions, SendReport
from relmark.store import outbox, transfer


@dataclass
class Preview:
    """One message as a dry run renders it: what the transport would be handed."""

    message_id: int
    playbook: str
    channel: str
    customer_id: int
    to: str | None = None
    subject: str | None = None
    text: str | None = None
    email: EmailMessage | None = None
    payload: dict[str, Any] | None = None
    error: str | None = None
    """Why it would not go out (it would be failed or held instead)."""


def preview(
    sender: Sender, options: SendOptions, limit: int
) -> tuple[list[Preview], int, SendReport]:
    """A dry run: the first `limit` messages a send would deliver now, rendered as the
    transport would get them; how many more are due; the quiet-hours count. Nothing is
    claimed or changed."""
    report = SendReport()
    shown: list[Preview] = []
    more = 0
    for message_id in sender.due(options.as_of(), options.batch, report):
        if len(shown) >= limit:
            more += 1
            continue
        rendered = _render(sender, message_id, options.as_of())
        if rendered is not None:
            shown.append(rendered)
    return shown, more, report


def _render(sender: Sender, message_id: int, now: datetime) -> Preview | None:
    with sender.engine.connect() as connection:
        message = outbox.message_row(connection, message_id)
        if message is None or message["status"] != "planned":
            return None  # sent or held by someone else meanwhile
        facts = outbox.render_facts(connection, message)
        share = message["channel"] != "webhook" or transfer.may_share(
            connection, int(message["customer_id"])
        )
        book = sender.playbooks.get(message["playbook"])
        # A dry run issues nothing: the code reserved by an earlier attempt, or a sample.
        offer = (
            offer_issue.sample(
                book, facts, sender.branding.default_zone, now, connection, message_id
            )
            if book is not None
            else None
        )
    preview = Preview(
        message_id,
        str(message["playbook"]),
        str(message["channel"]),
        int(message["customer_id"]),
    )
    if facts["customer"].get("restricted_at") is not None:
        preview.error = "the customer restricted processing: it would be held"
        return preview
    try:
        composed = sender.compose(message, facts, share, offer=offer)
    except RelmarkError as exc:
        preview.error = str(exc)
        return preview
    preview.subject, preview.text = composed.rendered.subject, composed.rendered.text
    if message["channel"] == "webhook":
        preview.to = composed.phone
        preview.payload = webhook_payload(composed, message)
    elif not composed.recipient:
        preview.error = "the customer has no e-mail address"
    else:
        preview.to = composed.recipient
        written = datetime.now().astimezone()
        preview.email = email_message(composed, message, sender.branding, written)
    return preview
