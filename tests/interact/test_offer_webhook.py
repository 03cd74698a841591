"""Offer events to the shop's webhook, against a real local HTTP server that checks the
signature: sent once each, retried after a 500, given up after a 4xx, closing events after
the issue, and nothing lost or applied twice when a sender is killed mid-way (SQLite and
PostgreSQL; concurrent senders on PostgreSQL)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, text, update

from relmark.config import Settings
from relmark.interact import offer_webhook
from relmark.interact.offer_webhook import WebhookOptions
from relmark.store.models import Customer
from relmark.store.offer_models import Offer

from .. import offer_factory as make
from .shop_hook import SECRET, shop_hook

SRC = Path(__file__).resolve().parents[2] / "src"


def send(engine: Engine, url: str, **options: object) -> offer_webhook.WebhookReport:
    return offer_webhook.deliver(
        engine, url, SECRET, WebhookOptions(**{"backoff": timedelta(0), **options})
    )


def statuses(engine: Engine) -> list[tuple[str, str, str, int]]:
    with engine.connect() as connection:
        return [
            tuple(r)
            for r in connection.execute(
                text(
                    "SELECT o.code, w.event, w.status, w.attempts FROM offer_webhooks w "
                    "JOIN offers o ON o.id = w.offer_id ORDER BY w.id"
                )
            )
        ]


def close(engine: Engine, code: str, status: str) -> None:
    with engine.begin() as connection:
        connection.execute(
            update(Offer).where(Offer.code == code).values(status=status, closed_at=make.T0)
        )


def test_each_issued_offer_is_one_signed_event_with_the_customers_shareable_ids(
    engine: Engine,
) -> None:
    # given: Ana's second id is her e-mail (no consent to sharing), Cy is restricted
    ana = make.customer(engine, "A1", email="ana@example.si")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO source_records (source, external_id, customer_id, imported_at, "
                "updated_at) VALUES ('tracking', 'ana@example.si', :c, :t, :t)"
            ),
            {"c": ana, "t": make.T0},
        )
    cy = make.customer(engine, "C1")
    with engine.begin() as connection:
        connection.execute(update(Customer).where(Customer.id == cy).values(restricted_at=make.T0))
    make.offer(
        engine,
        ana,
        "SAVE-AAAA2222",
        percent_off=None,
        amount_minor=1000,
        currency="EUR",
        min_order_minor=5000,
    )
    make.offer(engine, cy, "BACK-CCCC4444")
    make.offer(engine, ana, "NEXT-FFFF7777", status="reserved", issued_at=None)
    with shop_hook() as hook:
        # when: sent twice
        first = send(engine, hook.url)
        second = send(engine, hook.url)
    # then
    assert (first.queued, first.delivered, second.queued, second.delivered) == (2, 2, 0, 0)
    assert hook.bad_signatures == 0
    assert hook.keys() == ["SAVE-AAAA2222:offer.issued", "BACK-CCCC4444:offer.issued"]
    saving, restricted = (r["body"] for r in hook.received)
    assert saving == {
        "id": "SAVE-AAAA2222:offer.issued",
        "event": "offer.issued",
        "code": "SAVE-AAAA2222",
        "kind": "discount",
        "status": "issued",
        "value": {"amount": "10.00", "currency": "EUR"},
        "issued_at": "2026-05-01T09:00:00Z",
        "expires_at": "2026-05-31T09:00:00Z",
        "closed_at": None,
        "min_order": {"amount": "50.00", "currency": "EUR"},
        "max_uses": 1,
        "uses": 0,
        "customer": {"id": ana, "external_ids": [{"source": "default", "external_id": "A1"}]},
    }
    assert restricted["customer"] is None
    assert restricted["value"] == {"percent_off": "15"}


def test_a_500_is_retried_and_then_delivered_once(engine: Engine) -> None:
    ana = make.customer(engine, "A1")
    make.offer(engine, ana, "BACK-AAAA2222")
    with shop_hook(fail_first=1) as hook:
        report = send(engine, hook.url)
    assert (report.retried, report.delivered, report.failed) == (1, 1, 0)
    assert [r["answer"] for r in hook.received] == [500, 200]
    assert hook.keys() == ["BACK-AAAA2222:offer.issued"] * 2  # the same event, the same key
    assert statuses(engine) == [("BACK-AAAA2222", "offer.issued", "delivered", 2)]


def test_a_retry_waits_for_its_backoff_and_a_4xx_gives_up(engine: Engine) -> None:
    ana = make.customer(engine, "A1")
    make.offer(engine, ana, "BACK-AAAA2222")
    clock = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    with shop_hook(fail_first=1) as hook:
        first = send(engine, hook.url, backoff=timedelta(minutes=2), clock=lambda: clock)
        early = send(engine, hook.url, clock=lambda: clock + timedelta(minutes=1))
        late = send(engine, hook.url, clock=lambda: clock + timedelta(minutes=2))
    assert (first.retried, early.delivered, late.delivered) == (1, 0, 1)
    make.offer(engine, ana, "GONE-BBBB3333")
    with shop_hook(status=410) as hook:
        refused = send(engine, hook.url, clock=lambda: clock)
    assert (refused.failed, refused.retried) == (1, 0)
    assert statuses(engine)[-1] == ("GONE-BBBB3333", "offer.issued", "failed", 1)


def test_closing_events_follow_the_issue_and_never_come_before_it(engine: Engine) -> None:
    ana = make.customer(engine, "A1")
    for code in ("USED-AAAA2222", "LATE-BBBB3333", "VOID-CCCC4444"):
        make.offer(engine, ana, code)
    with shop_hook() as hook:
        send(engine, hook.url)
        close(engine, "USED-AAAA2222", "redeemed")
        close(engine, "LATE-BBBB3333", "expired")
        close(engine, "VOID-CCCC4444", "void")
        send(engine, hook.url)
    assert hook.keys()[3:] == [
        "USED-AAAA2222:offer.redeemed",
        "LATE-BBBB3333:offer.expired",
        "VOID-CCCC4444:offer.voided",
    ]
    # an issue still retrying holds back the offer's later events
    make.offer(engine, ana, "SLOW-DDDD5555")
    with shop_hook(fail_first=1) as hook:
        send(engine, hook.url, backoff=timedelta(hours=1))
        close(engine, "SLOW-DDDD5555", "redeemed")
        held = send(engine, hook.url)
    assert (held.queued, held.delivered) == (1, 0)
    assert hook.keys() == ["SLOW-DDDD5555:offer.issued"]


def test_events_start_when_the_webhook_is_configured(engine: Engine) -> None:
    """Open codes are announced; an offer closed before the webhook existed is not."""
    ana = make.customer(engine, "A1")
    make.offer(engine, ana, "OPEN-AAAA2222")
    make.offer(engine, ana, "OLD-BBBB3333", status="expired")
    with shop_hook() as hook:
        send(engine, hook.url)
    assert hook.keys() == ["OPEN-AAAA2222:offer.issued"]


def test_nothing_is_queued_or_sent_without_a_configured_webhook(engine: Engine) -> None:
    ana = make.customer(engine, "A1")
    make.offer(engine, ana, "OPEN-AAAA2222")
    report = offer_webhook.deliver_from_settings(engine, Settings())
    assert not report.configured
    assert statuses(engine) == []


def test_a_sender_killed_mid_way_loses_nothing_and_resends_only_the_event_in_flight(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    # given: six open offers; the shop never answers the third request
    ana = make.customer(sqlite_engine, "A1")
    codes = [f"CODE-{i}AAA2222" for i in range(2, 8)]
    for code in codes:
        make.offer(sqlite_engine, ana, code)
    url = sqlite_engine.url.render_as_string(hide_password=False)
    with shop_hook(hang_on=3) as hook:
        env = {
            **os.environ,
            "PYTHONPATH": str(SRC),
            "RELMARK_OFFERS_WEBHOOK_URL": hook.url,
            "RELMARK_WEBHOOK_SECRET": SECRET,
        }
        sender = subprocess.Popen(
            [sys.executable, "-m", "relmark", "offers", "webhooks", "send", "--db", url],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        # when: it is killed while the third event is in flight
        hook.wait_for(3)
        sender.send_signal(signal.SIGKILL)
        sender.wait(timeout=60)
        hook.hang_on = None
        # then a new sender (after the reclaim wait) finishes the queue
        report = send(sqlite_engine, hook.url, reclaim_after=timedelta(0))
    assert report.delivered == 4
    received = hook.keys()
    in_flight = received[2]
    assert sorted(set(received)) == sorted(f"{c}:offer.issued" for c in codes)
    assert [k for k in received if received.count(k) > 1] == [in_flight, in_flight]
    assert {k for r in hook.answered() for k in [r["key"]]} == set(received)
    twice = [r["body"] for r in hook.received if r["key"] == in_flight]
    assert twice[0] == twice[1]  # the same event, recognisable by its key
    assert {s for _, _, s, _ in statuses(sqlite_engine)} == {"delivered"}


@pytest.mark.postgres
def test_concurrent_senders_deliver_each_event_exactly_once(store_url: str) -> None:
    if not store_url.startswith("postgresql"):
        pytest.skip("concurrency is tested on PostgreSQL")
    from relmark.store.db import make_engine
    from relmark.store.migrate import ensure_current

    engine = make_engine(store_url)
    ensure_current(engine)
    try:
        ana = make.customer(engine, "A1")
        for i in range(40):
            make.offer(engine, ana, f"RACE-{i:04d}AAAA")
        with shop_hook() as hook:
            reports = []
            threads = [
                threading.Thread(target=lambda: reports.append(send(engine, hook.url)))
                for _ in range(4)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=120)
        assert sum(r.delivered for r in reports) == 40
        assert sorted(hook.keys()) == sorted(f"RACE-{i:04d}AAAA:offer.issued" for i in range(40))
    finally:
        engine.dispose()


def test_the_webhook_address_is_a_checked_shop_setting(engine: Engine) -> None:
    from relmark import shop_settings
    from relmark.errors import InvalidInput

    with pytest.raises(InvalidInput, match="offers_webhook_url.*must start with http"):
        shop_settings.change(engine, {"offers_webhook_url": "shop.example/hook"}, make.T0)
    shop_settings.change(engine, {"offers_webhook_url": "https://shop.example/hook"}, make.T0)
    effective = shop_settings.effective_settings(engine, Settings())
    assert effective.offers_webhook_url == "https://shop.example/hook"


def test_the_status_command_counts_events_by_outcome(engine: Engine) -> None:
    import json

    from typer.testing import CliRunner

    from relmark.interfaces.cli import app

    ana = make.customer(engine, "A1")
    make.offer(engine, ana, "GOOD-AAAA2222")
    with shop_hook() as hook:
        send(engine, hook.url)
    make.offer(engine, ana, "GONE-BBBB3333")
    with shop_hook(status=404) as hook:
        send(engine, hook.url)
    url = engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(app, ["offers", "webhooks", "status", "--json", "--db", url])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == [
        {"event": "offer.issued", "status": "delivered", "count": 1},
        {"event": "offer.issued", "status": "failed", "count": 1},
    ]
