"""What every `relmark` command shares: the app, the consoles, common options, and one
way of turning expected failures into a clear message."""

# No `from __future__ import annotations`: Typer reads every command's annotations at
# start-up, and annotations evaluated once here cost a third of strings Typer must evaluate.

import functools
import json
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console

from relmark.errors import InvalidInput, RelmarkError

if TYPE_CHECKING:
    from pathlib import Path

    from sqlalchemy import Engine

# Every command starts by importing this module: it imports only Typer, Rich and relmark's
# own light modules. Libraries a command needs (SQLAlchemy, Polars, SciPy, FastAPI…) are
# imported inside that command, so `relmark --help` and `relmark status` start fast
# (tests/test_startup.py keeps it so).

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
            if not getattr(command, "read_only", False):
                err.print("nothing was changed", style="dim")
            raise typer.Exit(1) from None
        except RelmarkError as exc:
            err.print("[red]error:[/red] ", end="")
            err.print(str(exc), markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            err.print("interrupted: nothing was changed")
            raise typer.Exit(130) from None
        except Exception as exc:
            message = _store_error(exc)
            if message is None:
                raise
            err.print(f"[red]error:[/red] {message[0]}", end="")
            err.print(message[1], markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def read_only(command: F) -> F:
    """Mark a command that changes nothing (below `@friendly`): its errors do not say
    "nothing was changed"."""
    command.read_only = True  # type: ignore[attr-defined]
    return command


def _store_error(exc: Exception) -> tuple[str, str] | None:
    """(lead, detail) of a database error, or None for any other exception.

    Looked up in sys.modules rather than imported: a command that never loaded SQLAlchemy
    cannot have raised one of its errors, and importing it here would cost every command
    a quarter of a second.
    """
    sa_exc = sys.modules.get("sqlalchemy.exc")
    if sa_exc is None:
        return None
    if isinstance(exc, sa_exc.OperationalError):
        return "cannot use the store: ", str(exc.orig).strip().splitlines()[0]
    if isinstance(exc, sa_exc.SQLAlchemyError):
        return "store error: ", str(exc).splitlines()[0]
    return None


def store_url(db: str | None) -> str:
    """The store URL `--db` names (default: RELMARK_DATABASE_URL, else ./relmark.db).

    A plain path (`--db shop.db`, `--db /srv/relmark/shop.db`) means the SQLite file there,
    made absolute against the current folder: SQLAlchemy would refuse it as a URL.
    """
    if db is None:
        from relmark.defaults import database_url_from_environment

        db = database_url_from_environment()
    db = db.strip()
    if "://" not in db:
        if not db:
            raise InvalidInput.single("--db", "is empty: name a store URL or a SQLite file")
        from pathlib import Path

        return f"sqlite:///{Path(db).expanduser().absolute()}"
    return db


def missing_sqlite_file(url: str) -> "Path | None":
    """The absolute path of the SQLite file `url` names when no such file exists (else None:
    it exists, it is in memory, or the store is not SQLite)."""
    from pathlib import Path

    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    if database.startswith("file:") or parsed.query.get("mode") == "memory":
        return None
    path = Path(database).absolute()
    return None if path.exists() else path


def open_store(db: str | None, *, create: bool = False) -> "Engine":
    """The store at `db` (default: the configured one), checked to be current.

    Only `init` and `demo` create a store (`create=True`): any other command naming a SQLite
    file that does not exist is refused, so a typo in `--db` does not answer from a new, empty
    store as if the shop had no customers.
    """
    from relmark.errors import StoreError
    from relmark.store.db import make_engine
    from relmark.store.migrate import ensure_current

    url = store_url(db)
    missing = None if create else missing_sqlite_file(url)
    if missing is not None:
        init = "relmark init" if db is None else f"relmark init --db {missing}"
        raise StoreError(
            f"no store at {missing}: the file does not exist "
            f"(`{init}` creates one; check the path for a typo)"
        )
    engine = make_engine(url)
    ensure_current(engine)
    return engine


def port_free(host: str, port: int, option: str) -> None:
    """Refuse a port something already listens on, before any work that would be wasted."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise InvalidInput.single(
                option,
                f"port {port} on {host} is already in use ({exc.strerror}): stop what "
                "listens there or choose another port",
            ) from None


def print_rows(
    rows: list[dict[str, Any]],
    as_json: bool,
    columns: dict[str, Callable[[dict[str, Any]], str]],
    title: str | None = None,
) -> None:
    """A list command's output: the rows as JSON, or a table of the chosen columns."""
    if as_json:
        print_json(rows)
        return
    from rich.table import Table

    table = Table(*columns, title=title)
    for row in rows:
        table.add_row(*(show(row) for show in columns.values()))
    out.print(table)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def parse_moment(value: str | None, option: str) -> datetime:
    """`2026-11-20` (end of that day, UTC) or an ISO timestamp with offset; default now."""
    if value is None:
        return datetime.now(UTC)
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=UTC)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput.single(
            option, f"{value!r} is neither a date (YYYY-MM-DD) nor an ISO timestamp"
        ) from None
    if moment.tzinfo is None:
        raise InvalidInput.single(option, f"{value!r} has no UTC offset (add Z or +08:00)")
    return moment.astimezone(UTC)


def parse_start(value: str | None, option: str) -> datetime | None:
    """The start of a range: a day means from its start (UTC), where `parse_moment` reads
    a day as its end; None stays None (no lower bound)."""
    if value is None:
        return None
    if len(value) == 10:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            pass
        else:
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
    return parse_moment(value, option)


report_app = typer.Typer(
    help="Reports: uplift, segment migration, whale curve.", no_args_is_help=True
)
app.add_typer(report_app, name="report")
