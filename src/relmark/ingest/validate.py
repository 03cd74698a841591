"""Typed, vectorised validation: text columns in, typed columns and a list of problems out.

Every check is a Polars expression over the whole column, so a million rows validate in about
a second. A cell that fails becomes null in the typed frame and one problem row
(`__line`, column, message) that names the value and the reason.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import cache

import polars as pl
from babel import Locale, UnknownLocaleError
from babel.numbers import get_currency_precision, list_currencies

from relmark.enums import CONSENT_SYNONYMS, ORDER_STATUS_SYNONYMS, OrderStatus, PartnerKind
from relmark.ingest.contracts import Column, Contract
from relmark.ingest.readers import LINE

CONTROL = r"[\x00-\x08\x0B\x0C\x0E-\x1F\x7F]"
PROBLEM_SCHEMA = {LINE: pl.Int64, "column": pl.String, "message": pl.String}


@dataclass
class Checked:
    frame: pl.DataFrame
    problems: pl.DataFrame


@dataclass(frozen=True)
class Context:
    default_currency: str
    default_timezone: str
    today: date


def check(frame: pl.DataFrame, contract: Contract, context: Context) -> Checked:
    """Convert each canonical column of `frame` to its type; collect what does not convert."""
    values: list[pl.Expr] = [pl.col(LINE)]
    messages: list[tuple[str, pl.Expr]] = []
    present = set(frame.columns)
    if "currency" in contract.by_name and "currency" not in present:
        frame = frame.with_columns(pl.lit(None, pl.String).alias("currency"))
        present.add("currency")
    for column in contract.columns:
        if column.name not in present:
            continue
        raw = pl.col(column.name).str.strip_chars()
        raw = pl.when(raw == "").then(None).otherwise(raw)
        value, message = PARSERS[column.type](raw, column, context)
        length = pl.when(raw.str.len_chars() > column.max_length).then(
            pl.lit(f"is longer than {column.max_length} characters")
        )
        control = pl.when(raw.str.contains(CONTROL)).then(pl.lit("contains control characters"))
        message = pl.coalesce(control, length, message)
        values.append(pl.when(message.is_null()).then(value).otherwise(None).alias(column.name))
        messages.append((column.name, pl.format("{}: {}", _quoted(raw), message)))
    if "attributes" in frame.columns:  # free attributes, already JSON text
        values.append(pl.col("attributes"))
    typed = frame.select(values)
    problem_frames = [
        frame.select(pl.col(LINE), pl.lit(name).alias("column"), msg.alias("message")).filter(
            pl.col("message").is_not_null()
        )
        for name, msg in messages
    ]
    problems = pl.concat(problem_frames) if problem_frames else pl.DataFrame(schema=PROBLEM_SCHEMA)
    return Checked(typed, problems)


def _quoted(raw: pl.Expr) -> pl.Expr:
    short = pl.when(raw.str.len_chars() > 60).then(raw.str.slice(0, 57) + "...").otherwise(raw)
    return pl.format("'{}'", short.str.replace_all(CONTROL, "?"))


Parser = Callable[[pl.Expr, Column, Context], tuple[pl.Expr, pl.Expr]]


def _ok(value: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    return value, pl.lit(None, pl.String)


def _text(raw: pl.Expr, column: Column, context: Context) -> tuple[pl.Expr, pl.Expr]:
    return _ok(raw)


def _email(raw: pl.Expr, column: Column, context: Context) -> tuple[pl.Expr, pl.Expr]:
    # Stored as given: identity resolution decides which addresses are usable as keys.
    return _ok(raw)


def _int(raw: pl.Expr, column: Column, context: Context) -> tuple[pl.Expr, pl.Expr]:
    value = raw.cast(pl.Int64, strict=False)
    message = (
        pl.when(raw.is_not_null() & value.is_null())
        .then(pl.lit("is not a whole number"))
        .when(value < 0)
        .then(pl.lit("must not be negative"))
    )
    return value, message


NUMBER = r"^[+-]?(\d+(\.\d*)?|\.\d+)$"


def _decimal_parts(raw: pl.Expr) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """(sign, value in 1/10,000 units, extra digits beyond 4 decimals) for an exact parse."""
    negative = raw.str.starts_with("-")
    body = raw.str.strip_chars_start("+-")
    whole = body.str.split_exact(".", 1).struct.field("field_0")
    fraction = body.str.split_exact(".", 1).struct.field("field_1").fill_null("")
    whole_value = (
        pl.when(whole == "").then(pl.lit("0")).otherwise(whole).cast(pl.Int64, strict=False)
    )
    frac4 = (fraction + "0000").str.slice(0, 4).cast(pl.Int64, strict=False)
    extra = fraction.str.slice(4).str.strip_chars("0")
    return negative, whole_value * 10_000 + frac4, extra


@cache
def _currency_digits() -> dict[str, int]:
    return {code: get_currency_precision(code) for code in list_currencies()}


def _money(raw: pl.Expr, column: Column, context: Context) -> tuple[pl.Expr, pl.Expr]:
    """Amounts as integer minor units of the row's currency, parsed exactly from the text."""
    currency = (
        pl.col("currency").str.strip_chars().str.to_uppercase().fill_null(context.default_currency)
    )
    digits = currency.replace_strict(_currency_digits(), default=2, return_dtype=pl.Int64)
    negative, ten_thousandths, extra = _decimal_parts(raw)
    scale = pl.lit(10, pl.Int64).pow(4 - digits).cast(pl.Int64)
    minor = ten_thousandths // scale
    value = pl.when(negative).then(-minor).otherwise(minor)
    is_number = raw.str.contains(NUMBER)
    message = (
        pl.when(raw.is_not_null() & ~is_number)
        .then(
            pl.lit("is not a number (write 1234.50: a dot for decimals, no thousands separators)")
        )
        .when(ten_thousandths.is_null() | (ten_thousandths > 9_000_000_000_000_000))
        .then(pl.lit("is too large"))
        .when((extra != "") | (ten_thousandths % scale != 0))
        .then(pl.format("has more decimals than {} allows ({})", currency, digits))
        .when(negative & (minor != 0) & pl.lit(column.non_negative))
        .then(pl.lit("must not be negative"))
    )
    return value, message


def _rate(raw: pl.Expr, column: Column, context: Context) -> tuple[pl.Expr, pl.Expr]:
    percent = raw.str.ends_with("%")
    number = raw.str.strip_suffix("%").str.strip_chars().cast(pl.Float64, strict=False)
    value = pl.when(percent).then(number / 100).otherwise(number)
    message = (
        pl.when(raw.is_not_null() & number.is_null())
        .then(pl.lit("is not a number"))
        .when((value < 0) | (value > 1))
        .then(pl.lit("must be between 0 and 1 (or 0% and 100%)"))
    )
    return value.round(4), message


def _date(raw: pl.Expr, column: Column, context: Context) -> tuple[pl.Expr, pl.Expr]:
    value = pl.coalesce(
        raw.str.to_date("%Y-%m-%d", strict=False), raw.str.to_date("%Y%m%d", strict=False)
    )
    message = (
        pl.when(raw.is_not_null() & value.is_null())
        .then(pl.lit("is not a date (write YYYY-MM-DD)"))
        .when(value > pl.lit(context.today))
        .then(pl.lit("is in the future"))
        .when(value < pl.lit(date(1900, 1, 1)))
        .then(pl.lit("is before 1900"))
    )
    return value, message


AWARE_FORMATS = (
    "%Y-%m-%dT%H:%M:%S%.f%z",
    "%Y-%m-%d %H:%M:%S%.f%z",
    "%Y-%m-%d %H:%M:%S %z",
    "%Y-%m-%dT%H:%M%z",
)
NAIVE_FORMATS = ("%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M")
DATE_FORMATS = ("%Y-%m-%d", "%Y%m%d")


def parse_timestamp(raw: pl.Expr, default_timezone: str) -> pl.Expr:
    """ISO-8601-like text → UTC datetime; text without an offset is read in `default_timezone`."""
    text = raw.str.replace(r"[Zz]$", "+00:00")
    aware = [
        text.str.to_datetime(f, strict=False, time_zone="UTC", time_unit="us")
        for f in AWARE_FORMATS
    ]
    naive = [text.str.to_datetime(f, strict=False, time_unit="us") for f in NAIVE_FORMATS]
    naive += [text.str.to_date(f, strict=False).cast(pl.Datetime("us")) for f in DATE_FORMATS]
    local = (
        pl.coalesce(*naive)
        .dt.replace_time_zone(default_timezone, ambiguous="earliest", non_existent="null")
        .dt.convert_time_zone("UTC")
    )
    return pl.coalesce(*aware, local)


def _datetime(raw: pl.Expr, column: Column, context: Context) -> tuple[pl.Expr, pl.Expr]:
    value = parse_timestamp(raw, context.default_timezone)
    message = (
        pl.when(raw.is_not_null() & value.is_null())
        .then(pl.lit("is not a date-time (write 2024-05-31T14:30:00+02:00, or a date 2024-05-31)"))
        .when(value.dt.year() < 1900)
        .then(pl.lit("is before 1900"))
    )
    return value, message


def _lookup(
    raw: pl.Expr, mapping: dict[str, str], what: str, fold: Callable[[pl.Expr], pl.Expr]
) -> tuple[pl.Expr, pl.Expr]:
    value = fold(raw).replace_strict(mapping, default=None, return_dtype=pl.String)
    message = pl.when(raw.is_not_null() & value.is_null()).then(pl.lit(what))
    return value, message


def _lower(e: pl.Expr) -> pl.Expr:
    return e.str.to_lowercase()


def _currency(raw: pl.Expr, column: Column, context: Context) -> tuple[pl.Expr, pl.Expr]:
    codes = {c: c for c in _currency_digits()}
    value, message = _lookup(
        raw,
        codes,
        "is not an ISO 4217 currency code (such as USD, EUR, MYR)",
        lambda e: e.str.to_uppercase(),
    )
    return value.fill_null(pl.lit(context.default_currency)).cast(pl.String), pl.when(
        raw.is_not_null()
    ).then(message)


def _status(raw: pl.Expr, column: Column, context: Context) -> tuple[pl.Expr, pl.Expr]:
    allowed = ", ".join(s.value for s in OrderStatus)
    value, message = _lookup(
        raw,
        {k: v.value for k, v in ORDER_STATUS_SYNONYMS.items()},
        f"is not an order status ({allowed})",
        _lower,
    )
    return value.fill_null(pl.lit(OrderStatus.COMPLETED.value)), message


def _partner_kind(raw: pl.Expr, column: Column, context: Context) -> tuple[pl.Expr, pl.Expr]:
    kinds = {k.value: k.value for k in PartnerKind}
    return _lookup(raw, kinds, f"is not a partner kind ({', '.join(kinds)})", _lower)


def _consent(raw: pl.Expr, column: Column, context: Context) -> tuple[pl.Expr, pl.Expr]:
    return _lookup(
        raw,
        {k: v.value for k, v in CONSENT_SYNONYMS.items()},
        "is not a consent answer (yes/no, granted/withdrawn, true/false)",
        _lower,
    )


@cache
def _timezones() -> dict[str, str]:
    return {z.lower(): z for z in zoneinfo.available_timezones()}


def _timezone(raw: pl.Expr, column: Column, context: Context) -> tuple[pl.Expr, pl.Expr]:
    return _lookup(
        raw, _timezones(), "is not an IANA time zone (such as Asia/Kuala_Lumpur)", _lower
    )


@cache
def _countries() -> dict[str, str]:
    english = Locale("en").territories
    codes = {code.lower(): code for code in english if len(code) == 2 and code.isalpha()}
    names = {name.lower(): code for code, name in english.items() if code.lower() in codes}
    return {**names, **codes}


def _country(raw: pl.Expr, column: Column, context: Context) -> tuple[pl.Expr, pl.Expr]:
    return _lookup(
        raw, _countries(), "is not a country (write an ISO code such as MY or SI)", _lower
    )


def _language(raw: pl.Expr, column: Column, context: Context) -> tuple[pl.Expr, pl.Expr]:
    """BCP 47 tags (`ms`, `ms-MY`, `kk_KZ`) normalised to `ms-MY` form and checked with CLDR."""
    tag = raw.str.replace_all("_", "-")
    parts = tag.str.split_exact("-", 1)
    language = parts.struct.field("field_0").str.to_lowercase()
    region = parts.struct.field("field_1")
    normal = (
        pl.when(region.is_null())
        .then(language)
        .otherwise(language + "-" + region.str.to_uppercase())
    )
    known = normal.map_batches(_known_languages, return_dtype=pl.Boolean)
    value = pl.when(known).then(normal)
    message = pl.when(raw.is_not_null() & ~known.fill_null(False)).then(
        pl.lit("is not a language tag (such as en, ms-MY, kk, tl, uk, sl)")
    )
    return value, message


def _known_languages(tags: pl.Series) -> pl.Series:
    verdict = {tag: _is_language(tag) for tag in tags.drop_nulls().unique().to_list()}
    return tags.replace_strict(verdict, default=None, return_dtype=pl.Boolean)


@cache
def _is_language(tag: str) -> bool:
    try:
        Locale.parse(tag, sep="-")
    except (UnknownLocaleError, ValueError):
        return False
    return True


def _url(raw: pl.Expr, column: Column, context: Context) -> tuple[pl.Expr, pl.Expr]:
    ok = raw.str.contains(r"^https?://[^\s/$.?#][^\s]*$")
    return raw, pl.when(raw.is_not_null() & ~ok).then(pl.lit("is not an http(s) URL"))


PARSERS: dict[str, Parser] = {
    "id": _text,
    "text": _text,
    "email": _email,
    "phone": _text,
    "int": _int,
    "money": _money,
    "rate": _rate,
    "date": _date,
    "datetime": _datetime,
    "currency": _currency,
    "status": _status,
    "partner_kind": _partner_kind,
    "consent": _consent,
    "timezone": _timezone,
    "country": _country,
    "language": _language,
    "url": _url,
}
