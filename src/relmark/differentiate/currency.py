"""One reporting currency for a store that sells in several.

Values, lifetime values and profits compare customers only in one currency: orders in other
currencies are converted at the store's configured rates (1 unit of the order's currency =
`rate` units of the reporting currency), in integer minor units of the reporting currency,
each currency's own number of decimals respected (JPY 0, USD 2, KWD 3).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import polars as pl
from babel.numbers import get_currency_precision, is_currency

from relmark.errors import InvalidInput

MONEY_COLUMNS = ("amount_minor", "discount_minor", "cost_minor")
SETTING_KEY = "reporting-currency"


@dataclass(frozen=True)
class ReportingCurrency:
    currency: str
    rates: dict[str, Decimal] = field(default_factory=dict)

    @classmethod
    def parse(cls, currency: str, rates: Sequence[str]) -> ReportingCurrency:
        """From `EUR` and `USD=0.92`-style rates, with a precise message for each mistake."""
        code = _code(currency, "currency")
        parsed: dict[str, Decimal] = {}
        for text in rates:
            name, sep, value = text.partition("=")
            if not sep:
                raise InvalidInput.single("--rate", f"{text!r} is not CURRENCY=RATE (USD=0.92)")
            other = _code(name, "--rate")
            if other == code:
                raise InvalidInput.single("--rate", f"{other} is the reporting currency itself")
            try:
                rate = Decimal(value.strip())
            except InvalidOperation:
                raise InvalidInput.single(
                    "--rate", f"{value.strip()!r} for {other} is not a number"
                ) from None
            if not rate.is_finite() or rate <= 0:
                raise InvalidInput.single("--rate", f"the rate for {other} must be positive")
            parsed[other] = rate
        return cls(code, parsed)

    def as_setting(self) -> dict[str, Any]:
        return {"currency": self.currency, "rates": {k: str(v) for k, v in self.rates.items()}}

    @classmethod
    def from_setting(cls, value: dict[str, Any] | None) -> ReportingCurrency | None:
        if not value:
            return None
        return cls(value["currency"], {k: Decimal(v) for k, v in value["rates"].items()})


def to_reporting_currency(
    orders: pl.DataFrame, reporting: ReportingCurrency | None
) -> tuple[pl.DataFrame, str | None]:
    """The orders with their money in the reporting currency's minor units, and its code.

    A `cost_currency` column (costs from product prices in another currency) is honoured and
    dropped. Without a reporting currency all money must be in one currency (returned as is).
    """
    costs = "cost_currency" in orders.columns and "cost_minor" in orders.columns
    cost_currency = pl.coalesce("cost_currency", "currency") if costs else pl.col("currency")
    if costs:
        orders = orders.with_columns(cost_currency.alias("cost_currency"))
    currencies = sorted(c for c in orders["currency"].unique().to_list() if c is not None)
    cost_currencies = (
        sorted(
            c
            for c in orders.filter(pl.col("cost_minor").is_not_null())["cost_currency"]
            .unique()
            .to_list()
        )
        if costs
        else []
    )
    everything = sorted({*currencies, *cost_currencies})
    if reporting is None:
        if len(everything) > 1:
            main = currencies[0] if len(currencies) == 1 else everything[0]
            others = " ".join(f"--rate {c}=RATE" for c in everything if c != main)
            held = (
                f"orders are in {len(currencies)} currencies ({', '.join(currencies)})"
                if len(currencies) > 1
                else f"orders are in {', '.join(currencies)}"
            )
            extra = sorted(set(cost_currencies) - set(currencies))
            if extra:
                held += f" and product costs in {', '.join(extra)}"
            raise InvalidInput.single(
                "orders", f"{held}; choose one to report in: relmark currency set {main} {others}"
            )
        return orders.drop("cost_currency", strict=False), currencies[0] if currencies else None
    missing = [c for c in everything if c != reporting.currency and c not in reporting.rates]
    if missing:
        raise InvalidInput.single(
            "orders",
            f"no exchange rate into {reporting.currency} for {', '.join(missing)}: "
            f"relmark currency set {reporting.currency} "
            + " ".join(f"--rate {c}=RATE" for c in sorted({*reporting.rates, *missing})),
        )
    digits = get_currency_precision(reporting.currency)
    factors = {
        c: float(
            (Decimal(1) if c == reporting.currency else reporting.rates[c])
            * Decimal(10) ** (digits - get_currency_precision(c))
        )
        for c in everything
    }

    def factor(column: str) -> pl.Expr:
        return pl.col(column).replace_strict(factors, default=1.0, return_dtype=pl.Float64)

    converted = orders.with_columns(
        [
            (pl.col(c) * factor("cost_currency" if c == "cost_minor" and costs else "currency"))
            .round(0)
            .cast(pl.Int64)
            for c in MONEY_COLUMNS
            if c in orders.columns
        ]
    ).with_columns(pl.lit(reporting.currency).alias("currency"))
    return converted.drop("cost_currency", strict=False), reporting.currency


def _code(value: str, where: str) -> str:
    code = value.strip().upper()
    if not is_currency(code):
        raise InvalidInput.single(where, f"{value.strip()!r} is not an ISO 4217 currency code")
    return code
