"""The governor's decisions on hand-made candidate rows (no store): reasons and precedence."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import polars as pl
import pytest

from relmark.interact.governor import control_draw, decide, defer_quiet_hours
from relmark.interact.policy import ContactPolicy

T0 = datetime(2026, 6, 10, 9, 0, tzinfo=UTC)
HISTORY_SCHEMA = {
    "customer_id": pl.Int64,
    "playbook": pl.String,
    "purpose": pl.String,
    "due_at": pl.Datetime("us", "UTC"),
}


def candidate(customer_id: int = 1, **overrides: object) -> dict[str, object]:
    row: dict[str, object] = {
        "playbook": "winback",
        "customer_id": customer_id,
        "occasion": "day:2026-06-10",
        "due_at": T0,
        "order_id": None,
        "product_id": None,
        "purpose": "marketing",
        "channel": "email",
        "priority": 50,
        "cost": "low",
        "control_share": 0.0,
        "repeat_after_days": 0,
        "email": "a@example.com",
        "phone": None,
        "restricted": False,
        "consent": "granted",
        "below_standard": False,
        "clv_minor": 1000,
        "zone": "UTC",
    }
    row.update(overrides)
    return row


def frame(*rows: dict[str, object]) -> pl.DataFrame:
    return pl.DataFrame(
        list(rows),
        schema_overrides={
            "due_at": pl.Datetime("us", "UTC"),
            "order_id": pl.Int64,
            "product_id": pl.Int64,
            "phone": pl.String,
            "consent": pl.String,
        },
    )


def history(*entries: tuple[int, str, str, datetime]) -> pl.DataFrame:
    return pl.DataFrame(list(entries), schema=HISTORY_SCHEMA, orient="row")


def reasons(result: pl.DataFrame) -> list[str | None]:
    return result.sort("customer_id", "playbook")["reason"].to_list()


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"restricted": True}, "restricted"),
        ({"email": None}, "no_address"),
        ({"consent": "withdrawn"}, "unsubscribed"),
        ({"consent": None}, "no_consent"),
        ({"below_standard": True, "cost": "high"}, "below_profitability"),
        ({"control_share": 0.9}, None),  # customer 1 draws above 0.9? checked below
    ][:-1],
)
def test_each_reason_is_reported(overrides: dict[str, object], reason: str) -> None:
    result = decide(frame(candidate(**overrides)), history(), ContactPolicy())
    assert result["status"].to_list() == ["held"]
    assert reasons(result) == [reason]


def test_precedence_reports_the_first_failing_check() -> None:
    row = candidate(restricted=True, consent=None, below_standard=True, cost="high")
    assert reasons(decide(frame(row), history(), ContactPolicy())) == ["restricted"]


def test_service_needs_no_consent_but_respects_an_opt_out() -> None:
    policy = ContactPolicy()
    plain = decide(frame(candidate(purpose="service", consent=None)), history(), policy)
    opted_out = decide(frame(candidate(purpose="service", consent="withdrawn")), history(), policy)
    assert plain["status"].to_list() == ["planned"]
    assert reasons(opted_out) == ["unsubscribed"]


def test_transactional_ignores_caps_and_consent() -> None:
    past = history((1, "x", "marketing", T0 - timedelta(hours=1)))
    row = candidate(purpose="transactional", consent=None)
    assert decide(frame(row), past, ContactPolicy())["status"].to_list() == ["planned"]


def test_below_standard_keeps_low_cost_touches() -> None:
    result = decide(frame(candidate(below_standard=True, cost="low")), history(), ContactPolicy())
    assert result["status"].to_list() == ["planned"]


def test_caps_count_live_messages_on_both_sides() -> None:
    policy = ContactPolicy(max_per_7_days=2, max_per_30_days=3, min_hours_between=48)
    cases = {
        1: [T0 - timedelta(days=3), T0 - timedelta(days=5)],  # two in 7 days
        2: [T0 - timedelta(days=10), T0 - timedelta(days=12), T0 - timedelta(days=20)],
        3: [T0 - timedelta(hours=30)],  # too close
        4: [T0 + timedelta(hours=20)],  # a planned message tomorrow counts too
        5: [T0 - timedelta(days=8)],  # fine
    }
    past = history(*[(c, "other", "marketing", t) for c, times in cases.items() for t in times])
    result = decide(frame(*[candidate(c) for c in cases]), past, policy)
    assert reasons(result) == ["cap_7d", "cap_30d", "spacing", "spacing", None]
    detail = result.sort("customer_id")["detail"][0]
    assert '"in_7_days":2' in detail


def test_one_customer_gets_the_highest_priority_candidate_first() -> None:
    rows = [
        candidate(1, playbook="referral", priority=30),
        candidate(1, playbook="vip", priority=75),
        candidate(2, playbook="referral", priority=30),
    ]
    result = decide(frame(*rows), history(), ContactPolicy()).sort("customer_id", "playbook")
    assert list(zip(result["playbook"], result["reason"], strict=True)) == [
        ("referral", "spacing"),
        ("vip", None),
        ("referral", None),
    ]


def test_a_second_candidate_of_one_playbook_is_a_duplicate() -> None:
    rows = [
        candidate(1, playbook="thanks", occasion="order:1", purpose="service"),
        candidate(1, playbook="thanks", occasion="order:2", purpose="service"),
    ]
    result = decide(frame(*rows), history(), ContactPolicy()).sort("occasion")
    assert result["reason"].to_list() == [None, "duplicate"]


def test_repeat_window_blocks_the_same_playbook() -> None:
    past = history((1, "thanks", "service", T0 - timedelta(days=5)))
    row = candidate(1, playbook="thanks", purpose="service", repeat_after_days=7)
    assert reasons(decide(frame(row), past, ContactPolicy())) == ["duplicate"]


def test_control_group_is_deterministic_and_close_to_its_share() -> None:
    ids = pl.Series(range(1, 20_001), dtype=pl.Int64)
    draws = control_draw("winback", ids)
    assert draws.equals(control_draw("winback", ids))
    assert abs(float((draws < 0.2).mean()) - 0.2) < 0.01
    assert not draws.equals(control_draw("birthday", ids))  # each playbook its own split
    rows = [candidate(int(c), control_share=0.2) for c in range(1, 2001)]
    held = decide(frame(*rows), history(), ContactPolicy())
    share = float(held["reason"].eq_missing("control_group").mean())
    assert 0.16 < share < 0.24


def test_quiet_hours_defer_to_the_morning_in_the_customers_zone() -> None:
    late = datetime(2026, 6, 10, 16, 30, tzinfo=UTC)  # 21:30 in Almaty (UTC+5)
    rows = frame(
        candidate(1, due_at=late, zone="Asia/Almaty"),
        candidate(2, due_at=late, zone="Europe/London"),  # 17:30 there: fine
    )
    result = decide(rows, history(), ContactPolicy()).sort("customer_id")
    assert result["reason"].to_list() == ["quiet_hours_deferred", None]
    assert result["status"].to_list() == ["planned", "planned"]
    assert result["due_at"][0] == datetime(2026, 6, 11, 3, 0, tzinfo=UTC)  # 08:00 Almaty
    assert result["due_at"][1] == late


def test_quiet_hours_end_exactly_at_their_end_even_a_second_before() -> None:
    almost = datetime(2026, 6, 10, 7, 59, 59, 500000, tzinfo=UTC)
    moved = defer_quiet_hours(frame(candidate(due_at=almost)), ContactPolicy())
    assert moved["due_at"][0] == datetime(2026, 6, 10, 8, 0, tzinfo=UTC)


def test_quiet_hours_within_one_day() -> None:
    policy = ContactPolicy(quiet_start=time(12, 0), quiet_end=time(14, 0))
    noon = frame(candidate(due_at=datetime(2026, 6, 10, 12, 15, tzinfo=UTC)))
    moved = defer_quiet_hours(noon, policy)
    assert moved["due_at"][0] == datetime(2026, 6, 10, 14, 0, tzinfo=UTC)


def test_budget_prefers_priority_then_clv() -> None:
    policy = ContactPolicy(daily_budget=2)
    rows = [
        candidate(1, priority=50, clv_minor=100),
        candidate(2, priority=50, clv_minor=900),
        candidate(3, priority=80, clv_minor=10),
        candidate(4, priority=50, clv_minor=500),
    ]
    result = decide(frame(*rows), history(), policy)
    assert reasons(result) == ["budget", None, None, "budget"]


def test_policy_refuses_inconsistent_values() -> None:
    with pytest.raises(ValueError, match="transactional"):
        ContactPolicy(capped_purposes=("marketing", "transactional"))
    with pytest.raises(ValueError, match="below max_per_7_days"):
        ContactPolicy(max_per_7_days=5, max_per_30_days=2)
