"""Columns that hold codes customers type (a referral code on an order), checked as typed:
spaces and case forgiven, a missing dash put back, anything else refused with its shape."""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from relmark.store.offer_codes import LENGTH
from relmark.store.referral_codes import PREFIX, SHAPE

if TYPE_CHECKING:
    from relmark.ingest.contracts import Column
    from relmark.ingest.validate import Context


def referral_code(
    raw: pl.Expr, value: pl.Expr, column: Column, context: Context
) -> tuple[pl.Expr, pl.Expr]:
    """REF-7KQ2M9TX in its stored form; whether it exists is decided when the order is
    stored (an unknown code is counted, the order still imported)."""
    cleaned = raw.str.replace_all(r"\s", "").str.to_uppercase()
    length = cleaned.str.len_chars()
    dashed = (
        pl.when(~cleaned.str.contains("-", literal=True) & (length > LENGTH))
        .then(cleaned.str.slice(0, length - LENGTH) + "-" + cleaned.str.slice(-LENGTH))
        .otherwise(cleaned)
    )
    message = pl.when(raw.is_not_null() & ~dashed.str.contains(SHAPE)).then(
        pl.lit(f"is not a referral code (they look like {PREFIX}-7KQ2M9TX)")
    )
    return dashed, message
