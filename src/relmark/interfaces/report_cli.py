"""`relmark report migration` and `relmark report whale`: how segments moved between two
score runs, and where the profit comes from."""

# Annotations stay evaluated (no __future__ import): see cli_base.

from typing import Annotated

import typer

from relmark.errors import InvalidInput
from relmark.interfaces.cli_base import (
    DbOption,
    JsonOption,
    friendly,
    open_store,
    out,
    print_json,
    report_app,
)

RunOption = Annotated[int | None, typer.Option(help="Score run id (see `relmark score`).")]


@report_app.command("migration")
@friendly
def report_migration(
    before: Annotated[
        int | None, typer.Option("--from", help="Earlier run; default the one before --to.")
    ] = None,
    after: Annotated[
        int | None, typer.Option("--to", help="Later run; default the newest.")
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Customers per segment before → after, between two score runs."""
    from rich.table import Table

    from relmark.differentiate.rfm import migration_matrix
    from relmark.store.scores import run_ids, run_values

    engine = open_store(db)
    with engine.connect() as connection:
        runs = run_ids(connection)
        if len(runs) < 2:
            raise InvalidInput.single(
                "report migration", "needs two score runs: run `relmark score` twice"
            )
        after = after or runs[-1]
        before = before or max((r for r in runs if r < after), default=None)
        for name, run in (("--from", before), ("--to", after)):
            if run not in runs:
                raise InvalidInput.single(name, f"no score run {run}; runs: {runs}")
        matrix = migration_matrix(run_values(connection, before), run_values(connection, after))
    if as_json:
        print_json({"from_run": before, "to_run": after, "rows": matrix.to_dicts()})
        return
    table = Table(
        "from \\ to",
        *[c for c in matrix.columns if c != "from"],
        title=f"Segment migration, run {before} → run {after}",
    )
    for row in matrix.iter_rows():
        table.add_row(str(row[0]), *[f"{v:,}" for v in row[1:]])
    out.print(table)


@report_app.command("whale")
@friendly
def report_whale(
    run: RunOption = None,
    points: Annotated[int, typer.Option(min=2, max=1000)] = 10,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Cumulative share of profit by share of customers, most profitable first."""
    import polars as pl
    from rich.table import Table

    from relmark.differentiate.profitability import whale_curve
    from relmark.store.scores import run_ids, run_values

    engine = open_store(db)
    with engine.connect() as connection:
        runs = run_ids(connection)
        if not runs:
            raise InvalidInput.single("report whale", "nothing is scored yet: run `relmark score`")
        chosen = run or runs[-1]
        if chosen not in runs:
            raise InvalidInput.single("--run", f"no score run {chosen}; runs: {runs}")
        values = run_values(connection, chosen)
    curve = whale_curve(
        values.select(pl.col("profit_minor").cast(pl.Float64).alias("profit")), points
    )
    if as_json:
        print_json({"run": chosen, "points": curve.to_dicts()})
        return
    table = Table(
        "customers (most profitable first)", "share of profit", title=f"Whale curve, run {chosen}"
    )
    for share, profit in curve.iter_rows():
        table.add_row(f"{share:.0%}", f"{profit:.0%}")
    out.print(table)
    peak = curve["profit_share"].max()
    out.print(f"peak: {peak:.0%} of total profit (above 100% means the rest destroy value)")
