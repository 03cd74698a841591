"""Links in messages sent before a merge keep working after it (issue 12, defect 4): the
unsubscribe, the preference centre and click links of a profile that was merged into an
older one act on the survivor, through HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from relmark.interact.tokens import LinkKind
from relmark.pipeline import identify
from relmark.store import audit, identity

from ..helpers import run_import, write_csv
from ..interact.conftest import CUSTOMERS, book
from .conftest import Web
from .test_links import token

AS_OF = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def merged_after_message(web: Web) -> tuple[dict, int, int]:
    """An older profile (shop) and a newer one (web) of one person; the newer one is sent
    a message; then identity resolution folds the newer into the older."""
    older = ["S1", "ana@example.si", "", "Ana", "sl", "SI", "Europe/Ljubljana", "", "", "yes"]
    run_import(
        web.shop.engine,
        "customers",
        write_csv(web.shop.folder, "shop.csv", CUSTOMERS, [older]),
        source="shop",
    )
    newer = ["W1", "ana@example.si", "", "Ana", "sl", "SI", "Europe/Ljubljana", "", "", "yes"]
    run_import(
        web.shop.engine,
        "customers",
        write_csv(web.shop.folder, "web.csv", CUSTOMERS, [newer]),
        source="web",
    )
    web.shop.products([["TEA", "Tea", "tea", ""]])
    header = ["order_id", "customer_id", "ordered_at", "currency", "status", "sku"]
    header += ["quantity", "unit_price"]
    run_import(
        web.shop.engine,
        "orders",
        write_csv(
            web.shop.folder,
            "o.csv",
            header,
            [["O1", "W1", "2026-05-31T10:00:00Z", "EUR", "completed", "TEA", 1, "5"]],
        ),
        source="web",
    )
    absorbed = web.shop.id_of("W1")
    relmark = web.shop.interaction(
        book("promo", template="winback", trigger={"on": "order", "delay_days": 1})
    )
    relmark.plan(AS_OF, AS_OF)
    message = web.shop.messages()[0]
    assert message["customer_id"] == absorbed
    report = identify(web.shop.engine, now=AS_OF, probabilistic=False)
    survivor = web.shop.id_of("W1")
    assert report.merges == 1
    assert survivor != absorbed
    return message, absorbed, survivor


def marketing_status(web: Web, customer_id: int) -> str:
    from relmark.store import consents

    with web.shop.engine.connect() as connection:
        held = consents.effective(
            consents.latest_statements(connection, customer_id=customer_id, channel="email")
        )
    return {r["purpose"]: r["status"] for r in held.iter_rows(named=True)}["marketing"]


def test_one_click_unsubscribe_after_a_merge_lands_on_the_survivor(web: Web) -> None:
    message, _absorbed, survivor = merged_after_message(web)
    assert marketing_status(web, survivor) == "granted"
    link = f"/u/{token(message, LinkKind.UNSUBSCRIBE)}"
    page = web.client.get(link)
    assert page.status_code == 200
    assert 'lang="sl"' in page.text
    done = web.client.post(
        link,
        content="List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert done.status_code == 200
    assert marketing_status(web, survivor) == "withdrawn"
    with web.shop.engine.connect() as connection:
        row = connection.execute(
            text("SELECT customer_id, source FROM consents WHERE status = 'withdrawn'")
        ).one()
    assert tuple(row) == (survivor, "unsubscribe-one-click")
    with web.shop.engine.connect() as connection:
        trail = audit.entries(connection, customer_id=survivor)
    assert [(e["actor_kind"], e["action"]) for e in trail] == [("link", "consent.withdrawn")]
    assert "ana@" not in str(trail)  # ids and field names only
    assert web.client.post(link).status_code == 200  # again: idempotent, still fine


def test_preference_centre_and_clicks_after_a_merge(web: Web) -> None:
    message, _absorbed, survivor = merged_after_message(web)
    link = f"/p/{token(message, LinkKind.UNSUBSCRIBE)}"
    page = web.client.get(link)
    assert page.status_code == 200
    assert 'name="marketing" value="1" checked' in page.text  # the survivor's consent
    saved = web.client.post(link, data={"service": "1"})
    assert saved.status_code == 200
    assert marketing_status(web, survivor) == "withdrawn"
    click = web.client.get(f"/t/c/{token(message, LinkKind.CLICK, url='https://shop.example/')}")
    assert (click.status_code, click.headers["location"]) == (302, "https://shop.example/")
    with web.shop.engine.connect() as connection:
        events = connection.execute(
            text("SELECT customer_id, kind FROM message_events ORDER BY id")
        ).all()
    assert [tuple(e) for e in events] == [(survivor, "click")]


def test_a_link_of_another_customer_still_fails(web: Web) -> None:
    message, _absorbed, _survivor = merged_after_message(web)
    web.shop.customers(
        [["X1", "x@example.si", "", "Xenia", "sl", "SI", "Europe/Ljubljana", "", "", "yes"]]
    )
    stranger = web.shop.id_of("X1")
    forged = dict(message, customer_id=stranger)  # signed, but naming someone else's message
    response = web.client.post(f"/u/{token(forged, LinkKind.UNSUBSCRIBE)}")
    assert response.status_code == 422
    assert marketing_status(web, stranger) == "granted"


def test_a_link_follows_a_chain_of_merges(web: Web) -> None:
    message, absorbed, survivor = merged_after_message(web)
    web.shop.customers(
        [["Z1", "ana.novak@example.si", "", "Ana", "sl", "SI", "Europe/Ljubljana", "", "", ""]]
    )
    final = web.shop.id_of("Z1")
    with web.shop.engine.begin() as connection:  # a reviewer joins the survivor to a third
        identity.apply_merges(
            connection,
            [
                {
                    "survivor_id": final,
                    "absorbed_id": survivor,
                    "probability": None,
                    "evidence": {"review": "same person"},
                    "record_ids": [],
                }
            ],
            kind="review",
            now=AS_OF,
        )

    done = web.client.post(f"/u/{token(message, LinkKind.UNSUBSCRIBE)}")

    assert done.status_code == 200
    assert marketing_status(web, final) == "withdrawn"
    assert absorbed != final
