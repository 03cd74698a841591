"""`relmark currency set|show`: the one currency scores are compared in, with exchange rates
for the others the store sells in."""

# Annotations stay evaluated (no __future__ import): see cli_base.

from datetime import UTC, datetime
from typing import Annotated

import typer

from relmark.interfaces.cli_base import (
    DbOption,
    JsonOption,
    app,
    friendly,
    open_store,
    out,
    print_json,
)

currency_app = typer.Typer(
    help="Reporting currency and exchange rates for stores that sell in several.",
    no_args_is_help=True,
)
app.add_typer(currency_app, name="currency")


@currency_app.command("set")
@friendly
def currency_set(
    currency: Annotated[str, typer.Argument(help="ISO 4217 code to report in, e.g. EUR.")],
    rate: Annotated[
        list[str] | None,
        typer.Option(help="CURRENCY=RATE: 1 unit of CURRENCY in the reporting one (USD=0.92)."),
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Report in CURRENCY; orders in others are converted at these rates by `relmark score`."""
    from relmark import pipeline
    from relmark.differentiate.currency import ReportingCurrency

    reporting = ReportingCurrency.parse(currency, rate or [])
    pipeline.set_reporting_currency(open_store(db), reporting, datetime.now(UTC))
    if as_json:
        print_json(reporting.as_setting())
        return
    rates = ", ".join(f"1 {k} = {v} {reporting.currency}" for k, v in reporting.rates.items())
    out.print(f"Reporting in {reporting.currency}" + (f" ({rates})" if rates else ""))


@currency_app.command("show")
@friendly
def currency_show(db: DbOption = None) -> None:
    """The reporting currency and rates in force (null: the store must sell in one currency)."""
    from relmark import pipeline

    reporting = pipeline.reporting_currency(open_store(db))
    print_json(reporting.as_setting() if reporting else None)
