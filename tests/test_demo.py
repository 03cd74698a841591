"""The demo store is deterministic for a seed and realistic enough to test every stage on."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import phonenumbers
import polars as pl
import pytest
from polars.testing import assert_frame_equal
from sqlalchemy import Engine

from relmark.demo.build import load, write_files
from relmark.demo.generate import DemoData, generate
from relmark.demo.texts import MENTIONS

from .helpers import count, rows, run_import

AS_OF = datetime(2026, 11, 1, 23, 59, 59, tzinfo=UTC)
FRAMES = (
    "partners",
    "products",
    "customers_web",
    "customers_pos",
    "orders_web",
    "orders_pos",
    "support_contacts",
    "mentions",
    "identity_truth",
)


@pytest.fixture(scope="module")
def data() -> DemoData:
    return generate(2000, seed=11, as_of=AS_OF)


def test_same_seed_same_store_other_seed_other_store(data: DemoData) -> None:
    again = generate(2000, seed=11, as_of=AS_OF)
    other = generate(2000, seed=12, as_of=AS_OF)

    for name in FRAMES:
        assert_frame_equal(getattr(data, name), getattr(again, name))
    assert not data.customers_web.equals(other.customers_web)
    assert not data.orders_web.equals(other.orders_web)


def test_customers_span_the_six_locales_with_valid_phones(data: DemoData) -> None:
    web = data.customers_web
    assert set(web["country"]) == {"GB", "MY", "KZ", "PH", "UA", "SI"}
    base = {tag.split("-")[0] for tag in web["language"]}
    assert base == {"en", "ms", "kk", "tl", "fil", "uk", "sl"}
    phones = web.filter(pl.col("phone").is_not_null()).select("phone", "country")
    assert phones.height > 0.85 * web.height
    for phone, country in phones.iter_rows():
        number = phonenumbers.parse(phone, country)
        assert phonenumbers.is_valid_number(number), (phone, country)
        assert phonenumbers.region_code_for_number(number) == country
    emails = web["email"].drop_nulls()
    assert emails.n_unique() == emails.len()
    assert all(re.fullmatch(r"[a-z0-9._]+@[a-z0-9.-]+\.[a-z]+", e) for e in emails)
    assert any(re.search("[\u0400-\u04ff]", n) for n in web["first_name"])  # Cyrillic names


def test_dates_are_plausible(data: DemoData) -> None:
    web = data.customers_web
    born = web["birthday"].str.to_date()
    ages = (AS_OF.date() - born).dt.total_days() / 365.25
    assert ages.min() >= 17.9
    assert ages.max() <= 77
    since = web["customer_since"].str.to_datetime(time_zone="UTC")
    assert since.min() >= AS_OF - timedelta(days=3 * 365 + 1)
    assert since.max() <= AS_OF
    orders = data.orders_web.join(web.select("customer_id", "customer_since"), on="customer_id")
    ordered = orders["ordered_at"].str.to_datetime(time_zone="UTC")
    assert (ordered >= orders["customer_since"].str.to_datetime(time_zone="UTC")).all()
    assert ordered.max() <= AS_OF


def test_purchase_behaviour_is_heterogeneous(data: DemoData) -> None:
    per_customer = data.orders_web.group_by("customer_id").agg(pl.col("order_id").n_unique())
    one_timers = (per_customer["order_id"] == 1).mean()
    assert 0.2 < one_timers < 0.8
    assert per_customer["order_id"].max() >= 10
    statuses = set(data.orders_web["status"])
    assert {"completed", "returned", "refunded", "cancelled"} <= statuses
    discounted = data.orders_web.filter(pl.col("discount") != "0.00")["order_id"].n_unique()
    assert 0.05 < discounted / data.orders_web["order_id"].n_unique() < 0.2
    kinds = set(data.orders_web["partner_id"].drop_nulls()) | set(
        data.orders_pos["partner_id"].drop_nulls()
    )
    partner_kinds = {k for p, _, k in data.partners.iter_rows() if p in kinds}
    assert {"channel", "distributor", "agency"} <= partner_kinds


def test_second_source_plants_five_percent_varied_duplicates(data: DemoData) -> None:
    truth = data.identity_truth.filter(pl.col("key").str.starts_with("pos:"))
    dups = truth.filter(pl.col("truth").str.starts_with("web:"))
    assert dups.height == 100  # 5% of 2,000
    web = data.customers_web.with_columns(pl.format("web:{}", "customer_id").alias("truth"))
    pos = data.customers_pos.with_columns(pl.format("pos:{}", "customer_id").alias("key"))
    pairs = dups.join(pos, on="key").join(web, on="truth", suffix="_web")
    assert pairs.height == 100
    exact = pairs.filter(
        (pl.col("first_name") == pl.col("first_name_web"))
        & (pl.col("last_name") == pl.col("last_name_web"))
        & (pl.col("email") == pl.col("email_web"))
        & (pl.col("phone") == pl.col("phone_web"))
    )
    assert exact.height < 10  # nearly every duplicate differs somehow
    assert (pairs["country"] == pairs["country_web"]).all()


def test_consents_mentions_and_contacts(data: DemoData) -> None:
    granted = (data.customers_web["email_consent"] == "yes").sum() / data.customers_web.height
    assert 0.75 < granted < 0.85
    assert set(data.mentions["language"]) == set(MENTIONS)
    assert set(data.mentions["kind"]) == {"praise", "question", "complaint"}
    assert data.mentions["text"].str.contains(r"\{").sum() == 0
    assert data.support_contacts.height > 0
    assert set(data.support_contacts["reason"]) >= {"return", "delivery"}


def test_demo_loads_into_the_store_and_exports_reimport_unchanged(engine: Engine, tmp_path) -> None:
    small = generate(300, seed=3, as_of=AS_OF)
    write_files(small, tmp_path)

    counts = load(engine, small, tmp_path, now=AS_OF)

    assert counts["customers_web.csv"]["inserted"] == 300
    assert count(engine, "customers") == 300 + small.customers_pos.height
    assert count(engine, "orders") == (
        small.orders_web["order_id"].n_unique() + small.orders_pos["order_id"].n_unique()
    )
    assert count(engine, "mentions") == small.mentions.height
    assert count(engine, "support_contacts") == small.support_contacts.height
    assert rows(engine, "SELECT COUNT(*) FROM demo_truth WHERE entity = 'customer'") == [
        (small.identity_truth.height,)
    ]
    again = run_import(engine, "orders", tmp_path / "orders_web.csv", source="web")
    assert again.counts["inserted"] == 0
    assert again.counts["updated"] == 0
