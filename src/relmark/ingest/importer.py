"""One import: read → map columns → validate → resolve references → load, all or nothing.

Validation happens in Polars before the store is touched; the load runs in one transaction,
so a bad row, a crash or Ctrl-C leaves the store exactly as it was. Re-importing a file
changes nothing and says so (inserted / updated / unchanged / rejected counts).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import Connection, Engine

from relmark.csvsafe import write_csv
from relmark.enums import FileFormat, ImportKind
from relmark.errors import InvalidInput, Problem
from relmark.ingest import formats
from relmark.ingest.columns import Extra, parse_mapping, to_canonical
from relmark.ingest.contracts import CONTRACTS, CUSTOMERS, PRODUCTS
from relmark.ingest.orders import assemble_orders, check_line_consistency
from relmark.ingest.readers import LINE, RawTable, guess_format, read_file
from relmark.ingest.references import resolve_order_references
from relmark.ingest.validate import Checked, Context, check
from relmark.store import loading, referrals
from relmark.store.db import bulk_transaction

Progress = Callable[[str], None]
MAX_SHOWN = 20


@dataclass
class ImportOptions:
    kind: ImportKind
    path: Path
    source: str | None = None
    file_format: FileFormat | None = None
    mapping: list[str] = field(default_factory=list)
    extra: Extra = "error"
    skip_invalid: bool = False
    create_missing: bool = False
    encoding: str | None = None
    currency: str = "USD"
    timezone: str = "UTC"


@dataclass
class ImportReport:
    kind: str
    file: str
    source: str
    file_format: str
    rows: int
    counts: dict[str, int]
    rejected: int = 0
    rejects_file: str | None = None
    import_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "file": self.file,
            "source": self.source,
            "format": self.file_format,
            "rows": self.rows,
            **self.counts,
            "rejected": self.rejected,
            "rejects_file": self.rejects_file,
            "import_id": self.import_id,
        }


def default_source(file_format: FileFormat) -> str:
    return {FileFormat.CDNOW: "cdnow", FileFormat.SHOPIFY: "shopify"}.get(file_format, "default")


def import_file(
    engine: Engine, options: ImportOptions, *, now: datetime, progress: Progress | None = None
) -> ImportReport:
    """Import one file; raise InvalidInput (and change nothing) when it cannot be used."""
    say = progress or (lambda _step: None)
    file_format = options.file_format or guess_format(options.path)
    if file_format in (FileFormat.CDNOW, FileFormat.SHOPIFY) and options.kind != ImportKind.ORDERS:
        raise InvalidInput.single(
            "--format", f"{file_format} files hold orders: use `relmark import orders`"
        )
    say(f"reading {options.path.name}")
    table = read_file(options.path, file_format, options.encoding)
    bundle = _canonical(table, options, file_format)
    source = options.source or default_source(file_format)
    context = Context(options.currency, options.timezone, now.date())
    say(f"validating {table.frame.height:,} rows")
    plan = _validate(bundle, options.kind, context, table.where)
    rejects_file = None
    if plan.problems.height and not options.skip_invalid:
        raise _invalid(plan.problems, table.where)
    say("writing to the store")
    with bulk_transaction(engine) as connection:
        import_id = loading.start_import(
            connection,
            kind=options.kind.value,
            source=source,
            file_name=str(options.path),
            file_sha256=_sha256(options.path),
            file_format=file_format.value,
            now=now,
        )
        counts = _load(
            connection,
            plan,
            options,
            file_format,
            source=source,
            import_id=import_id,
            where=table.where,
            now=now,
        )
        rejected_lines = _rejected_lines(plan)
        counts_out = {**counts, "rejected": rejected_lines.height}
        loading.finish_import(connection, import_id, counts_out, now)
    if plan.problems.height:
        rejects_file = str(_write_rejects(table, plan.problems))
    return ImportReport(
        kind=options.kind.value,
        file=str(options.path),
        source=source,
        file_format=file_format.value,
        rows=table.frame.height,
        counts=counts,
        rejected=_rejected_lines(plan).height,
        rejects_file=rejects_file,
        import_id=import_id,
    )


def _canonical(table: RawTable, options: ImportOptions, file_format: FileFormat) -> formats.Bundle:
    if file_format == FileFormat.CDNOW:
        return formats.cdnow(table)
    if file_format == FileFormat.SHOPIFY:
        return formats.shopify(table)
    contract = CONTRACTS[options.kind]
    frame = to_canonical(table, contract, parse_mapping(options.mapping, contract), options.extra)
    return formats.Bundle(frame)


@dataclass
class Plan:
    """Validated frames ready for the store, and every problem found (by line)."""

    main: pl.DataFrame
    problems: pl.DataFrame
    lines: pl.DataFrame | None = None
    line_orders: pl.DataFrame | None = None
    customers: pl.DataFrame | None = None
    products: pl.DataFrame | None = None

    def drop(self, bad: pl.DataFrame) -> None:
        """Remove rejected lines (and, for orders, every line of an order with a bad line)."""
        if self.line_orders is not None:
            orders = self.line_orders.join(bad, on=LINE, how="semi").select("order_id").unique()
            self.main = self.main.join(orders, on="order_id", how="anti")
            if self.lines is not None:
                self.lines = self.lines.join(
                    orders.rename({"order_id": "order_external_id"}),
                    on="order_external_id",
                    how="anti",
                )
        else:
            self.main = self.main.join(bad, on=LINE, how="anti")


def _validate(bundle: formats.Bundle, kind: ImportKind, context: Context, where: str) -> Plan:
    contract = CONTRACTS[kind]
    problems: list[pl.DataFrame] = []
    frame = bundle.orders
    if kind == ImportKind.ORDERS:
        frame, consistency = check_line_consistency(frame)
        problems.append(consistency)
    checked = check(frame, contract, context)
    problems += [checked.problems, _required(frame, contract.required), _duplicates(checked, kind)]
    plan = Plan(checked.frame, pl.concat(problems))
    if kind == ImportKind.ORDERS:
        plan.main, plan.lines = assemble_orders(checked.frame)
        plan.line_orders = checked.frame.select(LINE, "order_id")
    if bundle.customers is not None:
        customers = check(bundle.customers, CUSTOMERS, context)
        plan.customers = customers.frame
        plan.problems = pl.concat([plan.problems, customers.problems])
    if bundle.products is not None:
        products = check(bundle.products, PRODUCTS, context)
        plan.products = _money_columns(products.frame, ("price", "unit_cost"))
        plan.problems = pl.concat([plan.problems, products.problems])
    if kind == ImportKind.PRODUCTS:
        plan.main = _money_columns(plan.main, ("price", "unit_cost"))
    plan.drop(plan.problems)
    return plan


def _money_columns(frame: pl.DataFrame, names: tuple[str, ...]) -> pl.DataFrame:
    return frame.rename({n: f"{n}_minor" for n in names if n in frame.columns})


def _required(frame: pl.DataFrame, names: tuple[str, ...]) -> pl.DataFrame:
    empty = [
        frame.filter(pl.col(n).str.strip_chars().fill_null("") == "").select(
            pl.col(LINE),
            pl.lit(n).alias("column"),
            pl.lit("is empty; a value is required").alias("message"),
        )
        for n in names
        if n in frame.columns
    ]
    return pl.concat(empty) if empty else _no_problems()


def _duplicates(checked: Checked, kind: ImportKind) -> pl.DataFrame:
    """The same key twice in one file (line-level order files repeat order ids on purpose)."""
    key = CONTRACTS[kind].key
    if kind == ImportKind.ORDERS and "sku" in checked.frame.columns:
        return _no_problems()
    frame = checked.frame.select(LINE, key).filter(pl.col(key).is_not_null())
    frame = frame.with_columns(pl.col(LINE).first().over(key).alias("_first"))
    return frame.filter(pl.col(LINE) != pl.col("_first")).select(
        pl.col(LINE),
        pl.lit(key).alias("column"),
        pl.format(
            "duplicate {} '{}' (first on line {})", pl.lit(key), pl.col(key), pl.col("_first")
        ).alias("message"),
    )


def _no_problems() -> pl.DataFrame:
    return pl.DataFrame(schema={LINE: pl.Int64, "column": pl.String, "message": pl.String})


def _load(
    connection: Connection,
    plan: Plan,
    options: ImportOptions,
    file_format: FileFormat,
    *,
    source: str,
    import_id: int,
    where: str,
    now: datetime,
) -> dict[str, int]:
    kind = options.kind
    if kind == ImportKind.CUSTOMERS:
        return loading.load_customers(
            connection, plan.main, source=source, import_id=import_id, where=where, now=now
        )
    if kind == ImportKind.PRODUCTS:
        return loading.load_products(connection, plan.main)
    if kind == ImportKind.PARTNERS:
        return loading.load_partners(connection, plan.main)
    extra: dict[str, int] = {}
    if plan.products is not None:
        extra["products_created"] = loading.load_products(connection, plan.products, only_new=True)[
            "inserted"
        ]
    if plan.customers is not None:
        counts = loading.load_customers(
            connection, plan.customers, source=source, import_id=import_id, where=where, now=now
        )
        extra["customers_created"] = counts["inserted"]
        extra["customers_updated"] = counts["updated"]
    orders, lines, created = resolve_order_references(
        connection,
        plan,
        source=source,
        import_id=import_id,
        where=where,
        now=now,
        create_missing=options.create_missing or file_format == FileFormat.CDNOW,
        skip_invalid=options.skip_invalid,
    )
    codes: list[tuple[str, str]] = []
    if "referral_code" in orders.columns:
        carrying = orders.filter(pl.col("referral_code").is_not_null())
        codes = list(carrying.select("external_id", "referral_code").iter_rows())
        orders = orders.drop("referral_code")
    counts = loading.load_orders(connection, orders, lines, source=source)
    if codes:
        counts |= referrals.attribute_imported(connection, source, codes, now)
    return {**counts, **extra, **created}


def _rejected_lines(plan: Plan) -> pl.DataFrame:
    return plan.problems.select(LINE).unique()


def _invalid(problems: pl.DataFrame, where: str) -> InvalidInput:
    ordered = problems.sort(LINE, maintain_order=True)
    shown = [
        Problem(where, message, line, column)
        for line, column, message in ordered.head(MAX_SHOWN).iter_rows()
    ]
    return InvalidInput(shown, total=ordered.height, shown=MAX_SHOWN)


def _write_rejects(table: RawTable, problems: pl.DataFrame) -> Path:
    reasons = problems.group_by(LINE).agg(
        pl.format("column '{}': {}", "column", "message").str.join("; ").alias("reason")
    )
    rejects = (
        table.frame.join(reasons, on=LINE, how="inner")
        .sort(LINE)
        .select(pl.exclude(LINE, "reason"), pl.col(LINE).alias("line"), "reason")
    )
    path = Path(f"{table.where}.rejects.csv")
    write_csv(rejects, path)
    return path


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
