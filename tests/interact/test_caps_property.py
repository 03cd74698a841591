"""Property: whatever happens (orders, consent changes, plans at any hour), no customer ever
gets more than the caps allow, and no marketing message is planned without consent."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from relmark.enums import ConsentStatus
from relmark.store.db import make_engine
from relmark.store.migrate import ensure_current
from relmark.store.models import Message

from .conftest import Shop, book

START = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)
POLICY = {"max_per_7_days": 2, "max_per_30_days": 3, "min_hours_between": 36}
PLAYBOOKS = [
    book("m1", priority=80, trigger={"on": "order", "delay_days": 0, "expires_days": 4}),
    book("m2", priority=60, trigger={"on": "order", "delay_days": 1, "expires_days": 4}),
    book(
        "s1",
        purpose="service",
        priority=50,
        trigger={"on": "order", "delay_days": 2, "expires_days": 4},
    ),
    book(
        "t1",
        purpose="transactional",
        priority=10,
        trigger={"on": "order", "delay_days": 0, "expires_days": 2},
    ),
]

HOURS = st.integers(0, 40 * 24)
events = st.lists(
    st.one_of(
        st.tuples(HOURS, st.just("order"), st.integers(0, 2)),
        st.tuples(HOURS, st.just("consent"), st.integers(0, 2), st.booleans()),
        st.tuples(HOURS, st.just("plan")),
        st.tuples(HOURS, st.just("plan")),  # plans twice as likely: that is where caps bite
    ),
    min_size=6,
    max_size=40,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events)
def test_no_sequence_of_events_breaks_the_caps_or_consent(steps: list[tuple]) -> None:  # type: ignore[type-arg]
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 's.db'}")
        ensure_current(engine)
        try:
            check(Shop(engine, Path(folder)), steps)
        finally:
            engine.dispose()


def check(shop: Shop, steps: list[tuple]) -> None:  # type: ignore[type-arg]
    shop.customers(
        [
            [f"C{i}", f"c{i}@example.com", "", f"N{i}", "en", "GB", "UTC", "", "", "yes"]
            for i in range(3)
        ]
    )
    shop.products([["TEA", "Tea", "tea", ""]])
    relmark = shop.interaction(*PLAYBOOKS)
    relmark.set_policy({**POLICY, "quiet_start": "00:00", "quiet_end": "00:00"}, START)
    ids = [shop.id_of(f"C{i}") for i in range(3)]
    consent = dict.fromkeys(ids, True)
    orders = marketing = 0
    for step in sorted(steps, key=lambda s: (s[0], s[1])):
        moment = START + timedelta(hours=step[0], minutes=orders)
        if step[1] == "order":
            orders += 1
            row = [f"O{orders}", f"C{step[2]}", moment.isoformat(), "EUR", "completed", "TEA"]
            shop.orders([[*row, 1, "5"]], name=f"o{orders}.csv")
        elif step[1] == "consent":
            customer, granted = ids[step[2]], step[3]
            relmark.record_consent(
                customer,
                purpose="marketing",
                channel="email",
                status=ConsentStatus.GRANTED if granted else ConsentStatus.WITHDRAWN,
                source="test",
                proof="property test",
                wording_version=None,
                now=moment,
            )
            consent[customer] = granted
        else:
            result = relmark.plan(moment, moment)
            planned = result.decided.filter(result.decided["status"] == "planned")
            for row in planned.iter_rows(named=True):
                if row["purpose"] == "marketing":
                    assert consent[row["customer_id"]], f"marketing without consent: {row}"
                    marketing += 1
    event(f"marketing messages planned: {'some' if marketing else 'none'}")
    assert_caps(shop)


def assert_caps(shop: Shop) -> None:
    with shop.engine.connect() as connection:
        rows = connection.execute(
            select(Message.customer_id, Message.due_at).where(
                Message.status.in_(("planned", "sending", "sent")),
                Message.purpose != "transactional",
            )
        ).all()
    by_customer: dict[int, list[datetime]] = {}
    for customer, due in rows:
        by_customer.setdefault(customer, []).append(due)
    for customer, times in by_customer.items():
        times.sort()
        for i, t in enumerate(times):
            in_7 = sum(1 for u in times[i:] if u - t < timedelta(days=7))
            in_30 = sum(1 for u in times[i:] if u - t < timedelta(days=30))
            assert in_7 <= POLICY["max_per_7_days"], (customer, times)
            assert in_30 <= POLICY["max_per_30_days"], (customer, times)
            if i:
                assert t - times[i - 1] >= timedelta(hours=POLICY["min_hours_between"]), times
