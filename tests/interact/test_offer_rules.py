"""The store's rules for an offer's life: redeem (and every refusal), expire, void, erasure;
on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from relmark import pipeline
from relmark.store import audit, erasure, offer_redemption, offers
from relmark.store.audit import Actor
from relmark.store.offer_redemption import OfferRefused, Refusal, order_id_of
from relmark.store.offers import OfferTerms

from .conftest import Shop

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
PERSON = Actor("user", "anna@shop.example", "127.0.0.1")
TEN_OFF = OfferTerms(kind="discount", code_prefix="BACK", percent_off=10)


def people(shop: Shop) -> None:
    """C0 and C1, two people; C0B is C0 again under another source id (same e-mail)."""
    shop.customers(
        [
            ["C0", "ana@example.si", "", "Ana", "sl", "SI", "Europe/Ljubljana", "", "", "yes"],
            ["C1", "bor@example.si", "", "Bor", "sl", "SI", "Europe/Ljubljana", "", "", "yes"],
            ["C0B", "ANA@example.si", "", "Ana", "sl", "SI", "Europe/Ljubljana", "", "", "yes"],
        ]
    )
    shop.products([["TEA", "Tea", "tea", ""]])
    shop.orders(
        [
            ["A1", "C0", "2026-06-05T09:00:00Z", "EUR", "completed", "TEA", 2, "4.20"],
            ["A2", "C0", "2026-06-06T09:00:00Z", "EUR", "completed", "TEA", 10, "4.20"],
            ["OLD", "C0", "2026-05-01T09:00:00Z", "EUR", "completed", "TEA", 1, "4.20"],
            ["LATE", "C0", "2026-08-01T09:00:00Z", "EUR", "completed", "TEA", 1, "4.20"],
            ["USD", "C0", "2026-06-05T10:00:00Z", "USD", "completed", "TEA", 20, "4.20"],
            ["B1", "C1", "2026-06-05T09:00:00Z", "EUR", "completed", "TEA", 2, "4.20"],
            ["MERGED", "C0B", "2026-06-07T09:00:00Z", "EUR", "completed", "TEA", 2, "4.20"],
        ]
    )


def grant(shop: Shop, external: str = "C0", terms: OfferTerms = TEN_OFF, **kw: Any) -> str:
    with shop.engine.begin() as connection:
        offer = offers.grant(
            connection,
            customer_id=shop.id_of(external),
            terms=terms,
            expires_at=kw.get("expires_at", NOW + timedelta(days=30)),
            now=kw.get("now", NOW),
        )
    return str(offer["code"])


def order(shop: Shop, number: str) -> int:
    with shop.engine.connect() as connection:
        return order_id_of(connection, external_id=number)


def redeem(shop: Shop, code: str, number: str, **kw: Any) -> dict[str, Any]:
    with shop.engine.begin() as connection:
        return offer_redemption.redeem(connection, code, order(shop, number), NOW, **kw)


def refusal(shop: Shop, code: str, number: str) -> OfferRefused:
    with pytest.raises(OfferRefused) as caught:
        redeem(shop, code, number)
    return caught.value


def offer_row(shop: Shop, code: str) -> dict[str, Any]:
    with shop.engine.connect() as connection:
        return offers.find(connection, code)


def test_a_code_redeems_once_for_its_customers_order_and_records_it(shop: Shop) -> None:
    # given
    people(shop)
    code = grant(shop)
    # when: typed as a customer would (lower case, spaces)
    done = redeem(shop, " " + code.lower().replace("-", " - ") + " ", "A1", actor=PERSON)
    # then
    assert (done["code"], done["uses"], done["status"]) == (code, 1, "redeemed")
    assert done["discount_minor"] == 84  # 10 % of 8.40
    row = offer_row(shop, code)
    assert (row["status"], row["uses"], row["close_reason"]) == ("redeemed", 1, "redeemed")
    with shop.engine.connect() as connection:
        used = offers.redemptions(connection, int(row["id"]))
        events = connection.execute(
            text("SELECT kind FROM customer_events WHERE kind LIKE 'offer%'")
        ).all()
        trail = audit.entries(connection, customer_id=shop.id_of("C0"))
    assert [u["order_id"] for u in used] == [order(shop, "A1")]
    assert [e[0] for e in events] == ["offer_redeemed"]
    assert trail[0]["action"] == "offer.redeem"
    assert trail[0]["actor"] == "anna@shop.example"
    # and a second use is refused: single use
    assert refusal(shop, code, "A2").reason is Refusal.USED_UP


@pytest.mark.parametrize(
    ("case", "terms", "number", "reason"),
    [
        ("another_customer", TEN_OFF, "B1", Refusal.OTHER_CUSTOMER),
        ("ordered_before_issue", TEN_OFF, "OLD", Refusal.NOT_ISSUED),
        ("ordered_after_expiry", TEN_OFF, "LATE", Refusal.EXPIRED),
        (
            "below_minimum",
            OfferTerms(kind="discount", percent_off=10, currency="EUR", min_order_minor=1000),
            "A1",
            Refusal.BELOW_MINIMUM,
        ),
        (
            "other_currency",
            OfferTerms(kind="discount", amount_minor=500, currency="EUR"),
            "USD",
            Refusal.OTHER_CURRENCY,
        ),
    ],
)
def test_each_rule_refuses_with_its_reason_and_changes_nothing(
    shop: Shop, case: str, terms: OfferTerms, number: str, reason: Refusal
) -> None:
    people(shop)
    code = grant(shop, terms=terms)

    refused = refusal(shop, code, number)

    assert refused.reason is reason, case
    assert code in str(refused)
    row = offer_row(shop, code)
    assert (row["status"], row["uses"]) == ("issued", 0)
    assert _count(shop, "offer_redemptions") == 0


def test_the_minimum_is_met_by_a_big_enough_order(shop: Shop) -> None:
    people(shop)
    terms = OfferTerms(kind="discount", percent_off=10, currency="EUR", min_order_minor=1000)
    code = grant(shop, terms=terms)
    assert redeem(shop, code, "A2")["uses"] == 1  # 42.00 EUR >= 10.00


def test_unknown_reserved_void_and_expired_codes_are_refused(shop: Shop) -> None:
    people(shop)
    assert refusal(shop, "BACK-ZZZZZZZZ", "A1").reason is Refusal.UNKNOWN

    void_code = grant(shop)
    with shop.engine.begin() as connection:
        offers.void(connection, void_code, "sent by mistake", NOW, actor=PERSON)
    assert refusal(shop, void_code, "A1").reason is Refusal.VOID

    old_code = grant(shop, expires_at=NOW + timedelta(days=2))
    with shop.engine.begin() as connection:
        offers.expire(connection, NOW + timedelta(days=3))
    assert refusal(shop, old_code, "A1").reason is Refusal.EXPIRED


def test_a_multi_use_code_counts_uses_and_refuses_the_same_order_twice(shop: Shop) -> None:
    people(shop)
    code = grant(shop, terms=OfferTerms(kind="discount", percent_off=5, max_uses=2))

    first = redeem(shop, code, "A1")
    again = refusal(shop, code, "A1")
    second = redeem(shop, code, "A2")

    assert (first["uses"], first["status"]) == (1, "issued")
    assert again.reason is Refusal.ALREADY_USED_FOR_ORDER
    assert (second["uses"], second["status"]) == (2, "redeemed")


def test_merged_profiles_are_one_customer(shop: Shop) -> None:
    # given: C0B (same e-mail) got an offer before identity resolution merged it into C0
    people(shop)
    ana, ana_again = shop.id_of("C0"), shop.id_of("C0B")
    code = grant(shop, "C0B")
    assert refusal(shop, code, "A1").reason is Refusal.OTHER_CUSTOMER  # two people, as yet
    pipeline.identify(shop.engine, now=NOW)
    merged = _rows(
        shop,
        f"SELECT id FROM customers WHERE id IN ({ana}, {ana_again}) AND merged_into_id IS NOT NULL",
    )
    assert len(merged) == 1
    # when: the order placed under the other profile uses it
    done = redeem(shop, code, "A1")
    # then
    assert done["uses"] == 1


def test_expire_is_set_based_and_idempotent_and_voids_unsent_reservations(shop: Shop) -> None:
    people(shop)
    soon = grant(shop, expires_at=NOW + timedelta(days=1))
    later = grant(shop, expires_at=NOW + timedelta(days=60))

    with shop.engine.begin() as connection:
        first = offers.expire(connection, NOW + timedelta(days=2))
    with shop.engine.begin() as connection:
        second = offers.expire(connection, NOW + timedelta(days=2))

    assert (first.expired, second.expired) == (1, 0)
    assert offer_row(shop, soon)["status"] == "expired"
    assert offer_row(shop, soon)["closed_at"] == NOW + timedelta(days=1)
    assert offer_row(shop, later)["status"] == "issued"


def test_void_is_audited_needs_a_reason_and_refuses_a_closed_offer(shop: Shop) -> None:
    people(shop)
    code = grant(shop)
    with shop.engine.begin() as connection, pytest.raises(Exception, match="say why"):
        offers.void(connection, code, "  ", NOW, actor=PERSON)

    with shop.engine.begin() as connection:
        voided = offers.void(connection, code, "customer complained", NOW, actor=PERSON)
    with shop.engine.begin() as connection, pytest.raises(Exception, match="already void"):
        offers.void(connection, code, "again", NOW, actor=PERSON)

    assert (voided["status"], voided["close_reason"]) == ("void", "customer complained")
    with shop.engine.connect() as connection:
        [entry] = [e for e in audit.entries(connection) if e["action"] == "offer.void"]
    assert entry["detail"]["code"] == code
    assert entry["customer_id"] == shop.id_of("C0")


def test_erasing_a_customer_voids_their_open_offers(shop: Shop) -> None:
    people(shop)
    mine = grant(shop, "C0")
    theirs = grant(shop, "C1")
    voided = grant(shop, "C0")
    with shop.engine.begin() as connection:
        offers.void(connection, voided, "Ana Novak phoned to complain", NOW, actor=PERSON)

    with shop.engine.begin() as connection:
        done = erasure.erase(connection, shop.id_of("C0"), actor=PERSON, reason="request", now=NOW)

    assert done.counts["offers"] == 1
    assert offer_row(shop, mine)["status"] == "void"
    assert offer_row(shop, theirs)["status"] == "issued"
    assert offer_row(shop, voided)["close_reason"] == "erased"  # staff's words may name her


def test_orders_are_named_by_number_source_or_id_with_clear_errors(shop: Shop) -> None:
    people(shop)
    with shop.engine.connect() as connection:
        by_number = order_id_of(connection, external_id="A1")
        assert order_id_of(connection, order_id=by_number) == by_number
        with pytest.raises(Exception, match="no order numbered 'NOPE'"):
            order_id_of(connection, external_id="NOPE")
        with pytest.raises(Exception, match="no order with id 999999"):
            order_id_of(connection, order_id=999999)
        with pytest.raises(Exception, match="from source 'shopify'"):
            order_id_of(connection, external_id="A1", source="shopify")


def _count(shop: Shop, table: str) -> int:
    with shop.engine.connect() as connection:
        return int(connection.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one())


def _rows(shop: Shop, sql: str) -> list[tuple[Any, ...]]:
    with shop.engine.connect() as connection:
        return [tuple(r) for r in connection.execute(text(sql))]


def test_sample_codes_can_never_be_real() -> None:
    from relmark.store.offer_codes import ALPHABET, SAMPLE_SUFFIX, new_code, sample_code

    assert set(SAMPLE_SUFFIX) - set(ALPHABET)  # characters no real code has
    assert sample_code("back") == "BACK-SAMPLE00" != new_code("BACK")
