"""Erasure reaches the newer tables: a manual points grant's reason (typed by staff, may name
the person) and a shop webhook's error (the shop's answer may quote the payload's ids) are
cleared for the erased person only; their balance and the events themselves stay."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, insert, text

from relmark.interact.loyalty import grant
from relmark.store import erasure
from relmark.store.audit import Actor
from relmark.store.offer_webhook_models import OfferWebhook

from ..conftest import NOW
from ..loyalty.seed import add_customer, balance, enable, programme
from ..offer_factory import offer

STAFF = Actor("cli", "tester")


def webhook(engine: Engine, offer_id: int, error: str) -> None:
    with engine.begin() as connection:
        connection.execute(
            insert(OfferWebhook).values(
                offer_id=offer_id,
                event="offer.issued",
                status="failed",
                attempts=5,
                created_at=NOW,
                next_attempt_at=NOW,
                last_error=error,
            )
        )


def column(engine: Engine, sql: str, customer: int) -> list[str | None]:
    with engine.connect() as connection:
        return list(connection.execute(text(sql), {"c": customer}).scalars())


def test_erasure_replaces_grant_reasons_and_webhook_errors_of_that_person_only(
    engine: Engine,
) -> None:
    # given two members with manual grants whose reasons name them, and failed webhooks
    enable(engine)
    ana, bo = add_customer(engine), add_customer(engine)
    grant(engine, programme(), ana, 40, "Ana Novak's parcel came late", NOW, STAFF)
    grant(engine, programme(), ana, -5, "Ana Novak asked twice", NOW, STAFF)
    grant(engine, programme(), bo, 30, "Bo's parcel came late", NOW, STAFF)
    webhook(engine, offer(engine, ana, "BACK-AAAA2222"), "422: ana@example.si is unknown")
    webhook(engine, offer(engine, bo, "BACK-BBBB3333"), "422: bo@example.my is unknown")

    # when Ana is erased
    with engine.begin() as connection:
        done = erasure.erase(
            connection, ana, actor=STAFF, reason="request", now=NOW + timedelta(days=1)
        )

    # then her grants keep their points but not the staff's words, and her webhook no error
    reasons = "SELECT reason FROM loyalty_entries WHERE customer_id = :c ORDER BY id"
    assert column(engine, reasons, ana) == ["erased", "erased"]
    assert column(engine, reasons, bo) == ["Bo's parcel came late"]
    assert balance(engine, ana) == (35, 35)
    errors = (
        "SELECT w.last_error FROM offer_webhooks w JOIN offers o ON o.id = w.offer_id "
        "WHERE o.customer_id = :c"
    )
    assert column(engine, errors, ana) == [None]
    assert column(engine, errors, bo) == ["422: bo@example.my is unknown"]
    assert done.counts["loyalty_entries"] == 2
    assert done.counts["offer_webhooks"] == 1
