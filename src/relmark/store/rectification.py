"""Rectification: a customer's corrected profile values, pinned over what sources say.

Survivorship chooses each profile field from the customer's source records, and an import
writes a changed record's values over the profile. A corrected value must outlive both: it is
kept as a pin (one row per correction, the newest per field wins) and re-applied after every
write that chooses profile values again (`reapply`). A merged profile keeps the pins of every
profile folded into it; a newer pin of the same field wins.

Validation (is this an e-mail, a date, a language?) belongs to the ingest stage and is
composed in `relmark.pipeline.rectify`; this module only stores and applies.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update

from relmark.enums import EventKind
from relmark.errors import RelmarkError
from relmark.store import audit
from relmark.store.live import live_profile
from relmark.store.models import PROFILE_COLUMNS, Customer, CustomerEvent, Rectification

#: Profile fields a customer may have corrected (customer_since and free attributes are
#: facts of the relationship, not statements about the person).
FIELDS = tuple(c for c in PROFILE_COLUMNS if c not in ("customer_since", "attributes"))
PINS = Rectification.__table__


def _as_text(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, date) else value


def _typed(field: str, value: str | None) -> Any:
    return date.fromisoformat(value) if field == "birthday" and value else value


def live_customer(connection: Connection, customer_id: int) -> int:
    """The profile that holds the person now (follows merges); refuses an unknown id."""
    found = live_profile(connection, customer_id)
    if found is None:
        raise RelmarkError(f"no customer with id {customer_id}")
    return found


def rectify(
    connection: Connection,
    customer_id: int,
    values: dict[str, Any],
    actor: audit.Actor,
    now: datetime,
) -> list[str]:
    """Pin validated `values` on the live profile, log the event and the audit entry (field
    names only). Returns the fields that changed; an unchanged value is not pinned again."""
    unknown = sorted(set(values) - set(FIELDS))
    if unknown:
        raise RelmarkError(f"cannot rectify {', '.join(unknown)}; fields: {', '.join(FIELDS)}")
    current = (
        connection.execute(
            select(*(Customer.__table__.c[f] for f in FIELDS)).where(Customer.id == customer_id)
        )
        .mappings()
        .one()
    )
    changed = [f for f in FIELDS if f in values and current[f] != values[f]]
    if not changed:
        return []
    connection.execute(
        insert(PINS),
        [
            {
                "customer_id": customer_id,
                "field": field,
                "value": _as_text(values[field]),
                "at": now,
                "actor_kind": actor.kind,
                "actor": actor.name[:200],
            }
            for field in changed
        ],
    )
    connection.execute(
        update(Customer)
        .where(Customer.id == customer_id)
        .values(**{f: values[f] for f in changed}, updated_at=now)
    )
    connection.execute(
        insert(CustomerEvent).values(
            at=now,
            customer_id=customer_id,
            kind=EventKind.CUSTOMER_RECTIFIED.value,
            parameters={"fields": changed, "actor_kind": actor.kind, "actor": actor.name},
        )
    )
    audit.record(
        connection, actor, "customer.rectify", customer_id=customer_id, detail={"fields": changed}
    )
    return changed


def pins_of(connection: Connection, customer_ids: list[int]) -> list[dict[str, Any]]:
    """Every correction of these profiles, oldest first (for the subject-access export)."""
    rows = connection.execute(
        select(PINS).where(PINS.c.customer_id.in_(customer_ids)).order_by(PINS.c.at, PINS.c.id)
    ).mappings()
    return [dict(r) for r in rows]


def _survivor_map(connection: Connection, pinned: list[int]) -> dict[int, int]:
    """Pinned profile id → the live profile holding it now."""
    parent: dict[int, int | None] = {
        int(i): m
        for i, m in connection.execute(
            select(Customer.id, Customer.merged_into_id).where(Customer.id.in_(pinned))
        )
    }
    out = {}
    for start in pinned:
        current, hops = start, 0
        while parent.get(current) is not None and hops < 100:
            nxt = int(parent[current])  # type: ignore[arg-type]
            if nxt not in parent:
                parent[nxt] = connection.execute(
                    select(Customer.merged_into_id).where(Customer.id == nxt)
                ).scalar()
            current, hops = nxt, hops + 1
        out[start] = current
    return out


def reapply(connection: Connection, customer_ids: list[int] | None = None) -> int:
    """Write the newest pin of each field over the live profiles that hold pins (only those
    among `customer_ids` when given). Returns the profiles written."""
    pinned = [int(c) for c in connection.execute(select(PINS.c.customer_id).distinct()).scalars()]
    if not pinned:
        return 0
    survivor = _survivor_map(connection, pinned)
    wanted = None if customer_ids is None else set(customer_ids)
    newest: dict[int, dict[str, tuple[datetime, int, str | None]]] = {}
    for row in connection.execute(select(PINS)).mappings():
        target = survivor[row["customer_id"]]
        if wanted is not None and target not in wanted:
            continue
        fields = newest.setdefault(target, {})
        key = (row["at"], row["id"], row["value"])
        if row["field"] not in fields or key[:2] > fields[row["field"]][:2]:
            fields[row["field"]] = key
    for field in FIELDS:  # one batched statement per field
        batch = [
            {"target": target, "pinned": _typed(field, fields[field][2])}
            for target, fields in newest.items()
            if field in fields
        ]
        if batch:
            connection.execute(
                update(Customer.__table__)
                .where(Customer.__table__.c.id == bindparam("target"))
                .values({field: bindparam("pinned")}),
                batch,
            )
    return len(newest)


def forget(connection: Connection, customer_ids: list[int]) -> int:
    """Delete the pins of these profiles (an erasure must: they hold personal values)."""
    result = connection.execute(delete(PINS).where(PINS.c.customer_id.in_(customer_ids)))
    return int(result.rowcount or 0)
