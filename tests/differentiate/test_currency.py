"""A store that sells in several currencies is valued in one, at the rates it was given."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import polars as pl
import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from relmark import pipeline
from relmark.demo.build import load, write_files
from relmark.demo.generate import generate
from relmark.differentiate.currency import ReportingCurrency, to_reporting_currency
from relmark.differentiate.score import ScoreSettings
from relmark.errors import InvalidInput
from relmark.interfaces.cli import app

from ..helpers import new_store, rows

AS_OF = datetime(2026, 10, 1, 23, 59, 59, tzinfo=UTC)


def orders(*entries: tuple[str, int, int | None]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "customer_id": list(range(len(entries))),
            "currency": [e[0] for e in entries],
            "amount_minor": [e[1] for e in entries],
            "discount_minor": [0 for _ in entries],
            "cost_minor": [e[2] for e in entries],
        },
        schema_overrides={"cost_minor": pl.Int64},
    )


def test_amounts_convert_into_the_reporting_currencys_minor_units() -> None:
    reporting = ReportingCurrency.parse("eur", ["JPY=0.0062", "KWD=2.98", "usd=0.92"])
    frame = orders(("EUR", 1050, 300), ("JPY", 1000, None), ("KWD", 1500, 1000), ("USD", 999, 1))

    converted, currency = to_reporting_currency(frame, reporting)

    assert currency == "EUR"
    assert converted["currency"].unique().to_list() == ["EUR"]
    # ¥1000 = €6.20; KWD 1.500 (three decimals) = €4.47; $9.99 = €9.19
    assert converted["amount_minor"].to_list() == [1050, 620, 447, 919]
    assert converted["cost_minor"].to_list() == [300, None, 298, 1]


def test_one_currency_needs_no_rates_and_several_do() -> None:
    same, currency = to_reporting_currency(orders(("MYR", 500, None)), None)
    assert currency == "MYR"
    assert same["amount_minor"].to_list() == [500]

    with pytest.raises(InvalidInput, match=r"relmark currency set MYR --rate USD=RATE"):
        to_reporting_currency(orders(("MYR", 500, None), ("USD", 100, None)), None)
    with pytest.raises(InvalidInput, match=r"no exchange rate into EUR for KZT, UAH"):
        to_reporting_currency(
            orders(("UAH", 1, None), ("KZT", 1, None), ("USD", 1, None)),
            ReportingCurrency.parse("EUR", ["USD=0.9"]),
        )


@pytest.mark.parametrize(
    ("currency", "rates", "message"),
    [
        ("EURO", [], "'EURO' is not an ISO 4217 currency code"),
        ("EUR", ["USD"], "'USD' is not CURRENCY=RATE"),
        ("EUR", ["USD=abc"], "'abc' for USD is not a number"),
        ("EUR", ["USD=-1"], "the rate for USD must be positive"),
        ("EUR", ["USD=0"], "the rate for USD must be positive"),
        ("EUR", ["EUR=1"], "EUR is the reporting currency itself"),
        ("EUR", ["XYZ=1"], "'XYZ' is not an ISO 4217 currency code"),
    ],
)
def test_bad_rates_are_refused_precisely(currency, rates, message) -> None:
    with pytest.raises(InvalidInput, match=message):
        ReportingCurrency.parse(currency, rates)


def test_a_store_in_two_currencies_scores_as_if_in_one(engine: Engine, tmp_path) -> None:
    """A third of the customers buy in MYR at 4 MYR to the dollar: with that rate the scores
    equal the all-dollar store's, customer by customer."""
    data = generate(600, seed=9, as_of=AS_OF)
    write_files(data, tmp_path)
    load(engine, data, tmp_path, now=AS_OF)
    settings = ScoreSettings()
    dollars = pipeline.score(engine, as_of=AS_OF, settings=settings, now=AS_OF)
    with engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE orders SET currency = 'MYR', amount_minor = amount_minor * 4, "
                "discount_minor = discount_minor * 4, cost_minor = cost_minor * 4 "
                "WHERE customer_id % 3 = 0"
            )
        )

    with pytest.raises(InvalidInput, match=r"orders are in 2 currencies \(MYR, USD\)"):
        pipeline.score(engine, as_of=AS_OF, settings=settings, now=AS_OF)
    pipeline.set_reporting_currency(
        engine, ReportingCurrency.parse("USD", ["MYR=0.25"]), datetime.now(UTC)
    )
    mixed = pipeline.score(engine, as_of=AS_OF, settings=settings, now=AS_OF)

    assert mixed.run["currency"] == "USD"
    assert mixed.run["settings"]["exchange_rates"] == {"MYR": "0.25"}
    assert mixed.run["params"] == pytest.approx(dollars.run["params"], rel=1e-12)
    query = (
        "SELECT customer_id, revenue_minor, clv_minor, profit_minor, segment "
        "FROM customer_scores WHERE run_id = :r ORDER BY customer_id"
    )
    assert rows(engine, query, r=mixed.run_id) == rows(engine, query, r=dollars.run_id)
    assert pipeline.reporting_currency(engine) == ReportingCurrency("USD", {"MYR": Decimal("0.25")})


def test_currency_commands(tmp_path) -> None:
    runner = CliRunner()
    db = new_store(tmp_path / "store.db")

    shown = runner.invoke(app, ["currency", "show", "--db", db])
    assert json.loads(shown.stdout) is None
    saved = runner.invoke(
        app, ["currency", "set", "EUR", "--rate", "USD=0.92", "--rate", "MYR=0.2", "--db", db]
    )
    assert saved.exit_code == 0, saved.output
    assert "Reporting in EUR (1 USD = 0.92 EUR, 1 MYR = 0.2 EUR)" in saved.stdout
    assert json.loads(runner.invoke(app, ["currency", "show", "--db", db]).stdout) == {
        "currency": "EUR",
        "rates": {"USD": "0.92", "MYR": "0.2"},
    }
    refused = runner.invoke(app, ["currency", "set", "EUR", "--rate", "USD=zero", "--db", db])
    assert refused.exit_code != 0
    assert "'zero' for USD is not a number" in refused.output
    assert "Traceback" not in refused.output
    kept = json.loads(runner.invoke(app, ["currency", "show", "--db", db]).stdout)
    assert kept["rates"]["USD"] == "0.92"


def test_costs_from_product_prices_convert_from_the_products_currency() -> None:
    frame = orders(("MYR", 4400, 500), ("MYR", 2200, 300)).with_columns(
        pl.Series("cost_currency", ["USD", "MYR"])
    )

    with pytest.raises(InvalidInput, match=r"and product costs in USD; choose one"):
        to_reporting_currency(frame, None)
    converted, currency = to_reporting_currency(frame, ReportingCurrency.parse("MYR", ["USD=4.4"]))

    assert currency == "MYR"
    assert "cost_currency" not in converted.columns
    assert converted["amount_minor"].to_list() == [4400, 2200]
    assert converted["cost_minor"].to_list() == [2200, 300]  # $5.00 = RM22.00
