"""Quiet hours at the moment of sending, not only at planning.

The planner moves a due time that falls in quiet hours to their end, but a message can still
become sendable at night: a sender that ran late, or one run with `--as-of` at a moment that
is night for the customer. The sender asks here before each message and leaves it planned
until the quiet period is over in the customer's own timezone.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from relmark.interact.occasions import known_zone
from relmark.interact.policy import ContactPolicy


@lru_cache(maxsize=1024)  # the list of known zones is read from disk on every check
def zone_of(timezone: str | None, default_zone: str) -> ZoneInfo:
    """The customer's timezone when it is a real one, else the store's (as the planner does)."""
    return ZoneInfo(timezone if timezone and known_zone(timezone) else default_zone)


def in_quiet(local: time, policy: ContactPolicy) -> bool:
    start, end = policy.quiet_start, policy.quiet_end
    if not policy.quiet:
        return False
    if start > end:  # over midnight, e.g. 21:00 → 08:00
        return local >= start or local < end
    return start <= local < end


def quiet_until(now: datetime, zone: ZoneInfo, policy: ContactPolicy) -> datetime | None:
    """When the quiet period that `now` falls in ends for someone in `zone` (an aware time),
    or None when it is not quiet there now."""
    local = now.astimezone(zone)
    if not in_quiet(local.time(), policy):
        return None
    end = datetime.combine(local.date(), policy.quiet_end, tzinfo=zone)
    if end <= local:
        end = datetime.combine(local.date() + timedelta(days=1), policy.quiet_end, tzinfo=zone)
    return end
