"""The input rules every way in shares (file imports, the tracking endpoint), so a value one
refuses the other refuses too. Pure Python: the tracking endpoint imports it without Polars."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal

#: Control characters refused in text: C0 except tab, line feed and carriage return, and DEL.
CONTROL = r"[\x00-\x08\x0B\x0C\x0E-\x1F\x7F]"
_CONTROL = re.compile(CONTROL)

#: Amounts are stored as 64-bit integers of minor units; the importer counts in 1/10,000 units,
#: so an amount must stay below 9 × 10^14 units of its currency to fit with room for sums.
MAX_TEN_THOUSANDTHS = 9 * 10**18
MAX_AMOUNT = Decimal(MAX_TEN_THOUSANDTHS) / 10_000

#: Nothing relmark keeps (orders, birthdays, customer since) happened before this.
EARLIEST_YEAR = 1900
EARLIEST = datetime(EARLIEST_YEAR, 1, 1, tzinfo=UTC)
EARLIEST_DATE = date(EARLIEST_YEAR, 1, 1)

#: 64-bit signed integers: what the store and every client language can hold.
INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)


def control_problem(text: str) -> str | None:
    """Why `text` is refused for its control characters (the first one, by code), or None."""
    found = _CONTROL.search(text)
    return None if found is None else f"contains control characters (U+{ord(found[0]):04X})"


def length_problem(text: str, limit: int) -> str | None:
    return f"is longer than {limit} characters" if len(text) > limit else None
