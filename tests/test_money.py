"""Money is parsed exactly from text into integer minor units; nothing is ever rounded."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from relmark.ingest.contracts import ORDERS
from relmark.ingest.readers import LINE
from relmark.ingest.validate import Context, check

CONTEXT = Context("EUR", "UTC", date(2026, 6, 1))


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("19.99", "EUR", 1999),
        ("0.1", "EUR", 10),
        (".5", "EUR", 50),
        ("7.", "EUR", 700),
        ("+5", "EUR", 500),
        ("19.990", "EUR", 1999),
        ("19.99000", "EUR", 1999),
        ("1500", "JPY", 1500),
        ("1.234", "KWD", 1234),
        ("0", "USD", 0),
        ("90071992547409.93", "USD", 9007199254740993),
    ],
)
def test_amounts_become_exact_minor_units(text: str, currency: str, minor: int) -> None:
    frame = pl.DataFrame({"amount": [text], "currency": [currency], LINE: [2]})

    checked = check(frame, ORDERS, CONTEXT)

    assert checked.problems.height == 0
    assert checked.frame["amount"].to_list() == [minor]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1e3", "is not a number"),
        ("12,50", "is not a number"),
        ("19.999", "has more decimals"),
        ("19.99001", "has more decimals"),
        ("-1", "must not be negative"),
        ("1234567890123456789.00", "is too large"),
    ],
)
def test_amounts_that_are_refused(text: str, message: str) -> None:
    frame = pl.DataFrame({"amount": [text], "currency": ["EUR"], LINE: [2]})

    checked = check(frame, ORDERS, CONTEXT)

    assert checked.frame["amount"].to_list() == [None]
    assert message in checked.problems["message"][0]
