"""store/member_reads: one person's referrals read through the indexes equal what the
referral report lists for them (merges followed on both sides), on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import Engine, insert, update

from relmark.store.member_reads import referrals_of
from relmark.store.models import Customer, Order, SourceRecord
from relmark.store.referral_models import Referral, ReferralCode
from relmark.store.referral_report import list_referrals

from .conftest import NOW


def referral_web(engine: Engine) -> None:
    """1 referred 3 and 4, 2 referred 5 and 6, 7 referred 8; then 2 merged into 1 and 4 into 3."""
    people = range(1, 9)
    with engine.begin() as connection:
        connection.execute(
            insert(Customer),
            [{"id": i, "created_at": NOW, "updated_at": NOW} for i in people],
        )
        connection.execute(
            insert(SourceRecord),
            [
                {
                    "id": i,
                    "source": "web",
                    "external_id": f"c{i}",
                    "customer_id": i,
                    "imported_at": NOW,
                    "updated_at": NOW,
                }
                for i in people
            ],
        )
        connection.execute(
            insert(ReferralCode),
            [{"id": i, "code": f"REF-{i}", "customer_id": i, "created_at": NOW} for i in (1, 2, 7)],
        )
        pairs = [(1, 3), (1, 4), (2, 5), (2, 6), (7, 8)]
        connection.execute(
            insert(Order),
            [
                {
                    "id": referee,
                    "source": "web",
                    "external_id": f"o{referee}",
                    "customer_id": referee,
                    "source_record_id": referee,
                    "ordered_at": NOW,
                    "currency": "EUR",
                    "amount_minor": 3000,
                    "discount_minor": 0,
                    "status": "completed",
                }
                for _referrer, referee in pairs
            ],
        )
        connection.execute(
            insert(Referral),
            [
                {
                    "code_id": referrer,
                    "referrer_id": referrer,
                    "referee_id": referee,
                    "order_id": referee,
                    "via": "coupon",
                    "status": "pending",
                    "created_at": NOW,
                }
                for referrer, referee in pairs
            ],
        )
        connection.execute(update(Customer).where(Customer.id == 2).values(merged_into_id=1))
        connection.execute(update(Customer).where(Customer.id == 4).values(merged_into_id=3))


def test_one_persons_referrals_equal_the_reports(engine: Engine) -> None:
    referral_web(engine)
    with engine.connect() as connection:
        for live in (1, 3, 5, 6, 7, 8):
            _total, expected = list_referrals(connection, customer_id=live, limit=50)
            assert referrals_of(connection, live, limit=50) == expected, live
        everyone = referrals_of(connection, 1, limit=50)
        assert [(r["referrer_id"], r["referee_id"]) for r in everyone] == [
            (1, 6),
            (1, 5),
            (1, 3),
            (1, 3),
        ]
        assert len(referrals_of(connection, 1, limit=2)) == 2
