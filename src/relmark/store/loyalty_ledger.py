"""The points ledger's rules, set-based: postings, FIFO allocation of debits, expiry,
reversal of an order's points, and a balance that never goes below zero.

Every operation that changes a balance first takes the affected accounts' row locks on
PostgreSQL (SQLite has one writer at a time), then reads what is left of each earn entry:
two redemptions, an expiry and a reversal for one customer therefore run one after the
other, each seeing what the previous one committed. The account row is changed in the same
transaction as the entries, so it always equals the ledger's sum.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection, bindparam, insert, select, text

from relmark.errors import RelmarkError
from relmark.store.bulk_constraints import foreign_keys_checked_once, indexes_rebuilt_after
from relmark.store.loyalty_models import EntryKind, LoyaltyAccount, LoyaltyEntry
from relmark.store.types import UTCDateTime

ENTRIES = LoyaltyEntry.__table__
ACCOUNTS = LoyaltyAccount.__table__
EARNING_STATUSES = ("completed", "partially_refunded")
REVERSING_STATUSES = ("returned", "refunded")


class NotEnoughPoints(RelmarkError):
    """A debit larger than the balance: refused, nothing changed."""


@dataclass(frozen=True)
class ExpiryReport:
    entries: int
    points: int


def run(connection: Connection, sql: str, **params: Any) -> Any:
    """Execute `sql`; a parameter named `now` or ending in `_at` is bound as a UTC time."""
    statement = text(sql)
    params = {k: v for k, v in params.items() if f":{k}" in sql}
    times = [k for k in params if k == "now" or k.endswith("_at")]
    if times:
        statement = statement.bindparams(*(bindparam(k, type_=UTCDateTime()) for k in times))
    return connection.execute(statement, params)


def temp_table(connection: Connection, name: str, select_sql: str, **params: Any) -> None:
    """A temporary table holding `select_sql`'s rows (replacing one left by this session)."""
    run(connection, f"DROP TABLE IF EXISTS {name}")
    run(connection, f"CREATE TEMPORARY TABLE {name} AS {select_sql}", **params)
    if connection.dialect.name == "postgresql":
        run(connection, f"ANALYZE {name}")  # no statistics, no sensible join plan


def lock_accounts(connection: Connection, customers_sql: str, **params: Any) -> None:
    """Take the row locks of the accounts `customers_sql` names, in id order (no deadlocks
    between two jobs); SQLite's writer lock already serialises everything."""
    if connection.dialect.name == "postgresql":
        run(
            connection,
            f"SELECT customer_id FROM loyalty_accounts WHERE customer_id IN ({customers_sql}) "
            "ORDER BY customer_id FOR UPDATE",
            **params,
        )


def add_to_accounts(connection: Connection, deltas_sql: str, now: datetime, **params: Any) -> None:
    """Add each (customer_id, points) of `deltas_sql` to that customer's account, opening it
    if needed. A result below zero violates the CHECK: the whole transaction fails. (Not an
    upsert: the CHECK would judge the proposed row, a negative delta, before the conflict.)"""
    temp_table(
        connection,
        "loyalty_deltas",
        "SELECT d.customer_id, SUM(d.points) AS points, CASE WHEN EXISTS (SELECT 1 FROM "
        "loyalty_accounts a WHERE a.customer_id = d.customer_id) THEN 0 ELSE 1 END AS new_ "
        f"FROM ({deltas_sql}) d GROUP BY d.customer_id",
        **params,
    )
    # a new account starts at its first delta (one write, not an insert and an update); one
    # opened meanwhile by another transaction is added to (a new one's delta is never < 0)
    run(
        connection,
        "INSERT INTO loyalty_accounts (customer_id, balance, updated_at) "
        "SELECT customer_id, points, :now FROM loyalty_deltas WHERE new_ = 1 "
        "ON CONFLICT (customer_id) DO UPDATE SET "
        "balance = loyalty_accounts.balance + excluded.balance, updated_at = excluded.updated_at",
        now=now,
    )
    run(
        connection,
        "UPDATE loyalty_accounts SET balance = balance + d.points, updated_at = :now "
        "FROM loyalty_deltas d WHERE d.customer_id = loyalty_accounts.customer_id "
        "AND d.new_ = 0 AND d.points <> 0",
        now=now,
    )


def allocate(
    connection: Connection, debits_sql: str, now: datetime, part: str = "customer_id", **params: Any
) -> None:
    """Record which earn entries the debits consume, earliest expiry first.

    `debits_sql` yields (debit_id, part, points > 0): the points each debit still needs,
    where `part` is the customer (or, for a reversal's first pass, the order) whose earn
    entries may pay. Debits and live earn entries are laid end to end per part (running
    sums); a debit takes from each earn entry the overlap of their two intervals.
    """
    if part not in ("customer_id", "order_id"):
        raise ValueError(f"cannot allocate by {part!r}")
    run(
        connection,
        f"""
        WITH debits AS ({debits_sql}),
        used AS (
            SELECT a.earn_id, SUM(a.points) AS points FROM loyalty_allocations a
            JOIN loyalty_entries e ON e.id = a.earn_id
            WHERE e.points > 0 AND e.{part} IN (SELECT part FROM debits)
            GROUP BY a.earn_id
        ),
        live AS (
            SELECT e.id, e.{part} AS part, e.expires_at, e.points - COALESCE(u.points, 0) AS left_
            FROM loyalty_entries e LEFT JOIN used u ON u.earn_id = e.id
            WHERE e.points > 0 AND e.{part} IN (SELECT part FROM debits)
              AND (e.expires_at IS NULL OR e.expires_at > :now)
        ),
        earn AS (
            SELECT id, part, left_, SUM(left_) OVER (
                PARTITION BY part
                ORDER BY CASE WHEN expires_at IS NULL THEN 1 ELSE 0 END, expires_at, id
                ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS hi
            FROM live WHERE left_ > 0
        ),
        need AS (
            SELECT debit_id, part, points, SUM(points) OVER (
                PARTITION BY part ORDER BY debit_id
                ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS hi
            FROM debits WHERE points > 0
        )
        INSERT INTO loyalty_allocations (debit_id, earn_id, points)
        SELECT n.debit_id, e.id,
            (CASE WHEN n.hi < e.hi THEN n.hi ELSE e.hi END)
            - (CASE WHEN n.hi - n.points > e.hi - e.left_ THEN n.hi - n.points
                    ELSE e.hi - e.left_ END)
        FROM need n JOIN earn e
          ON e.part = n.part AND e.hi - e.left_ < n.hi AND n.hi - n.points < e.hi
        """,
        now=now,
        **params,
    )


def expire_due(
    connection: Connection, now: datetime, customer_id: int | None = None
) -> ExpiryReport:
    """Expire what is left of every earn entry whose time has come (idempotent: an earn
    entry is expired once, by an entry naming it); the expire entry is dated at the expiry."""
    only = "AND e.customer_id = :customer" if customer_id is not None else ""
    due = (
        "SELECT e.id FROM loyalty_entries e WHERE e.points > 0 AND e.expires_at <= :now "
        f"{only} AND NOT EXISTS (SELECT 1 FROM loyalty_entries x WHERE x.expired_entry_id = e.id)"
    )
    params: dict[str, Any] = {"now": now}
    if customer_id is not None:
        params["customer"] = customer_id
    lock_accounts(
        connection,
        f"SELECT e.customer_id FROM loyalty_entries e WHERE e.id IN ({due})"
        if customer_id is None
        else ":customer",
        **params,
    )
    temp_table(
        connection,
        "loyalty_due",
        "SELECT e.id, e.customer_id, e.expires_at, "
        "e.points - COALESCE((SELECT SUM(a.points) FROM loyalty_allocations a "
        "WHERE a.earn_id = e.id), 0) AS left_ "
        f"FROM loyalty_entries e WHERE e.id IN ({due})",
        **params,
    )
    rows = int(run(connection, "SELECT COUNT(*) FROM loyalty_due WHERE left_ > 0").scalar_one())
    if not rows:
        return ExpiryReport(0, 0)
    # many at once (a first expiry of a long history): keys checked once, not per row
    with (
        foreign_keys_checked_once(connection, "loyalty_entries", rows=rows),
        foreign_keys_checked_once(connection, "loyalty_allocations", rows=rows),
    ):
        run(
            connection,
            "INSERT INTO loyalty_entries (customer_id, kind, rule, points, at, posted_at, "
            "expired_entry_id) SELECT customer_id, 'expire', 'expire', -left_, expires_at, "
            ":now, id FROM loyalty_due WHERE left_ > 0",
            now=now,
        )
        run(
            connection,
            "INSERT INTO loyalty_allocations (debit_id, earn_id, points) "
            "SELECT x.id, x.expired_entry_id, -x.points FROM loyalty_entries x "
            "JOIN loyalty_due d ON d.id = x.expired_entry_id WHERE d.left_ > 0",
        )
    add_to_accounts(
        connection, "SELECT customer_id, -left_ AS points FROM loyalty_due WHERE left_ > 0", now
    )
    count, points = run(
        connection, "SELECT COUNT(*), COALESCE(SUM(left_), 0) FROM loyalty_due WHERE left_ > 0"
    ).one()
    return ExpiryReport(int(count), int(points))


def debit(
    connection: Connection,
    customer_id: int,
    points: int,
    now: datetime,
    *,
    kind: EntryKind,
    rule: str,
    reason: str | None = None,
    actor: str | None = None,
    offer_id: int | None = None,
) -> int:
    """Take `points` (> 0) from a balance in one conditional UPDATE, earliest-expiring
    points first; `NotEnoughPoints` when the balance (after due expiry) is smaller."""
    if points <= 0:
        raise ValueError("a debit takes a positive number of points")
    expire_due(connection, now, customer_id)
    taken = run(
        connection,
        "UPDATE loyalty_accounts SET balance = balance - :points, updated_at = :now "
        "WHERE customer_id = :customer AND balance >= :points",
        points=points,
        now=now,
        customer=customer_id,
    )
    if taken.rowcount != 1:
        balance = balance_of(connection, customer_id)
        raise NotEnoughPoints(
            f"customer {customer_id} has {balance} point(s), not the {points} asked for"
        )
    entry_id = _insert_entry(
        connection,
        customer_id=customer_id,
        kind=kind.value,
        rule=rule,
        points=-points,
        at=now,
        posted_at=now,
        reason=reason,
        actor=actor,
        offer_id=offer_id,
    )
    allocate(
        connection,
        "SELECT CAST(:debit AS INTEGER) AS debit_id, CAST(:customer AS INTEGER) AS part, "
        "CAST(:points AS BIGINT) AS points",
        now,
        debit=entry_id,
        customer=customer_id,
        points=points,
    )
    return entry_id


def credit(
    connection: Connection,
    customer_id: int,
    points: int,
    now: datetime,
    *,
    kind: EntryKind,
    rule: str,
    expires_at: datetime | None,
    occasion: str | None = None,
    reason: str | None = None,
    actor: str | None = None,
) -> int:
    """Add `points` (> 0) to a balance: one earn or adjust entry and its account."""
    if points <= 0:
        raise ValueError("a credit adds a positive number of points")
    lock_accounts(connection, ":customer", customer=customer_id)
    entry_id = _insert_entry(
        connection,
        customer_id=customer_id,
        kind=kind.value,
        rule=rule,
        points=points,
        at=now,
        posted_at=now,
        expires_at=expires_at,
        occasion=occasion,
        reason=reason,
        actor=actor,
    )
    add_to_accounts(
        connection,
        "SELECT CAST(:customer AS INTEGER) AS customer_id, CAST(:points AS BIGINT) AS points",
        now,
        customer=customer_id,
        points=points,
    )
    return entry_id


def _insert_entry(connection: Connection, **values: Any) -> int:
    return int(
        connection.execute(insert(ENTRIES).values(**values).returning(ENTRIES.c.id)).scalar_one()
    )


def post_fresh(
    connection: Connection, fresh_sql: str, now: datetime, **params: Any
) -> tuple[int, int]:
    """Insert the earn entries `fresh_sql` yields (customer_id, rule, points, at,
    expires_at, order_id, occasion; the caller leaves out what was posted before) and add
    them to the accounts: (entries, points)."""
    temp_table(
        connection,
        "loyalty_fresh",
        f"SELECT * FROM ({fresh_sql}) f WHERE f.points > 0",
        now=now,
        **params,
    )
    lock_accounts(connection, "SELECT customer_id FROM loyalty_fresh")
    rows = int(run(connection, "SELECT COUNT(*) FROM loyalty_fresh").scalar_one())
    # a first posting of a whole history: keys checked and indexes built once, after it
    with (
        foreign_keys_checked_once(connection, "loyalty_entries", rows=rows),
        indexes_rebuilt_after(connection, "loyalty_entries", rows=rows),
    ):
        inserted = run(
            connection,
            "INSERT INTO loyalty_entries (customer_id, kind, rule, points, at, posted_at, "
            "expires_at, order_id, occasion) SELECT customer_id, 'earn', rule, points, at, "
            ":now, expires_at, order_id, occasion FROM loyalty_fresh",
            now=now,
        ).rowcount
    add_to_accounts(connection, "SELECT customer_id, points FROM loyalty_fresh", now)
    points = run(connection, "SELECT COALESCE(SUM(points), 0) FROM loyalty_fresh").scalar_one()
    return int(inserted or 0), int(points)


def post_staged(
    connection: Connection, staged: str, now: datetime, by: Literal["order", "occasion"]
) -> tuple[int, int]:
    """`post_fresh` for a staged table of entries, leaving out those posted before. `by`
    names the key that makes a posting unique: (order, rule) or (customer, rule, occasion)."""
    same = (
        "e.order_id = s.order_id"
        if by == "order"
        else "e.customer_id = s.customer_id AND e.occasion = s.occasion"
    )
    return post_fresh(
        connection,
        f"SELECT s.* FROM {staged} s WHERE NOT EXISTS ("
        f"SELECT 1 FROM loyalty_entries e WHERE {same} AND e.rule = s.rule)",
        now,
    )


def balance_of(connection: Connection, customer_id: int) -> int:
    found = connection.execute(
        select(ACCOUNTS.c.balance).where(ACCOUNTS.c.customer_id == customer_id)
    ).scalar_one_or_none()
    return int(found or 0)


def ledger_sum(connection: Connection, customer_id: int) -> int:
    return int(
        run(
            connection,
            "SELECT COALESCE(SUM(points), 0) FROM loyalty_entries WHERE customer_id = :c",
            c=customer_id,
        ).scalar_one()
    )


def accounts_out_of_step(connection: Connection) -> int:
    """How many accounts differ from their ledger's sum (0 in a healthy store)."""
    return int(
        run(
            connection,
            "SELECT COUNT(*) FROM loyalty_accounts a LEFT JOIN (SELECT customer_id, SUM(points) "
            "AS total FROM loyalty_entries GROUP BY customer_id) l "
            "ON l.customer_id = a.customer_id "
            "WHERE a.balance <> COALESCE(l.total, 0)",
        ).scalar_one()
    )
