"""The erasure contract covers every text and JSON column: a column added without deciding
whether erasure must clear it fails here."""

from __future__ import annotations

from sqlalchemy import JSON, String, Text

from relmark.store.models import Base
from relmark.store.personal_data import NOT_PERSONAL, PERSONAL


def text_columns() -> set[tuple[str, str]]:
    return {
        (table.name, column.name)
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, String | Text | JSON)
    }


def test_every_text_or_json_column_is_classified_once() -> None:
    # given the models' text and JSON columns, and the contract
    personal = {(t, c) for t, columns in PERSONAL.items() for c in columns}
    other = {(t, c) for t, columns in NOT_PERSONAL.items() for c in columns}

    # then each is in exactly one list, and the lists name no column that does not exist
    assert personal & other == set()
    assert text_columns() - personal - other == set(), "classify it in store/personal_data.py"
    every = {(t.name, c.name) for t in Base.metadata.sorted_tables for c in t.columns}
    assert (personal | other) - every == set()  # (birthday is personal, and a date)
    assert {how for columns in PERSONAL.values() for how in columns.values()} <= {
        "null",
        "replace",
        "scrub",
        "delete",
    }
