"""Reading customers for people: search and filter, and everything about one (the 360 view)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, case, false, func, or_, select

from relmark.meaning import ACTIVE_DAYS, ACTIVE_P_ALIVE, value_terms
from relmark.store import consents, identity
from relmark.store.live import absorbed_into
from relmark.store.models import (
    Customer,
    CustomerEvent,
    CustomerScore,
    Message,
    Order,
    ScoreRun,
    SourceRecord,
)
from relmark.store.restriction import restriction_of

SORTS = {
    "clv": CustomerScore.clv_minor,
    "p_alive": CustomerScore.p_alive,
    "revenue": CustomerScore.revenue_minor,
    "profit": CustomerScore.profit_minor,
    "id": Customer.id,
    "name": Customer.last_name,
}
LIST_COLUMNS = (
    Customer.id,
    Customer.first_name,
    Customer.last_name,
    Customer.email,
    Customer.phone,
    Customer.country,
    Customer.language,
    CustomerScore.segment,
    CustomerScore.p_alive,
    CustomerScore.clv_minor,
    CustomerScore.revenue_minor,
    CustomerScore.orders,
    CustomerScore.profit_tier,
    Customer.restricted_at.is_not(None).label("restricted"),
)


def store_version(connection: Connection) -> tuple[int, ...]:
    """Newest ids of what the dashboard's figures depend on (one query, index lookups).

    The customer event log's newest id catches changes that add no row elsewhere, such as
    an import that only renames a customer (every change to a customer writes an event).
    """
    from relmark.store.models import Consent, CustomerEvent, Merge

    columns = (ScoreRun.id, Order.id, Customer.id, Merge.id, Consent.id, CustomerEvent.id)
    row = connection.execute(
        select(*(select(func.max(c)).scalar_subquery() for c in columns))
    ).one()
    return tuple(int(v or 0) for v in row)


def latest_run(connection: Connection) -> int | None:
    return connection.execute(select(func.max(ScoreRun.id))).scalar_one_or_none()


LIKE_ESCAPE = "\\"


def like_literal(text: str) -> str:
    """`text` for a LIKE pattern that matches it literally: a search for `100%` or `ana_m`
    finds those characters, not any text or any one character."""
    for special in (LIKE_ESCAPE, "%", "_"):
        text = text.replace(special, LIKE_ESCAPE + special)
    return text


def _matching(
    connection: Connection,
    statement: Any,
    *,
    q: str | None = None,
    segment: str | None = None,
    min_clv_minor: int | None = None,
    max_clv_minor: int | None = None,
    min_p_alive: float | None = None,
    max_p_alive: float | None = None,
    restricted: bool | None = None,
) -> Any:
    if restricted is not None:
        flag = (
            Customer.restricted_at.is_not(None) if restricted else Customer.restricted_at.is_(None)
        )
        statement = statement.where(flag)
    if q and "\x00" in q:  # no stored text holds NUL, and PostgreSQL refuses it in a query
        statement = statement.where(false())
    elif q:
        # lower() is built in and fast; the Unicode fold (a Python function on SQLite) is
        # needed only when the search has letters beyond ASCII.
        ascii_only = q.isascii()
        fold = func.lower if ascii_only or connection.dialect.name != "sqlite" else func.casefold
        needle = f"%{like_literal(q.strip().casefold())}%"
        full_name = fold(
            func.coalesce(Customer.first_name, "") + " " + func.coalesce(Customer.last_name, "")
        )
        digits = "".join(ch for ch in q if ch.isdigit())
        conditions = [
            full_name.like(needle, escape=LIKE_ESCAPE),
            fold(Customer.email).like(needle, escape=LIKE_ESCAPE),
        ]
        if len(digits) >= 4:
            phone = func.replace(func.replace(Customer.phone, " ", ""), "-", "")
            conditions.append(phone.like(f"%{digits}%"))
        statement = statement.where(or_(*conditions))
    if segment:
        statement = statement.where(CustomerScore.segment == segment)
    if min_clv_minor is not None:
        statement = statement.where(CustomerScore.clv_minor >= min_clv_minor)
    if max_clv_minor is not None:
        statement = statement.where(CustomerScore.clv_minor <= max_clv_minor)
    if min_p_alive is not None:
        statement = statement.where(CustomerScore.p_alive >= min_p_alive)
    if max_p_alive is not None:
        statement = statement.where(CustomerScore.p_alive <= max_p_alive)
    return statement


def _base(run_id: int | None, *, scored_only: bool) -> Any:
    # A restricted customer's scores from before the restriction are not shown (art. 18).
    join = (
        (CustomerScore.customer_id == Customer.id)
        & (CustomerScore.run_id == run_id)
        & Customer.restricted_at.is_(None)
    )
    statement = select(*LIST_COLUMNS)
    statement = (
        statement.join(CustomerScore, join)
        if scored_only
        else statement.outerjoin(CustomerScore, join)
    )
    return statement.where(Customer.merged_into_id.is_(None))


def count(connection: Connection, **filters: Any) -> int:
    """How many live customers match `search`'s filters."""
    statement = _matching(connection, _base(latest_run(connection), scored_only=False), **filters)
    return int(
        connection.execute(select(func.count()).select_from(statement.subquery())).scalar_one()
    )


def search(
    connection: Connection,
    *,
    q: str | None = None,
    segment: str | None = None,
    min_clv_minor: int | None = None,
    max_clv_minor: int | None = None,
    min_p_alive: float | None = None,
    max_p_alive: float | None = None,
    restricted: bool | None = None,
    sort: str = "clv",
    descending: bool = True,
    limit: int = 50,
    offset: int = 0,
    total: int | None = None,
) -> tuple[int, list[dict[str, Any]]]:
    """Live customers matching the filters (scores of the latest run), one page, and the
    total count (pass `total` when it is known). `q` matches names, e-mail and phone
    (case-insensitive, substring)."""
    filters = {
        "q": q,
        "segment": segment,
        "min_clv_minor": min_clv_minor,
        "max_clv_minor": max_clv_minor,
        "min_p_alive": min_p_alive,
        "max_p_alive": max_p_alive,
        "restricted": restricted,
    }
    run_id = latest_run(connection)
    key = SORTS[sort]
    order = (key.desc().nulls_last() if descending else key.asc().nulls_last(), Customer.id)
    rows: list[dict[str, Any]] = []
    if sort in ("clv", "p_alive", "revenue", "profit"):
        # Scored customers come first in any score order: page through them with the
        # (run, value) index, and read the unscored tail only when a page reaches it.
        scored = _matching(connection, _base(run_id, scored_only=True), **filters)
        rows = [
            dict(r)
            for r in connection.execute(
                scored.order_by(*order).limit(limit).offset(offset)
            ).mappings()
        ]
    if len(rows) < limit:
        everyone = _matching(connection, _base(run_id, scored_only=False), **filters)
        rows = [
            dict(r)
            for r in connection.execute(
                everyone.order_by(*order).limit(limit).offset(offset)
            ).mappings()
        ]
    return (count(connection, **filters) if total is None else total), rows


def profile(connection: Connection, customer_id: int) -> dict[str, Any] | None:
    """Everything relmark knows about one customer, for the 360 view."""
    customer = (
        connection.execute(select(Customer).where(Customer.id == customer_id)).mappings().first()
    )
    if customer is None:
        return None
    run_id = latest_run(connection)
    score = (
        connection.execute(
            select(CustomerScore).where(
                CustomerScore.customer_id == customer_id, CustomerScore.run_id == run_id
            )
        )
        .mappings()
        .first()
    )
    records = connection.execute(
        select(
            SourceRecord.id,
            SourceRecord.source,
            SourceRecord.external_id,
            SourceRecord.email,
            SourceRecord.phone,
            SourceRecord.key_problems,
            SourceRecord.imported_at,
        )
        .where(SourceRecord.customer_id == customer_id)
        .order_by(SourceRecord.id)
    ).mappings()
    orders = connection.execute(
        select(
            Order.id,
            Order.source,
            Order.external_id,
            Order.ordered_at,
            Order.currency,
            Order.amount_minor,
            Order.status,
            Order.channel,
        )
        .where(Order.customer_id == customer_id)
        .order_by(Order.ordered_at.desc())
        .limit(100)
    ).mappings()
    messages = connection.execute(
        select(
            Message.id,
            Message.playbook,
            Message.occasion,
            Message.status,
            Message.reason,
            Message.due_at,
            Message.sent_at,
        )
        .where(Message.customer_id == customer_id)
        .order_by(Message.due_at.desc())
        .limit(100)
    ).mappings()
    events = connection.execute(
        select(CustomerEvent.at, CustomerEvent.kind, CustomerEvent.parameters)
        .where(CustomerEvent.customer_id.in_(absorbed_into(connection, customer_id)))
        .order_by(CustomerEvent.at.desc(), CustomerEvent.id.desc())
        .limit(200)
    ).mappings()
    held = consents.effective(consents.latest_statements(connection, customer_id=customer_id))
    restriction = restriction_of(connection, customer_id)
    return {
        "customer": dict(customer),
        "restricted": restriction["restricted"],
        "restriction": restriction,
        # scores from before a restriction are kept (storage) but not shown (art. 18)
        "score": dict(score) if score and not restriction["restricted"] else None,
        "score_run": run_summary(connection, run_id),
        "identities": [dict(r) for r in records],
        "orders": [dict(r) for r in orders],
        "consents": held.drop("id").to_dicts(),
        "consent_statements": consents.statements_of(connection, customer_id),
        "messages": [dict(r) for r in messages],
        "events": [dict(r) for r in events],
        "merges": identity.merges_of(connection, customer_id),
    }


def segment_sizes(connection: Connection) -> list[dict[str, Any]]:
    run_id = latest_run(connection)
    rows = connection.execute(
        select(
            CustomerScore.segment,
            func.count(),
            func.sum(CustomerScore.clv_minor),
            func.avg(CustomerScore.p_alive),
        )
        .where(CustomerScore.run_id == run_id)
        .group_by(CustomerScore.segment)
        .order_by(func.count().desc())
    )
    return [
        {
            "segment": s,
            "customers": int(n),
            "clv_minor": None if c is None else int(c),
            "mean_p_alive": None if p is None else float(p),
        }
        for s, n, c, p in rows
    ]


#: Active: P(alive) of at least ACTIVE_P_ALIVE; without one, a purchase within ACTIVE_DAYS.
ACTIVE = case(
    (CustomerScore.p_alive.is_not(None), CustomerScore.p_alive >= ACTIVE_P_ALIVE),
    else_=CustomerScore.days_since_last <= ACTIVE_DAYS,
)


def run_summary(connection: Connection, run_id: int | None) -> dict[str, Any] | None:
    """A run's model, why values are empty, and what its lifetime value is (horizon, margin)."""
    if run_id is None:
        return None
    run = connection.execute(select(ScoreRun).where(ScoreRun.id == run_id)).mappings().one()
    months, margin = value_terms(run["settings"])
    return {
        "id": run["id"],
        "as_of": run["as_of"],
        "model": run["model"],
        "currency": run["currency"],
        "p_alive_reason": run["p_alive_reason"],
        "clv_reason": run["clv_reason"],
        "value_horizon_months": months,
        "value_margin_rate": margin,
    }


def kpis(connection: Connection) -> dict[str, Any]:
    """Headline figures: customers, active customers (P(alive) of at least one half, or a
    purchase within a year where there is no P(alive)), revenue, customer equity (the sum of
    lifetime values; null with the run's reason when they could not be computed)."""
    run_id = latest_run(connection)
    live = connection.execute(
        select(func.count()).where(Customer.merged_into_id.is_(None))
    ).scalar_one()
    revenue = connection.execute(
        select(Order.currency, func.sum(Order.amount_minor))
        .where(Order.status == "completed")
        .group_by(Order.currency)
    ).all()
    scored = connection.execute(
        select(
            func.count(),
            func.sum(case((ACTIVE, 1), else_=0)),
            func.sum(CustomerScore.clv_minor),
            func.count(CustomerScore.clv_minor),
        ).where(CustomerScore.run_id == run_id)
    ).one()
    currency = (
        connection.execute(select(ScoreRun.currency).where(ScoreRun.id == run_id)).scalar_one()
        if run_id
        else None
    )
    summary = run_summary(connection, run_id)
    return {
        "customers": int(live),
        "scored": int(scored[0] or 0),
        "active": int(scored[1] or 0),
        "active_rule": {"p_alive_at_least": ACTIVE_P_ALIVE, "purchase_within_days": ACTIVE_DAYS},
        "revenue_minor_by_currency": {c: int(v) for c, v in revenue},
        "customer_equity_minor": int(scored[2]) if scored[3] else None,
        "customer_equity_reason": summary["clv_reason"] if summary and not scored[3] else None,
        "currency": currency,
        "score_run": summary,
    }
