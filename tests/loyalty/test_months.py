"""Expiry dates move by whole months in SQL the same way on every backend (and as Polars
does): a month-end is clamped, the time of day is kept to the microsecond."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
from sqlalchemy import Engine, bindparam, text

from relmark.store.dialects import dialect_of
from relmark.store.types import UTCDateTime

MOMENTS = [
    datetime(2024, 2, 29, 10, 11, 12, 123456, tzinfo=UTC),
    datetime(2024, 1, 31, 0, 0, tzinfo=UTC),
    datetime(2025, 6, 15, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(2024, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    *(datetime(2023, 1, 27, 8, tzinfo=UTC) + timedelta(days=d) for d in range(0, 400, 7)),
]


def test_add_months_agrees_with_polars_on_every_backend(engine: Engine) -> None:
    with engine.connect() as connection:
        dialect = dialect_of(connection)
        for months in (1, 11, 12, 13, 24):
            expected = pl.Series(MOMENTS).dt.offset_by(f"{months}mo").to_list()
            got = [
                connection.execute(
                    text(f"SELECT {dialect.add_months('x.at', months)} FROM (SELECT :at AS at) x")
                    .bindparams(bindparam("at", type_=UTCDateTime()))
                    .columns(),
                    {"at": moment},
                ).scalar_one()
                for moment in MOMENTS
            ]
            as_text = [
                g if isinstance(g, str) else g.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
                for g in got
            ]
            assert as_text == [e.strftime("%Y-%m-%d %H:%M:%S.%f") for e in expected], months
