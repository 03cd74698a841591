"""Before the real send: a dry run, a test send to the operator, what waits for quiet hours.

The seam the `send` command (and the engine) call, like `interaction`: each opens what it
needs from the store. None of them claims, holds or changes a message in the outbox.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from email.utils import parseaddr
from typing import Any

from relmark.errors import InvalidInput, RelmarkError
from relmark.interact import offer_issue, samples
from relmark.interact.compose import compose
from relmark.interact.delivery import SendOptions, SendReport, Transport
from relmark.interact.preview import Preview, preview
from relmark.interaction import Interaction
from relmark.store import audit, outbox, send_queue
from relmark.store.audit import Actor


def dry_run(
    relmark: Interaction, options: SendOptions, limit: int
) -> tuple[list[Preview], int, SendReport]:
    """The first `limit` messages `send` would deliver now, rendered; how many more; the
    quiet-hours count. Works without a transport configured (nothing is sent)."""
    return preview(relmark.sender({}, options.as_of()), options, limit)


def waiting_for_quiet_hours(
    relmark: Interaction, now: datetime, report: SendReport
) -> tuple[int, datetime | None]:
    """Messages waiting for quiet hours to end: those a send just left for the customer's
    night, and those the planner already moved to the end of it. How many, and when the
    first may go."""
    with relmark.engine.connect() as connection:
        deferred, earliest = send_queue.deferred_for_quiet_hours(connection, now)
    times = [t for t in (earliest, report.quiet_until) if t is not None]
    return deferred + report.quiet, min(times) if times else None


def send_samples(
    relmark: Interaction,
    to: str,
    now: datetime,
    *,
    transports: dict[str, Transport] | None = None,
    actor: Actor | None = None,
) -> list[dict[str, Any]]:
    """One sample of each enabled playbook to the operator at `to`, marked as a test in the
    subject, through the configured e-mail transport; the outbox is not touched. A sample
    drawn from a real customer's planned message is an audited read of their data."""
    address = parseaddr(to)[1]
    if "@" not in address or address != to.strip():
        raise InvalidInput.single("--test-to", f"{to!r} is not an e-mail address")
    transports = relmark.transports() if transports is None else transports
    transport = transports.get("email")
    if transport is None:
        raise RelmarkError("a test send needs e-mail delivery: set RELMARK_SMTP_HOST")
    sender = relmark.sender(transports, now)
    branding = sender.branding
    results = []
    try:
        for book in relmark.enabled_playbooks():
            with relmark.engine.begin() as connection:
                real = send_queue.sample_message(connection, book.name)
                facts = outbox.render_facts(connection, real) if real else None
                if facts and facts["customer"].get("restricted_at") is not None:
                    real, facts = None, None  # a restricted customer's data is not used
                if real is not None:
                    audit.record(
                        connection,
                        actor or Actor.cli(),
                        "message.test_send",
                        customer_id=int(real["customer_id"]),
                        detail={"playbook": book.name, "message_id": int(real["id"])},
                        at=now,
                    )
            facts = facts or samples.made_up_facts(book, now, relmark.settings.currency)
            row = samples.sample_row(book, real, now, branding.mail_domain)
            # a sample code that can never be redeemed: a test send promises nothing
            offer = offer_issue.sample(book, facts, branding.default_zone, now)
            composed = compose(
                row, facts, book, sender.templates, branding, sender.signer, sender.secret, offer
            )
            rendered = composed.rendered
            composed = replace(
                composed,
                recipient=address,
                rendered=replace(rendered, subject=f"{samples.TEST_MARK} {rendered.subject}"),
            )
            transport.deliver(row, composed, branding)
            results.append(
                {
                    "playbook": book.name,
                    "from_customer": int(real["customer_id"]) if real else None,
                    "subject": composed.rendered.subject,
                }
            )
    finally:
        transport.close()
    return results
