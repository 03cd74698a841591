"""Referral codes, and attribution of a new customer's first order through an order file's
referral_code column, with each fraud rule's verdict recorded (SQLite and PostgreSQL)."""

from __future__ import annotations

import re

import pytest

from relmark.errors import InvalidInput
from relmark.store.live import live_profile
from relmark.store.referrals import code_for, find_code

from ..helpers import run_import, snapshot, write_csv
from .conftest import NOW, Referrals


def test_a_customer_code_is_made_once_typable_and_kept(shop: Referrals) -> None:
    # when Ana's code is asked for twice
    first = shop.code_of("ANA")
    again = shop.code_of("ANA")

    # then it is one stored, typable code that resolves to her
    assert re.fullmatch(r"REF-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{8}", first)
    assert again == first
    assert shop.value("SELECT COUNT(*) FROM referral_codes") == 1
    with shop.engine.connect() as connection:
        found = find_code(connection, first.lower().replace("-", " "))
    assert found is not None
    assert found[1] == shop.id_of("ANA")


def test_codes_survive_a_merge_and_the_absorbed_code_resolves_to_the_survivor(
    shop: Referrals,
) -> None:
    # given Ana and a second profile of hers from another export, each with a code
    shop.customers([["ANA-2", "Ana@Example.com", "", "Ana", "SI", "", ""]])
    ana, ciril = shop.code_of("ANA"), shop.code_of("ANA-2")
    ana_id, ciril_id = shop.id_of("ANA"), shop.id_of("ANA-2")

    # when identity resolution merges them (Ana, the older profile, survives)
    from relmark import pipeline

    pipeline.identify(shop.engine, now=NOW)
    with shop.engine.begin() as connection:
        assert live_profile(connection, ciril_id) == ana_id
        kept = code_for(connection, ciril_id, NOW)  # asked through the absorbed id
        resolved = find_code(connection, ciril)

    # then the survivor keeps her own code, and Ciril's old code still names her
    assert kept == ana
    assert resolved is not None
    assert resolved[1] == ana_id


def test_a_new_customers_first_order_with_the_code_is_pending(shop: Referrals) -> None:
    code = shop.code_of("ANA")
    report = shop.orders([["B-1", "BOR", "2026-05-01", "40.00", "EUR", "completed", code]])
    assert report.counts["referrals_pending"] == 1
    assert shop.referrals() == [("BOR", "B-1", "import", "pending", None)]
    assert shop.rows("SELECT referrer_id, referee_discount_minor, currency FROM referrals") == [
        (shop.id_of("ANA"), 0, "EUR")
    ]


@pytest.mark.parametrize(
    ("_case", "referee", "earlier", "reason"),
    [
        ("own code", "ANA", None, "self_referral"),
        ("same e-mail, not merged yet", "CIR", None, "same_email"),
        ("same phone written differently", "DAN", None, "same_phone"),
        ("same street and postcode", "EVA", None, "same_address"),
        ("ordered before", "FIL", "2026-02-01", "referee_not_new"),
    ],
)
def test_fraud_rules_reject_with_the_reason(
    shop: Referrals, _case: str, referee: str, earlier: str | None, reason: str
) -> None:
    code = shop.code_of("ANA")
    if earlier:
        shop.orders([["X-0", referee, earlier, "10.00", "EUR", "completed", ""]])
    shop.orders([["X-1", referee, "2026-05-02", "30.00", "EUR", "completed", code]])
    assert shop.referrals() == [(referee, "X-1", "import", "rejected", reason)]


def test_a_cancelled_order_is_rejected_and_reimporting_attributes_nothing_twice(
    shop: Referrals,
) -> None:
    code = shop.code_of("ANA")
    rows = [
        ["B-1", "BOR", "2026-05-01", "40.00", "EUR", "cancelled", code],
        ["F-1", "FIL", "2026-05-01", "40.00", "EUR", "completed", code],
    ]
    shop.orders(rows)
    again = shop.orders(rows)
    assert shop.referrals() == [
        ("BOR", "B-1", "import", "rejected", "order_cancelled"),
        ("FIL", "F-1", "import", "pending", None),
    ]
    assert again.counts["referrals_pending"] == 0


def test_an_unknown_code_is_counted_and_the_order_still_imported(shop: Referrals) -> None:
    report = shop.orders(
        [["B-1", "BOR", "2026-05-01", "40.00", "EUR", "completed", "REF-22222222"]]
    )
    assert report.counts["referral_codes_unknown"] == 1
    assert shop.value("SELECT COUNT(*) FROM orders WHERE external_id = 'B-1'") == 1
    assert shop.referrals() == []


def test_a_malformed_code_refuses_the_file_saying_where_and_changes_nothing(
    shop: Referrals,
) -> None:
    before = snapshot(shop.engine)
    with pytest.raises(InvalidInput) as refused:
        shop.orders(
            [
                ["B-1", "BOR", "2026-05-01", "40.00", "EUR", "completed", "ref-7kq2m9tx"],
                ["F-1", "FIL", "2026-05-01", "40.00", "EUR", "completed", "FRIEND10"],
            ]
        )
    message = str(refused.value)
    assert ":3: column 'referral_code'" in message
    assert "'FRIEND10': is not a referral code (they look like REF-7KQ2M9TX)" in message
    assert ":2:" not in message  # typed in lower case without care: still a code's shape
    assert snapshot(shop.engine) == before


def test_a_line_level_file_carries_the_code_once_per_order(shop: Referrals) -> None:
    # given an export with one row per line that prints the order's code on its first line
    code = shop.code_of("ANA")
    header = ["order_id", "customer_id", "ordered_at", "currency", "sku", "quantity", "unit_price"]
    path = write_csv(
        shop.folder,
        "lines.csv",
        [*header, "referral_code"],
        [
            ["B-1", "BOR", "2026-05-01", "EUR", "TEA", "2", "4.50", code],
            ["B-1", "", "", "", "CUP", "1", "9.00", ""],
            ["F-1", "FIL", "2026-05-01", "EUR", "TEA", "1", "4.50", "REF-22222222"],
            ["F-1", "", "", "", "CUP", "1", "9.00", "REF-33333333"],
        ],
    )

    # when it is imported, then the order whose lines disagree on the code is refused
    with pytest.raises(InvalidInput) as refused:
        run_import(shop.engine, "orders", path, create_missing=True)
    assert "'REF-33333333' differs from 'REF-22222222' given for order 'F-1'" in str(refused.value)

    # and without it, B-1 is one order attributed once
    report = run_import(shop.engine, "orders", path, create_missing=True, skip_invalid=True)
    assert report.counts["referrals_pending"] == 1
    assert shop.referrals() == [("BOR", "B-1", "import", "pending", None)]
