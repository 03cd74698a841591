"""Ids in old links, exports and requests lead to the profile that holds the person now."""

from __future__ import annotations

from sqlalchemy import text

from relmark.store.live import live_profile


def test_merges_are_followed_along_the_chain(engine) -> None:  # noqa: ANN001
    # given 3 merged into 2, 2 merged into 1 (a survivor that merged again), and 4 alone
    with engine.begin() as connection:
        for customer_id in (1, 2, 3, 4):
            connection.execute(
                text(
                    "INSERT INTO customers (id, created_at, updated_at) "
                    "VALUES (:i, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                {"i": customer_id},
            )
        connection.execute(text("UPDATE customers SET merged_into_id = 2 WHERE id = 3"))
        connection.execute(text("UPDATE customers SET merged_into_id = 1 WHERE id = 2"))

    # then every id leads to its live profile, and an unknown id to nothing
    with engine.connect() as connection:
        assert [live_profile(connection, c) for c in (1, 2, 3, 4)] == [1, 1, 1, 4]
        assert live_profile(connection, 99) is None
