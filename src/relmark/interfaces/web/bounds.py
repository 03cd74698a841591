"""Bounds on every number a URL can carry, so that no value reaches the store unchecked.

SQLite stops at signed 64-bit integers, PostgreSQL's id columns at 32-bit: a larger id,
amount or page raised an overflow deep in the driver and answered 500. Declared here once,
the bounds make such a request a 422 problem and show up in the OpenAPI document.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

#: The largest integer both stores accept (amounts in minor units are 64-bit columns).
MAX_INT64 = 2**63 - 1
#: Ids are 32-bit INTEGER columns: PostgreSQL refuses a larger one ("integer out of range").
MAX_ID = 2**31 - 1
#: More pages than any store could fill at the smallest page size; keeps the offset small.
MAX_PAGE = 1_000_000
MAX_PER_PAGE = 500

PageNumber = Annotated[int, Query(ge=1, le=MAX_PAGE, description="From 1.")]
PerPage = Annotated[int, Query(ge=1, le=MAX_PER_PAGE)]
CustomerIdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
CustomerIdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID)]
MinorUnits = Annotated[
    int | None, Query(ge=-MAX_INT64, le=MAX_INT64, description="Minor units (cents).")
]
ShortText = Annotated[str | None, Query(max_length=200)]
Name = Annotated[str, Path(max_length=200)]


def page_from(raw: str | None) -> int:
    """The dashboard's `?page=`: page 1 for anything that is not a page number in range."""
    text = (raw or "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > len(str(MAX_PAGE)):
        return 1
    return min(max(1, int(text)), MAX_PAGE)
