"""The demo shop has set its offers up: it switches on the playbooks that promise money or
goods, which a new store leaves off until someone does (`relmark playbooks enable`)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from relmark.interact.playbook import OFFER_FIRST
from relmark.store.audit import Actor

if TYPE_CHECKING:
    from relmark.interaction import Interaction


def enable_offers(relmark: Interaction, now: datetime) -> list[str]:
    """Enable every playbook waiting for its offer to be configured (audited as the person
    running the demo); their names."""
    waiting = [
        row["name"]
        for row in relmark.playbook_list()
        if not row["enabled"] and row["reason"] == OFFER_FIRST
    ]
    for name in waiting:
        relmark.enable(name, True, now, Actor.cli())
    return waiting
