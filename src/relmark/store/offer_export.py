"""Offers for the shop, streamed: `relmark offers export` writes a million codes in bounded
memory (rows arrive from a server-side cursor in pages and go straight to the file).

Two layouts:

- `csv`: relmark's own columns (code, kind, status, value, customer, validity, conditions).
  A customer's e-mail travels only when the customer consented to third-party sharing
  (`store.transfer`); a restricted customer's offer keeps its code and terms (the checkout
  must still honour it) but names no customer at all.
- `shopify`: Shopify's admin has no CSV import of discount codes; shops bulk-load them with
  an import app, and the de-facto layout is Matrixify's "Discounts" sheet, whose column
  names we use. Each code is its own discount (value, expiry and use limit differ per code),
  so `Title` is the code itself: rows sharing a Title would become codes of one discount.
  `Command` is MERGE, so importing a newer export updates codes instead of failing on them.
  `Type` is `Percentage` or `Fixed Amount` and `Value` the positive number off (check the
  sign convention against the app's current template before the first import);
  `Minimum Requirement` is `Subtotal` with the amount in `Minimum Requirement Subtotal`, or
  `None`; `Usage Limit` is the code's uses and `Applies Once Per Customer` is TRUE;
  `Starts At`/`Ends At` are ISO 8601 in UTC. Gifts are not discounts and are left out.
  No customer columns: Shopify's customer ids are not relmark's.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any, Literal

from sqlalchemy import Connection, text

from relmark.errors import InvalidInput
from relmark.store import transfer
from relmark.store.types import UTCDateTime

Layout = Literal["csv", "shopify"]
STATUSES = ("reserved", "issued", "redeemed", "expired", "void")
PAGE = 5_000

CSV_HEADER = (
    "code",
    "kind",
    "status",
    "percent_off",
    "amount",
    "currency",
    "gift",
    "customer_id",
    "email",
    "issued_at",
    "expires_at",
    "min_order",
    "max_uses",
    "uses",
)
SHOPIFY_HEADER = (
    "Title",
    "Command",
    "Code",
    "Type",
    "Value",
    "Minimum Requirement",
    "Minimum Requirement Subtotal",
    "Usage Limit",
    "Applies Once Per Customer",
    "Starts At",
    "Ends At",
)


@cache
def _precision(currency: str) -> int:
    from babel.numbers import UnknownCurrencyError, get_currency_precision

    try:
        return int(get_currency_precision(currency))
    except UnknownCurrencyError:
        return 2


def major(minor: int | None, currency: str | None) -> str | None:
    """`1250`, `EUR` → `12.50`: an amount as the shop types it (exact, no float)."""
    if minor is None:
        return None
    digits = _precision(currency or "XXX")
    return str(Decimal(minor).scaleb(-digits).quantize(Decimal(1).scaleb(-digits)))


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def percent_text(value: Any) -> str | None:
    return None if value is None else format(Decimal(value).normalize(), "f")


def checked_status(status: str | None) -> str | None:
    if status is not None and status not in STATUSES:
        raise InvalidInput.single("--status", f"{status!r} is not one of {', '.join(STATUSES)}")
    return status


def _query(status: str | None, layout: Layout) -> tuple[Any, dict[str, Any]]:
    where = ["o.status = :status" if status else "o.status <> 'reserved'"]
    if layout == "shopify":
        where.append("(o.percent_off IS NOT NULL OR o.amount_minor IS NOT NULL)")
    statement = text(
        "SELECT o.code, o.kind, o.status, o.percent_off, o.amount_minor, o.currency, o.gift, "
        "l.id, l.email, l.restricted_at, o.issued_at, o.expires_at, o.min_order_minor, "
        "o.max_uses, o.uses FROM offers o JOIN customers c ON c.id = o.customer_id "
        "JOIN customers l ON l.id = COALESCE(c.merged_into_id, c.id) "
        f"WHERE {' AND '.join(where)} ORDER BY o.id"
    ).columns(restricted_at=UTCDateTime(), issued_at=UTCDateTime(), expires_at=UTCDateTime())
    return statement, {"status": status}


def offer_rows(
    connection: Connection, status: str | None = None, layout: Layout = "csv"
) -> Iterator[tuple[Any, ...]]:
    """The export's rows (without the header), one page of the cursor at a time. `status`
    None means every offer that went out (all but reserved ones)."""
    statement, params = _query(checked_status(status), layout)
    shared = transfer.sharing_consented(connection) if layout == "csv" else set()
    streamed = statement.execution_options(stream_results=True, yield_per=PAGE)
    for row in connection.execute(streamed, params):
        (code, kind, state, percent, amount, currency, gift, customer, email, restricted) = row[:10]
        issued, expires, min_order, max_uses, uses = row[10:]
        if layout == "shopify":
            yield (
                code,
                "MERGE",
                code,
                "Percentage" if percent is not None else "Fixed Amount",
                percent_text(percent) if percent is not None else major(amount, currency),
                "Subtotal" if min_order else "None",
                major(min_order, currency) if min_order else None,
                max_uses,
                "TRUE",
                _iso(issued),
                _iso(expires),
            )
            continue
        hidden = restricted is not None
        yield (
            code,
            kind,
            state,
            percent_text(percent),
            major(amount, currency),
            currency,
            gift,
            None if hidden else customer,
            email if not hidden and customer in shared else None,
            _iso(issued),
            _iso(expires),
            major(min_order, currency),
            max_uses,
            uses,
        )


def header(layout: Layout) -> tuple[str, ...]:
    return SHOPIFY_HEADER if layout == "shopify" else CSV_HEADER
