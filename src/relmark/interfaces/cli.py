"""The `relmark` command: parse arguments, call a stage, print the result. Nothing more."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from relmark.config import get_settings
from relmark.enums import FileFormat, ImportKind
from relmark.errors import InvalidInput, RelmarkError
from relmark.ingest.columns import Extra
from relmark.ingest.importer import ImportOptions, import_file
from relmark.store.db import make_engine
from relmark.store.migrate import ensure_current, upgrade
from relmark.store.status import table_counts

app = typer.Typer(
    help="relmark: relationship marketing from the first sale onwards.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
out = Console()
err = Console(stderr=True)

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Store URL (overrides RELMARK_DATABASE_URL).", show_default=False),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]

F = TypeVar("F", bound=Callable[..., Any])


def friendly(command: F) -> F:
    """Turn expected failures into one clear message and a non-zero exit, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except InvalidInput as exc:
            err.print("[red]error:[/red] ", end="")
            err.print(str(exc), markup=False, highlight=False, soft_wrap=True)
            err.print("nothing was changed", style="dim")
            raise typer.Exit(1) from None
        except RelmarkError as exc:
            err.print("[red]error:[/red] ", end="")
            err.print(str(exc), markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None
        except OperationalError as exc:
            err.print("[red]error:[/red] cannot use the store: ", end="")
            err.print(
                str(exc.orig).strip().splitlines()[0], markup=False, highlight=False, soft_wrap=True
            )
            raise typer.Exit(1) from None
        except SQLAlchemyError as exc:
            err.print("[red]error:[/red] store error: ", end="")
            err.print(str(exc).splitlines()[0], markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            err.print("interrupted: nothing was changed")
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


def open_store(db: str | None) -> Engine:
    engine = make_engine(db or get_settings().database_url)
    ensure_current(engine)
    return engine


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


@app.command()
@friendly
def init(db: DbOption = None) -> None:
    """Create the store, or upgrade its schema to this version (safe to repeat)."""
    engine = make_engine(db or get_settings().database_url)
    before, after = upgrade(engine)
    if before == after:
        out.print(f"store is up to date (schema {after})")
    else:
        out.print(f"store schema: {before or 'empty'} → {after}")


@app.command("import")
@friendly
def import_command(
    kind: Annotated[ImportKind, typer.Argument(help="What the file holds.")],
    file: Annotated[Path, typer.Argument(help="CSV, Parquet or JSON Lines file.")],
    source: Annotated[
        str | None,
        typer.Option(
            help="Name of the system the file comes from; ids are unique within a source."
        ),
    ] = None,
    mapping: Annotated[
        list[str] | None,
        typer.Option("--map", help="FIELD=COLUMN: take FIELD from the file's COLUMN (repeatable)."),
    ] = None,
    file_format: Annotated[
        FileFormat | None,
        typer.Option("--format", help="File format; guessed from the extension when omitted."),
    ] = None,
    skip_invalid: Annotated[
        bool, typer.Option(help="Import the valid rows and write the others to FILE.rejects.csv.")
    ] = False,
    create_missing: Annotated[
        bool,
        typer.Option(help="Create customers and products that orders name but the store lacks."),
    ] = False,
    extra: Annotated[
        str, typer.Option(help="Unknown columns: error, ignore, or attributes (kept on customers).")
    ] = "error",
    encoding: Annotated[str | None, typer.Option(help="Text encoding (default UTF-8).")] = None,
    currency: Annotated[
        str | None, typer.Option(help="Currency of amounts without one (default RELMARK_CURRENCY).")
    ] = None,
    timezone: Annotated[
        str | None,
        typer.Option(help="Zone of timestamps without an offset (default RELMARK_TIMEZONE)."),
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Import customers, orders, products or partners; all or nothing, safe to repeat."""
    if extra not in ("error", "ignore", "attributes"):
        raise InvalidInput.single("--extra", f"{extra!r} is not error, ignore or attributes")
    settings = get_settings()
    options = ImportOptions(
        kind=kind,
        path=file,
        source=source,
        file_format=file_format,
        mapping=mapping or [],
        extra=_extra(extra),
        skip_invalid=skip_invalid,
        create_missing=create_missing,
        encoding=encoding,
        currency=(currency or settings.currency).upper(),
        timezone=timezone or settings.timezone,
    )
    engine = open_store(db)
    with _steps(quiet=as_json) as step:
        report = import_file(engine, options, now=datetime.now(UTC), progress=step)
    if as_json:
        print_json(report.as_dict())
        return
    summary = ", ".join(f"{v:,} {k.replace('_', ' ')}" for k, v in report.counts.items())
    out.print(
        f"{report.kind} from {report.file} (source {report.source!r}): {summary}, "
        f"{report.rejected:,} rejected"
    )
    if report.rejects_file:
        out.print(f"rejected rows and reasons: {report.rejects_file}")


def _extra(value: str) -> Extra:
    return value  # type: ignore[return-value]


class _steps:
    """A Rich progress display that shows each step of a long command as it starts."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet or not err.is_terminal
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=err,
            transient=True,
        )
        self.task: Any = None

    def __enter__(self) -> Callable[[str], None]:
        if self.quiet:
            return lambda _step: None
        self.progress.start()
        self.task = self.progress.add_task("starting", total=None)
        return lambda step: self.progress.update(self.task, description=step)

    def __exit__(self, *exc: object) -> None:
        if not self.quiet:
            self.progress.stop()


@app.command()
@friendly
def status(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Count what the store holds, table by table."""
    counts = table_counts(open_store(db))
    if as_json:
        print_json(counts)
        return
    table = Table("table", "rows", title="relmark store")
    for name, count in counts.items():
        table.add_row(name, f"{count:,}")
    out.print(table)


def main() -> None:
    app()
