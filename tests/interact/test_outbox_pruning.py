"""Held candidates are pruned from the outbox after a while, their counts kept per plan run,
and never while a plan could still need the row to not decide an occasion twice (issue 13)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert
from typer.testing import CliRunner

from relmark.enums import ConsentStatus
from relmark.interfaces.cli import app
from relmark.outbox_pruning import prune_outbox
from relmark.store.models import Message
from relmark.store.pruning import held_counts, prune_held, pruned_counts

from ..helpers import rows
from .conftest import SECRET, Shop, book, scores
from .test_planner import people

AS_OF = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
THANKS = book("thanks", trigger={"on": "order", "delay_days": 3})
REFERRAL = book(
    "referral",
    template="referral",
    repeat_after_days=180,
    trigger={"on": "score"},
    audience={"min_p_alive": 0.5},
)


def two_orders(shop: Shop) -> None:
    people(shop)  # C1 consents, C2 withdrew
    shop.orders(
        [
            ["O1", "C1", "2026-05-29T10:00:00Z", "EUR", "completed", "TEA", 1, "5"],
            ["O2", "C2", "2026-05-29T11:00:00Z", "EUR", "completed", "TEA", 1, "5"],
        ]
    )


def statuses(shop: Shop) -> set[tuple[str, str, str | None]]:
    return {(m["playbook"], m["status"], m["reason"]) for m in shop.messages()}


def test_old_held_rows_go_their_counts_stay_with_the_plan_run(shop: Shop) -> None:
    two_orders(shop)
    relmark = shop.interaction(THANKS)
    run = relmark.plan(AS_OF, AS_OF).run_id
    assert statuses(shop) == {("thanks", "planned", None), ("thanks", "held", "unsubscribed")}
    with shop.engine.connect() as connection:
        before = held_counts(connection, run)

    soon = prune_outbox(relmark, AS_OF + timedelta(days=89))
    assert soon.pruned == 0
    report = prune_outbox(relmark, AS_OF + timedelta(days=91))

    assert report.pruned == 1
    assert report.by_run == [
        {"plan_run_id": run, "playbook": "thanks", "reason": "unsubscribed", "count": 1}
    ]
    assert statuses(shop) == {("thanks", "planned", None)}  # planned and sent rows stay
    with shop.engine.connect() as connection:
        assert held_counts(connection, run) == before == {"thanks": {"unsubscribed": 1}}
        assert [(r["plan_run_id"], r["count"]) for r in pruned_counts(connection)] == [(run, 1)]
    assert rows(shop.engine, "SELECT action, detail FROM audit_log WHERE action = 'outbox.prune'")
    # the plan run's own counts are untouched, and planning today plans nothing again
    later = AS_OF + timedelta(days=91)
    assert relmark.plan(later, later).candidates == 0


def test_a_score_playbook_does_not_decide_again_inside_its_repeat_window(shop: Shop) -> None:
    people(shop)
    c1, c2 = shop.id_of("C1"), shop.id_of("C2")
    scores(shop.engine, {c1: {"p_alive": 0.9}, c2: {"p_alive": 0.9}}, AS_OF)
    relmark = shop.interaction(REFERRAL)
    relmark.plan(AS_OF, AS_OF)
    assert statuses(shop) == {
        ("referral", "planned", None),
        ("referral", "held", "unsubscribed"),
    }
    # C2 opts in again 100 days later; the held row is older than 90 days but inside the
    # 180-day repeat window: pruning it would let the next plan write to C2 at once
    day_100 = AS_OF + timedelta(days=100)
    relmark.record_consent(
        c2,
        purpose="marketing",
        channel="email",
        status=ConsentStatus.GRANTED,
        source="test",
        proof="opted in again",
        wording_version=None,
        now=day_100,
    )
    assert prune_outbox(relmark, day_100).pruned == 0
    assert relmark.plan(day_100, day_100).candidates == 0

    # a naive prune (no reach) would have lost the decision: shown on a copy of the rule
    with shop.engine.connect() as connection:
        assert prune_held(connection, timedelta(days=90), day_100, reach={}) == 1
        connection.rollback()

    # beyond the window and the margin (repeat 180 + 1 + the 61-day catch-up margin) it goes
    assert prune_outbox(relmark, AS_OF + timedelta(days=245)).pruned == 1


def test_control_group_rows_stay_and_passing_reasons_go_at_the_plain_age(shop: Shop) -> None:
    two_orders(shop)
    relmark = shop.interaction(THANKS, REFERRAL)
    relmark.plan(AS_OF, AS_OF)
    c1 = shop.id_of("C1")
    held = {
        "channel": "email",
        "purpose": "marketing",
        "priority": 50,
        "status": "held",
        "created_at": AS_OF,
        "due_at": AS_OF,
        "attempts": 0,
        "rfc_message_id": "<x@y>",
        "customer_id": c1,
    }
    with shop.engine.begin() as connection:
        connection.execute(
            insert(Message),
            [
                # the uplift report's evidence
                {
                    **held,
                    "idempotency_key": "a",
                    "playbook": "thanks",
                    "occasion": "o:1",
                    "reason": "control_group",
                },
                # a score playbook's row held for a reason that passes: it blocks nothing
                {
                    **held,
                    "idempotency_key": "b",
                    "playbook": "referral",
                    "occasion": "day:x",
                    "reason": "spacing",
                },
            ],
        )
    report = prune_outbox(relmark, AS_OF + timedelta(days=91))
    assert {(r["playbook"], r["reason"]) for r in report.by_run} == {
        ("thanks", "unsubscribed"),
        ("referral", "spacing"),
    }
    assert statuses(shop) == {("thanks", "planned", None), ("thanks", "held", "control_group")}


@pytest.fixture
def cli(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setenv("RELMARK_SECRET_KEY", SECRET)
    from relmark.config import get_settings

    get_settings.cache_clear()
    relmark = shop.interaction(THANKS)
    two_orders(shop)
    relmark.plan(AS_OF, AS_OF)
    yield [
        "--db",
        shop.engine.url.render_as_string(hide_password=False),
        "--playbooks",
        str(relmark.playbooks_dir),
    ]
    get_settings.cache_clear()


def test_the_cli_prunes_shows_counts_and_refuses_a_bad_age(shop: Shop, cli: list[str]) -> None:
    runner = CliRunner()
    bad = runner.invoke(app, ["outbox-prune", "--older-than", "ninety", *cli])
    assert bad.exit_code == 1
    assert "--older-than" in bad.output
    assert "nothing was changed" in bad.output
    zero = runner.invoke(app, ["outbox-prune", "--older-than", "0d", *cli])
    assert zero.exit_code == 1
    assert len(shop.messages()) == 2

    # the rows are from 2026-06-01: a day's age is enough today
    dry = runner.invoke(app, ["outbox-prune", "--older-than", "1d", "--dry-run", "--json", *cli])
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.output)["pruned"] == 1
    assert len(shop.messages()) == 2

    done = runner.invoke(app, ["outbox-prune", "--older-than", "1d", *cli])
    assert done.exit_code == 0, done.output
    assert "pruned 1 held candidates" in done.output
    assert len(shop.messages()) == 1
    shown = runner.invoke(app, ["outbox-prune", "--counts", "--json", *cli])
    assert [(r["playbook"], r["reason"], r["count"]) for r in json.loads(shown.output)] == [
        ("thanks", "unsubscribed", 1)
    ]
    counts = runner.invoke(app, ["outbox", "--json", *cli[:2]])  # --db only
    pruned = [r for r in json.loads(counts.output) if r["status"] == "pruned"]
    assert [(r["playbook"], r["reason"], r["count"]) for r in pruned] == [
        ("thanks", "unsubscribed", 1)
    ]
