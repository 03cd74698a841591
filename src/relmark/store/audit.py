"""The audit trail: who read or changed which customer's personal data, when, from where.

Every privacy-relevant act (a 360 view, an export, an erasure, a rectification, a
restriction, a consent change, a policy or playbook change) calls `record` in the same
transaction as the act, so an act without its entry cannot commit. Entries hold ids and
field names, never personal values: the trail survives an erasure and leaks nothing.
"""

from __future__ import annotations

import getpass
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from relmark.store.models import AuditEntry

AUDIT = AuditEntry.__table__
ACTOR_KINDS = ("user", "key", "cli", "engine", "tracking", "link")


@dataclass(frozen=True)
class Actor:
    """Who acted: a dashboard user, an API key, a CLI user on a host, the engine, a
    tracking call or a customer's own link (unsubscribe, preferences)."""

    kind: str
    name: str
    origin: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in ACTOR_KINDS:
            raise ValueError(f"unknown actor kind {self.kind!r}; one of {ACTOR_KINDS}")

    @classmethod
    def cli(cls) -> Actor:
        """The operating-system user running this command, on this host."""
        try:
            user = getpass.getuser()
        except (KeyError, OSError):
            user = "unknown"
        return cls("cli", user, socket.gethostname())

    @classmethod
    def engine(cls) -> Actor:
        return cls("engine", "relmark run", socket.gethostname())


def record(
    connection: Connection,
    actor: Actor,
    action: str,
    *,
    customer_id: int | None = None,
    detail: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    """Append one entry. `detail` names fields and counts, never personal values."""
    connection.execute(
        insert(AUDIT).values(
            at=at or datetime.now(UTC),
            actor_kind=actor.kind,
            actor=actor.name[:200],
            origin=actor.origin[:200] if actor.origin else None,
            action=action[:60],
            customer_id=customer_id,
            detail=dict(detail) if detail else None,
        )
    )


def entries(
    connection: Connection,
    *,
    customer_id: int | None = None,
    since: datetime | None = None,
    limit: int = 1000,
) -> list[dict[str, Any]]:
    """The newest entries first, filtered by customer and time."""
    query = select(AUDIT).order_by(AUDIT.c.at.desc(), AUDIT.c.id.desc()).limit(limit)
    if customer_id is not None:
        query = query.where(AUDIT.c.customer_id == customer_id)
    if since is not None:
        query = query.where(AUDIT.c.at >= since)
    return [dict(row) for row in connection.execute(query).mappings()]
