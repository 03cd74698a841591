"""The referral mail carries the customer's stored code: the link a friend follows is the
one the tracking endpoint and the order import attribute (not a code no one can look up)."""

from __future__ import annotations

import email
import re
from datetime import UTC, datetime
from email import policy

from sqlalchemy import text

from relmark.interact.delivery import SendOptions

from ..helpers import run_import, write_csv
from .conftest import Inbox, Shop, book

AS_OF = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
REFER = book(
    "refer",
    template="referral",
    offer={"discount_percent": 10},
    trigger={"on": "order", "delay_days": 1},
)


def test_the_referral_mail_links_the_stored_code_and_that_code_attributes(
    shop: Shop, inbox: tuple[Inbox, int]
) -> None:
    # given Ana, a customer whose order makes the referral playbook write to her
    server, port = inbox
    shop.customers([["ANA", "ana@example.si", "", "Ana", "en", "SI", "", "", "", "yes"]])
    shop.products([["TEA", "Green tea", "tea", ""]])
    shop.orders([["A1", "ANA", "2026-05-31T09:00:00Z", "EUR", "completed", "TEA", 1, "5"]])
    relmark = shop.interaction(
        REFER,
        offers_on=True,
        smtp_host="127.0.0.1",
        smtp_port=port,
        shop_url="https://shop.example",
    )
    relmark.plan(AS_OF, AS_OF)

    # when it is sent
    assert relmark.send(SendOptions(as_of=lambda: AS_OF)).sent == 1

    # then the link holds the code stored for Ana
    [raw] = server.messages
    body = email.message_from_bytes(raw, policy=policy.default).get_body(("plain",)).get_content()
    with shop.engine.connect() as connection:
        stored = connection.execute(
            text("SELECT code FROM referral_codes WHERE customer_id = :c"),
            {"c": shop.id_of("ANA")},
        ).scalar_one()
    assert f"https://shop.example/?ref={stored}" in body
    [linked] = re.findall(r"\?ref=([A-Z0-9-]+)", body)

    # and a friend's first order carrying it is attributed to Ana
    shop.customers([["BOR", "bor@example.si", "", "Bor", "en", "SI", "", "", "", "yes"]])
    run_import(
        shop.engine,
        "orders",
        write_csv(
            shop.folder,
            "friend.csv",
            ["order_id", "customer_id", "ordered_at", "total", "currency", "referral_code"],
            [["B1", "BOR", "2026-06-02", "20", "EUR", linked]],
        ),
    )
    with shop.engine.connect() as connection:
        referrals = connection.execute(text("SELECT referrer_id, status FROM referrals")).all()
    assert [tuple(r) for r in referrals] == [(shop.id_of("ANA"), "pending")]
