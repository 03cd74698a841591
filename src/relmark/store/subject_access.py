"""Right of access: everything relmark holds about one person, table by table.

A person may have had several profiles before identity resolution joined them: the export
covers the live profile and every profile merged into it, however indirectly. Each section is
a list of plain rows (column → value) so the interface can write it as JSON and as CSV; rows
carry the ids that tie them together (customer, message, order). Staff names and addresses in
the audit trail are staff's data, not the customer's: the export lists who-kind, what and
when of each access, not who.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, func, or_, select

from relmark.store import audit, rectification
from relmark.store.live import absorbed_into
from relmark.store.models import (
    Consent,
    Customer,
    CustomerEvent,
    CustomerScore,
    Mention,
    Merge,
    Message,
    MessageEvent,
    Order,
    OrderLine,
    Product,
    ReviewPair,
    ScoreRun,
    SourceRecord,
    SupportContact,
    TrackedMessage,
)

#: Section name → what it holds, in the order the export lists them (the README explains
#: each in the customer's language).
SECTIONS = (
    "profiles",
    "source_records",
    "merges",
    "review_pairs",
    "rectifications",
    "orders",
    "order_lines",
    "scores",
    "consents",
    "messages",
    "link_events",
    "ratings",
    "mentions",
    "support_contacts",
    "customer_events",
    "tracking_messages",
    "accesses",
)


def find(connection: Connection, reference: str) -> int | None:
    """The live profile of a customer id or an e-mail address (profile or any source
    record, case-insensitive); None when nothing matches."""
    reference = reference.strip()
    if reference.isdigit() and len(reference) < 19:
        exists = connection.execute(
            select(Customer.id).where(Customer.id == int(reference))
        ).scalar_one_or_none()
        return None if exists is None else rectification.live_customer(connection, exists)
    email = reference.casefold()
    found = connection.execute(
        select(Customer.id).where(func.lower(Customer.email) == email).order_by(Customer.id)
    ).scalar()
    if found is None:
        found = connection.execute(
            select(SourceRecord.customer_id)
            .where(
                or_(SourceRecord.email_key == email, func.lower(SourceRecord.email) == email),
                SourceRecord.customer_id.is_not(None),
            )
            .order_by(SourceRecord.id)
        ).scalar()
    return None if found is None else rectification.live_customer(connection, int(found))


def _rows(connection: Connection, statement: Any) -> list[dict[str, Any]]:
    return [dict(r) for r in connection.execute(statement).mappings()]


def collect(connection: Connection, customer_id: int) -> dict[str, list[dict[str, Any]]]:
    """Every section for the live profile `customer_id` and the profiles merged into it."""
    ids = absorbed_into(connection, customer_id)
    orders = _rows(
        connection,
        select(Order.__table__).where(Order.customer_id.in_(ids)).order_by(Order.ordered_at),
    )
    order_ids = [o["id"] for o in orders]
    messages = _rows(
        connection,
        select(Message.__table__).where(Message.customer_id.in_(ids)).order_by(Message.due_at),
    )
    message_ids = [m["id"] for m in messages]
    events = _rows(
        connection,
        select(MessageEvent.__table__)
        .where(or_(MessageEvent.customer_id.in_(ids), MessageEvent.message_id.in_(message_ids)))
        .order_by(MessageEvent.at, MessageEvent.id),
    )
    sections: dict[str, Callable[[], list[dict[str, Any]]]] = {
        "profiles": lambda: _rows(
            connection, select(Customer.__table__).where(Customer.id.in_(ids)).order_by("id")
        ),
        "source_records": lambda: _rows(
            connection,
            select(SourceRecord.__table__)
            .where(SourceRecord.customer_id.in_(ids))
            .order_by(SourceRecord.id),
        ),
        "merges": lambda: _rows(
            connection,
            select(Merge.__table__)
            .where(or_(Merge.survivor_id.in_(ids), Merge.absorbed_id.in_(ids)))
            .order_by(Merge.at, Merge.id),
        ),
        "review_pairs": lambda: _rows(
            connection,
            select(ReviewPair.__table__)
            .where(or_(ReviewPair.customer_a.in_(ids), ReviewPair.customer_b.in_(ids)))
            .order_by(ReviewPair.id),
        ),
        "rectifications": lambda: [
            {k: v for k, v in row.items() if k != "actor"}
            for row in rectification.pins_of(connection, ids)
        ],
        "orders": lambda: orders,
        "order_lines": lambda: _rows(
            connection,
            select(OrderLine.__table__, Product.name.label("product_name"))
            .outerjoin(Product, Product.id == OrderLine.product_id)
            .where(OrderLine.order_id.in_(order_ids))
            .order_by(OrderLine.order_id, OrderLine.line_no),
        ),
        "scores": lambda: _rows(
            connection,
            select(
                CustomerScore.__table__,
                ScoreRun.as_of.label("run_as_of"),
                ScoreRun.model.label("run_model"),
                ScoreRun.currency.label("run_currency"),
                ScoreRun.p_alive_reason.label("run_p_alive_reason"),
                ScoreRun.clv_reason.label("run_clv_reason"),
            )
            .join(ScoreRun, ScoreRun.id == CustomerScore.run_id)
            .where(CustomerScore.customer_id.in_(ids))
            .order_by(CustomerScore.run_id),
        ),
        "consents": lambda: _rows(
            connection,
            select(Consent.__table__)
            .where(Consent.customer_id.in_(ids))
            .order_by(Consent.recorded_at, Consent.id),
        ),
        "messages": lambda: messages,
        "link_events": lambda: [e for e in events if e["kind"] != "rating"],
        "ratings": lambda: [e for e in events if e["kind"] == "rating"],
        "mentions": lambda: _rows(
            connection,
            select(Mention.__table__).where(Mention.customer_id.in_(ids)).order_by(Mention.id),
        ),
        "support_contacts": lambda: _rows(
            connection,
            select(SupportContact.__table__)
            .where(SupportContact.customer_id.in_(ids))
            .order_by(SupportContact.at, SupportContact.id),
        ),
        "customer_events": lambda: _rows(
            connection,
            select(CustomerEvent.__table__)
            .where(CustomerEvent.customer_id.in_(ids))
            .order_by(CustomerEvent.at, CustomerEvent.id),
        ),
        "tracking_messages": lambda: _rows(
            connection,
            select(TrackedMessage.__table__)
            .where(TrackedMessage.customer_id.in_(ids))
            .order_by(TrackedMessage.received_at),
        ),
        "accesses": lambda: [
            {k: e[k] for k in ("at", "actor_kind", "action", "customer_id", "detail")}
            for i in ids
            for e in audit.entries(connection, customer_id=i, limit=100_000)
        ],
    }
    return {name: sections[name]() for name in SECTIONS}


def export(
    connection: Connection, customer_id: int, actor: audit.Actor
) -> dict[str, list[dict[str, Any]]]:
    """`collect`, recorded in the audit trail in the caller's transaction (section sizes
    only): an export that does not commit leaves no claim that it happened."""
    data = collect(connection, customer_id)
    audit.record(
        connection,
        actor,
        "customer.export",
        customer_id=customer_id,
        detail={"rows": {name: len(rows) for name, rows in data.items() if rows}},
    )
    return data
