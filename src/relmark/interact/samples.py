"""Sample messages for an operator's test send: one per playbook, never a customer's own.

A sample is rendered from a real planned message when there is one (the real words a
customer would read), else from a made-up customer with a made-up order. Either way its
links are signed for message 0 and customer 0: the operator clicking "unsubscribe" or a
rating in a test message changes no customer's consent or history, and its offer code is a
sample that can never be redeemed (`relmark.interact.offer_issue.sample`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from email.utils import make_msgid
from typing import Any

from relmark.interact.playbook import Playbook, TriggerKind

TEST_MARK = "[TEST]"


def made_up_facts(book: Playbook, now: datetime, currency: str) -> dict[str, Any]:
    """A believable customer (and order, product) for the playbook's template."""
    facts: dict[str, Any] = {
        "customer": {
            "id": 0,
            "first_name": "Alex",
            "email": None,
            "phone": None,
            "language": None,
            "country": None,
            "timezone": None,
            "customer_since": now - timedelta(days=400),
            "birthday": None,
            "restricted_at": None,
        },
        "referral_code": "REF-SAMPLE22",
    }
    if book.trigger.on in (TriggerKind.ORDER, TriggerKind.FIRST_PURCHASE_WITH_HOWTO):
        facts["order"] = {
            "id": 0,
            "external_id": "TEST-1001",
            "ordered_at": now - timedelta(days=book.trigger.delay_days),
            "amount_minor": 4990,
            "currency": currency,
            "products": ["Sample product"],
        }
    if book.trigger.on is TriggerKind.FIRST_PURCHASE_WITH_HOWTO:
        facts["product"] = {"name": "Sample product", "howto_url": "https://example.com/howto"}
    return facts


def sample_row(
    book: Playbook, real: dict[str, Any] | None, now: datetime, mail_domain: str
) -> dict[str, Any]:
    """The outbox-shaped row a sample is composed from: the real message's occasion and
    context when there is one, but its own ids, key and Message-ID."""
    base = real or {"occasion": "test", "context": {}, "priority": book.priority}
    return {
        **base,
        "id": 0,
        "customer_id": 0,
        "playbook": book.name,
        "purpose": book.purpose.value,
        "channel": "email",  # the operator reads every sample as an e-mail
        "idempotency_key": f"test:{book.name}:{now.isoformat()}",
        "rfc_message_id": make_msgid("relmark-test", domain=mail_domain),
        "attempts": 0,
    }
