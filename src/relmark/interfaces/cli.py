"""The `relmark` command: parse arguments, call a stage, print the result. Nothing more."""

# Annotations stay evaluated (no __future__ import): see cli_base.

import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from relmark.enums import FileFormat, ImportKind
from relmark.errors import InvalidInput, RelmarkError
from relmark.interfaces.cli_base import (
    DbOption,
    JsonOption,
    app,
    err,
    friendly,
    open_store,
    out,
    port_free,
    print_json,
    read_only,
    store_url,
)

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from relmark.ingest.columns import Extra
    from relmark.interaction import Interaction
    from relmark.pipeline import ScoreReport

# Commands import the libraries and stages they use inside their bodies: `relmark --help`
# and light commands must not pay for SciPy, Polars, SQLAlchemy or FastAPI at start-up
# (tests/test_startup.py checks the modules they load).


@app.command()
@friendly
def init(db: DbOption = None) -> None:
    """Create the store, or upgrade its schema to this version (safe to repeat)."""
    from relmark.store.db import make_engine
    from relmark.store.migrate import upgrade

    engine = make_engine(store_url(db))
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
    from relmark import pipeline
    from relmark.config import get_settings
    from relmark.ingest.importer import ImportOptions
    from relmark.shop_settings import effective_settings

    if extra not in ("error", "ignore", "attributes"):
        raise InvalidInput.single("--extra", f"{extra!r} is not error, ignore or attributes")
    engine = open_store(db)
    settings = effective_settings(engine, get_settings())  # the shop's currency and zone
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
    with _steps(quiet=as_json, total=4) as step:
        report, identified = pipeline.import_and_identify(
            engine, options, now=datetime.now(UTC), progress=step
        )
    if as_json:
        print_json(
            {
                **report.as_dict(),
                "identity": {
                    "records_keyed": identified.records_keyed,
                    "merges": identified.merges,
                    "flagged": identified.flagged,
                },
            }
        )
        return
    summary = ", ".join(f"{v:,} {k.replace('_', ' ')}" for k, v in report.counts.items())
    out.print(
        f"{report.kind} from {report.file} (source {report.source!r}): {summary}, "
        f"{report.rejected:,} rejected"
    )
    if report.rejects_file:
        out.print(f"rejected rows and reasons: {report.rejects_file}")
    if identified.merges:
        out.print(
            f"identity: {identified.merges:,} profiles merged by shared e-mail or phone "
            "(`relmark explain-merge CUSTOMER` shows why)"
        )
    if identified.probabilistic_skipped:
        out.print(f"probabilistic matching skipped: {identified.probabilistic_skipped}")


def _extra(value: str) -> "Extra":
    return value  # type: ignore[return-value]


class _steps:
    """A Rich progress bar on stderr that advances as each step of a long command starts."""

    def __init__(self, quiet: bool, total: int | None = None) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        self.quiet = quiet or not err.is_terminal
        self.total = total
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
            transient=True,
        )
        self.task: Any = None
        self.started = False

    def __enter__(self) -> Callable[[str], None]:
        if self.quiet:
            return lambda _step: None
        self.progress.start()
        self.task = self.progress.add_task("starting", total=self.total)

        def step(description: str) -> None:
            if self.started:
                self.progress.advance(self.task)
            self.started = True
            self.progress.update(self.task, description=description)

        return step

    def __exit__(self, *exc: object) -> None:
        if not self.quiet:
            self.progress.stop()


@app.command()
@friendly
def status(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Count what the store holds, table by table."""
    from rich.table import Table

    from relmark.store.quick_status import quick_counts
    from relmark.store.revisions import head_revision

    counts = quick_counts(store_url(db), head_revision())
    if counts is None:  # no store yet, an older schema, another backend: the full path
        from relmark.store.status import table_counts

        counts = table_counts(open_store(db))
    if as_json:
        print_json(counts)
        return
    table = Table("table", "rows", title="relmark store")
    for name, count in counts.items():
        table.add_row(name, f"{count:,}")
    out.print(table)


clv_app = typer.Typer(
    help="Customer-lifetime-value models on a transaction file.", no_args_is_help=True
)
app.add_typer(clv_app, name="clv")


@clv_app.command("fit")
@friendly
@read_only
def clv_fit(
    transactions: Annotated[
        Path, typer.Option(help="Transaction file (CSV, Parquet, JSONL, CDNOW).")
    ],
    calibration_end: Annotated[str, typer.Option(help="Last day of the calibration period.")],
    model: Annotated[str, typer.Option(help="bgnbd, pnbd, mbgnbd or gg.")] = "bgnbd",
    holdout_end: Annotated[str | None, typer.Option(help="Last day of the holdout period.")] = None,
    file_format: Annotated[FileFormat | None, typer.Option("--format")] = None,
    customer_col: Annotated[str, typer.Option(help="Column with the customer id.")] = "customer_id",
    date_col: Annotated[str, typer.Option(help="Column with the purchase date.")] = "date",
    amount_col: Annotated[str, typer.Option(help="Column with the amount.")] = "amount",
    time_unit: Annotated[str, typer.Option(help="week or day.")] = "week",
    as_json: JsonOption = False,
) -> None:
    """Fit BG/NBD, Pareto/NBD, MBG/NBD or Gamma-Gamma by maximum likelihood."""
    from relmark.defaults import timezone_from_environment
    from relmark.differentiate.analysis import fit_transactions
    from relmark.ingest.transactions import read_transactions

    if time_unit not in ("week", "day"):
        raise InvalidInput.single("--time-unit", f"{time_unit!r} is not week or day")
    frame = read_transactions(
        transactions,
        file_format=file_format,
        customer_col=customer_col,
        date_col=date_col,
        amount_col=amount_col,
        timezone=timezone_from_environment(),  # the settings' value, without pydantic
    )
    result = fit_transactions(
        frame,
        model=model,
        calibration_end=_day_end(calibration_end, "--calibration-end"),
        holdout_end=_day_end(holdout_end, "--holdout-end") if holdout_end else None,
        time_unit=time_unit,  # type: ignore[arg-type]
    )
    if as_json:
        print_json(result)
        return
    params = ", ".join(f"{k} = {v:.4f}" for k, v in result["params"].items())
    out.print(f"{result['model']}: {params}")
    out.print(
        f"log-likelihood {result['log_likelihood']:.2f} on {result['n_customers']:,} "
        f"customers, fitted in {result['fit_seconds'] * 1000:.1f} ms"
    )
    if result["note"]:
        out.print(f"note: {result['note']}")
    holdout = result.get("holdout")
    if holdout and "predicted_repeat_transactions" in holdout:
        out.print(
            f"holdout: predicted {holdout['predicted_repeat_transactions']:,.1f} repeat "
            f"purchases, actual {holdout['actual_repeat_transactions']:,}; mean absolute "
            f"error per customer {holdout['mae_per_customer']:.3f}"
        )
    elif holdout:
        out.print(
            f"holdout: predicted mean spend {holdout['predicted_mean_spend']:.2f}, actual "
            f"{holdout['actual_mean_spend']:.2f} ({holdout['customers']:,} customers)"
        )


def _day_end(value: str, option: str) -> datetime:
    """The start of the day: purchases dated that day belong to the period ending then."""
    day = _parse_day(value, option)
    return day.replace(hour=0, minute=0, second=0)


@app.command("score")
@friendly
def score_command(
    as_of: Annotated[
        str | None, typer.Option(help="Score as of the end of this day (YYYY-MM-DD); default now.")
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            help="bgnbd, pnbd or mbgnbd; default: fit all three and choose (README, "
            "'Valuing customers')."
        ),
    ] = None,
    horizon_months: Annotated[int, typer.Option(min=1, max=120)] = 12,
    discount_rate: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Annual discount rate.")
    ] = 0.10,
    margin: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Gross margin rate for orders without a cost.")
    ] = 0.35,
    time_unit: Annotated[str, typer.Option(help="week or day.")] = "week",
    draws: Annotated[
        int,
        typer.Option(
            min=0, max=1000, help="Parameter draws for the CLV 10th/90th percentiles (0: none)."
        ),
    ] = 100,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Score every customer: RFM segment, P(alive), expected purchases, CLV, profit."""
    from relmark import pipeline
    from relmark.differentiate.profitability import CostModel
    from relmark.differentiate.score import ScoreSettings
    from relmark.interfaces import score_view

    if time_unit not in ("week", "day"):
        raise InvalidInput.single("--time-unit", f"{time_unit!r} is not week or day")
    engine = open_store(db)
    now = datetime.now(UTC)
    settings = ScoreSettings(
        model=model,
        time_unit=time_unit,  # type: ignore[arg-type]
        horizon_months=horizon_months,
        discount_rate=discount_rate,
        draws=draws,
        costs=CostModel(default_margin_rate=margin),
    )
    report = pipeline.score(
        engine, as_of=_parse_day(as_of, "--as-of") if as_of else now, settings=settings, now=now
    )
    if as_json:
        print_json(score_view.run_json(report))
        return
    for line in score_view.run_lines(report):
        out.print(line, markup=False)


@app.command()
@friendly
def customers(
    segment: Annotated[str | None, typer.Option(help="Only this RFM segment.")] = None,
    sort: Annotated[str, typer.Option(help="clv, p_alive, profit or revenue.")] = "clv",
    limit: Annotated[int, typer.Option(min=1, max=100_000)] = 20,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """List customers of the latest scoring run with their scores and why."""
    from relmark.differentiate.rfm import SEGMENTS
    from relmark.interfaces import score_view
    from relmark.store.scores import SORTS, latest_run_id, list_scores, run_info

    if sort not in SORTS:
        raise InvalidInput.single("--sort", f"{sort!r} is not one of {', '.join(SORTS)}")
    if segment is not None and segment not in SEGMENTS:
        raise InvalidInput.single(
            "--segment", f"{segment!r} is not a segment ({', '.join(SEGMENTS)})"
        )
    engine = open_store(db)
    with engine.connect() as connection:
        run_id = latest_run_id(connection)
        if run_id is None:
            raise RelmarkError("no scoring run yet: run `relmark score` first")
        run = run_info(connection, run_id)
        rows = list_scores(connection, run_id, segment=segment, sort=sort, limit=limit)
    if as_json:
        print_json(score_view.customers_json(run, rows))
        return
    out.print(score_view.customers_table(run, rows))
    for line in score_view.customers_notes(run, rows):
        out.print(line, markup=False)


@app.command()
@friendly
def identify(
    keys: Annotated[
        str,
        typer.Option(
            help="Which exact keys make two profiles one person: "
            "email, phone or both (comma-separated)."
        ),
    ] = "email,phone",
    threshold: Annotated[
        float,
        typer.Option(
            min=0.0, max=1.0, help="Merge probabilistic matches at or above this probability."
        ),
    ] = 0.95,
    review_band: Annotated[
        tuple[float, float],
        typer.Option(help="LOW HIGH: matches with LOW <= p < HIGH go to the review queue."),
    ] = (0.5, 0.95),
    probabilistic: Annotated[
        bool, typer.Option(help="Also match records that share no key (names, birthday, address).")
    ] = True,
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help="Train the model again and compare every record (default: only records "
            "new since the last run, against the saved model).",
        ),
    ] = False,
    source_priority: Annotated[
        str | None,
        typer.Option(
            help="Sources whose values a merged profile prefers, first preferred "
            "(comma-separated, e.g. shopify,web); kept with the store.",
        ),
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Merge profiles that are one person: shared e-mail or phone, then a probabilistic
    model over names, birthday and address; uncertain pairs go to `relmark review`."""
    from relmark import pipeline

    chosen = tuple(k.strip() for k in keys.split(",") if k.strip())
    unknown = [k for k in chosen if k not in ("email", "phone")]
    if unknown or not chosen:
        raise InvalidInput.single("--keys", f"{keys!r}: choose from email, phone")
    low, high = review_band
    if not 0 <= low <= high <= 1:
        raise InvalidInput.single("--review-band", "needs 0 <= LOW <= HIGH <= 1")
    report = pipeline.identify(
        open_store(db),
        now=datetime.now(UTC),
        keys=chosen,
        probabilistic=probabilistic,
        threshold=max(threshold, high),
        review_band=(low, max(threshold, high)),
        full=full,
        source_priority=None
        if source_priority is None
        else [s.strip() for s in source_priority.split(",") if s.strip()],
    )
    if as_json:
        print_json(
            {
                "records_keyed": report.records_keyed,
                "merges": report.merges,
                "probabilistic_merges": report.probabilistic_merges,
                "queued_for_review": report.queued_for_review,
                "flagged": report.flagged,
                "probabilistic_skipped": report.probabilistic_skipped,
                "probabilistic_mode": report.probabilistic_mode,
            }
        )
        return
    out.print(
        f"{report.records_keyed:,} records keyed; {report.merges:,} profiles merged on a "
        f"shared e-mail or phone, {report.probabilistic_merges:,} on the probabilistic "
        f"model; {report.queued_for_review:,} pairs queued for review; "
        f"{report.flagged:,} records with an unusable e-mail or phone"
    )
    if report.probabilistic_skipped:
        out.print(f"probabilistic matching skipped: {report.probabilistic_skipped}")
    elif report.probabilistic_mode:
        out.print(f"probabilistic matching: {report.probabilistic_mode}")


review_app = typer.Typer(help="Decide pairs the model was unsure about.", no_args_is_help=True)
app.add_typer(review_app, name="review")


@review_app.command("list")
@friendly
def review_list(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Pending pairs, most likely first."""
    from rich.table import Table

    from relmark.store.identity import reviews

    with open_store(db).connect() as connection:
        pending = reviews(connection)
    if as_json:
        print_json(pending)
        return
    table = Table("id", "customers", "probability", "evidence", title="review queue")
    for row in pending:
        table.add_row(
            str(row["id"]),
            f"{row['customer_a']} / {row['customer_b']}",
            "-" if row["probability"] is None else f"{row['probability']:.3f}",
            ", ".join(f"{k} {v}" for k, v in row["evidence"].items()),
        )
    out.print(table)


ReviewId = Annotated[int, typer.Argument(help="Review pair id (see `relmark review list`).")]


def _decide(review_id: int, accept: bool, db: str | None) -> dict[str, Any]:
    from relmark.store.db import bulk_transaction
    from relmark.store.identity import decide

    with bulk_transaction(open_store(db)) as connection:
        return decide(connection, review_id, accept, datetime.now(UTC))


@review_app.command("accept")
@friendly
def review_accept(review_id: ReviewId, db: DbOption = None) -> None:
    """The two profiles are one person: merge them."""
    row = _decide(review_id, True, db)
    out.print(f"merged customers {row['customer_a']} and {row['customer_b']}")


@review_app.command("reject")
@friendly
def review_reject(review_id: ReviewId, db: DbOption = None) -> None:
    """Different people: keep them apart, also in future runs."""
    row = _decide(review_id, False, db)
    out.print(f"customers {row['customer_a']} and {row['customer_b']} stay apart")


@app.command("explain-merge")
@friendly
def explain_merge(
    customer: Annotated[
        str, typer.Argument(help="Customer id, or an e-mail address (its live profile).")
    ],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show which merges made this profile, and on what evidence."""
    from relmark.interfaces.customer_ref import customer_id_of
    from relmark.store.identity import merges_of

    with open_store(db).connect() as connection:
        customer_id = customer_id_of(connection, customer)
        merges = merges_of(connection, customer_id)
    if not merges:
        raise RelmarkError(f"customer {customer_id} took part in no merge")
    if as_json:
        print_json(merges)
        return
    for merge in merges:
        state = f" (undone {merge['undone_at']:%Y-%m-%d %H:%M})" if merge["undone_at"] else ""
        evidence = "; ".join(f"same {k}: {', '.join(v)}" for k, v in merge["evidence"].items())
        out.print(
            f"merge {merge['merge_id']} ({merge['kind']}, {merge['at']:%Y-%m-%d %H:%M})"
            f"{state}: customer {merge['absorbed_id']} → {merge['survivor_id']}; "
            f"{evidence}; records {merge['record_ids']}",
            markup=False,
        )


@app.command()
@friendly
def unmerge(
    customer: Annotated[int, typer.Argument(help="Customer id (absorbed or surviving).")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Undo merges: records, orders and consents return to the profiles they came with."""
    from relmark.store.db import bulk_transaction
    from relmark.store.identity import unmerge as undo_merge

    with bulk_transaction(open_store(db)) as connection:
        restored = undo_merge(connection, customer, datetime.now(UTC))
    if as_json:
        print_json({"restored": restored})
        return
    out.print(
        f"restored customer(s) {', '.join(map(str, restored))}; they will not be merged "
        "again automatically"
    )


export_app = typer.Typer(help="Write store data for other systems.", no_args_is_help=True)
app.add_typer(export_app, name="export")


@export_app.command("identities")
@friendly
def export_identities(
    out_file: Annotated[Path, typer.Option("--out", help="CSV file to write.")],
    db: DbOption = None,
) -> None:
    """source, external_id, customer_id for every source record, so others can sync.
    Restricted customers are left out; an external id that is an e-mail or phone number
    is left empty unless the customer consented to third-party sharing."""
    from relmark.csvsafe import write_csv
    from relmark.interfaces.export_cli import audited
    from relmark.store import erasure_files
    from relmark.store.transfer import identities

    with audited(db, "export.identities") as (connection, detail):
        frame = identities(connection)
        detail["rows"] = frame.height
        write_csv(frame, out_file)
        erasure_files.remember(connection, out_file, datetime.now(UTC))  # erasures clean it
    out.print(f"{frame.height:,} identities written to {out_file}")


DEMO_DB = "relmark-demo.db"
DEMO_MAIL = "relmark-demo-mail"


DEMO_USER = "demo@relmark.example"
DEMO_PASSWORD = "relmark-demo"  # noqa: S105 - a local demo's published login


def _serve_demo(engine: "Engine", end: datetime, port: int) -> None:
    """Serve the demo store's dashboard on localhost with a published demo login."""
    import uvicorn

    from relmark import accounts
    from relmark.config import get_settings
    from relmark.interfaces.web.app import create_app

    accounts.add_user(engine, DEMO_USER, DEMO_PASSWORD, accounts.Role.ADMIN, end)
    out.print(
        f"\n[bold]Dashboard:[/bold] http://127.0.0.1:{port}/  "
        f"(sign in as {DEMO_USER} / {DEMO_PASSWORD}; Ctrl-C stops it)"
    )
    uvicorn.run(
        create_app(engine, get_settings()),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        proxy_headers=False,  # the app judges X-Forwarded-For (RELMARK_TRUSTED_PROXIES)
    )


def _demo_score(engine: "Engine", as_of: datetime) -> "tuple[ScoreReport | None, str]":
    """Score as of a moment; a tiny demo may not identify the models (the reason, then)."""
    from relmark import pipeline
    from relmark.differentiate.score import ScoreSettings

    try:
        return pipeline.score(engine, as_of=as_of, settings=ScoreSettings(), now=as_of), ""
    except RelmarkError as exc:
        return None, str(exc)


@contextmanager
def _demo_delivery(
    interaction: "Interaction", mail_dir: Path
) -> Iterator[tuple[Callable[[datetime], tuple[int, int]], str]]:
    """A way to deliver what is due as of a moment, and where it goes: the configured SMTP
    server, else a local sink open for the whole build (it files every round's mail)."""
    from relmark.interact.delivery import SendOptions, SmtpTransport
    from relmark.interact.sink import MailSink

    def sender(transports: dict[str, Any] | None) -> Callable[[datetime], tuple[int, int]]:
        def send(at: datetime) -> tuple[int, int]:
            report = interaction.send(SendOptions(as_of=lambda: at), transports=transports)
            return report.sent, report.failed

        return send

    if interaction.settings.smtp_host:
        yield sender(None), interaction.settings.smtp_host
        return
    with MailSink(mail_dir) as sink:
        yield sender({"email": SmtpTransport(host="127.0.0.1", port=sink.port)}), str(mail_dir)


@app.command()
@friendly
def demo(
    customers: Annotated[
        int, typer.Option(min=10, max=2_000_000, help="How many web-shop customers.")
    ] = 5000,
    seed: Annotated[int, typer.Option(help="Same seed and date, same store.")] = 42,
    as_of: Annotated[
        str | None,
        typer.Option(
            help="Day the store's history ends, at 09:00 UTC when all six markets are awake "
            "(YYYY-MM-DD); default the latest 09:00 UTC."
        ),
    ] = None,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help=f"Store URL; default ./{DEMO_DB} (rebuilt each time). A named store "
            "must be empty.",
        ),
    ] = None,
    export_dir: Annotated[
        Path | None,
        typer.Option(
            help="Also keep the generated CSV files here (they import with `relmark import`)."
        ),
    ] = None,
    serve: Annotated[
        bool, typer.Option(help="Serve the dashboard afterwards (Ctrl-C stops it).")
    ] = True,
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port of the dashboard.")] = 8000,
    mail_dir: Annotated[
        Path,
        typer.Option(
            help="Without RELMARK_SMTP_HOST, the demo's own SMTP server files messages here."
        ),
    ] = Path(DEMO_MAIL),
    as_json: JsonOption = False,
) -> None:
    """Build a realistic sample store, run every pipeline stage, print a summary."""
    import polars as pl
    from sqlalchemy.engine import make_url

    from relmark import pipeline
    from relmark.config import get_settings
    from relmark.demo.build import load as load_demo
    from relmark.demo.build import write_files
    from relmark.demo.generate import generate
    from relmark.demo.loyalty import run_demo_programme
    from relmark.demo.offers import enable_offers
    from relmark.demo.promises import keep_promises, rounds
    from relmark.erasing import remember_file
    from relmark.interaction import Interaction
    from relmark.store.status import store_summary, table_counts

    started = time.perf_counter()
    end = _demo_clock(_parse_day(as_of, "--as-of").date() if as_of else None, datetime.now(UTC))
    url = store_url(db or DEMO_DB)
    if serve and not as_json:
        port_free("127.0.0.1", port, "--port")  # before minutes of building, not after
    if db is None:
        for suffix in ("", "-wal", "-shm"):
            Path(DEMO_DB + suffix).unlink(missing_ok=True)
    engine = open_store(url, create=True)
    if table_counts(engine)["customers"]:
        raise RelmarkError(
            f"the store {url!r} is not empty: the demo builds into an empty store "
            "(omit --db to use ./relmark-demo.db)"
        )
    with _steps(quiet=as_json, total=15) as step:
        step(f"generating {customers:,} customers")
        data = generate(customers, seed, end)
        with tempfile.TemporaryDirectory() as scratch:
            folder = export_dir or Path(scratch)
            write_files(data, folder)
            counts = load_demo(engine, data, folder, now=end, progress=step)
        step("resolving identities")
        identified = pipeline.identify(engine, now=end)
        step("posting loyalty points over the history")
        loyalty = run_demo_programme(engine, end)
        interaction = Interaction(engine, get_settings())
        enable_offers(interaction, end)  # the demo shop has configured its offers
        with _demo_delivery(interaction, mail_dir) as (send, delivered_to):
            step("scoring as of half a year ago, sending since; later orders use the codes")
            _demo_score(engine, rounds(end)[0])  # the rounds plan with what was known then
            promises = keep_promises(interaction, end, seed, send)
            step("scoring customers")
            scored, scoring_error = _demo_score(engine, end)
            step("planning messages (all playbooks, consent, caps)")
            planned = interaction.plan(end, end)
            step("sending what is due")
            sent, failed = send(end)
        for written in (export_dir, mail_dir):  # an erasure cleans them
            if written is not None and written.exists():
                remember_file(engine, written, end)
    result = {
        "store": make_url(url).render_as_string(hide_password=True),
        "seed": seed,
        "as_of": end.isoformat(timespec="seconds"),
        "tables": table_counts(engine),
        "summary": store_summary(engine),
        "imports": counts,
        "planted_duplicates": int(
            data.identity_truth.filter(
                pl.col("key").str.starts_with("pos:") & pl.col("truth").str.starts_with("web:")
            ).height
        ),
        "export_dir": str(export_dir) if export_dir else None,
        "identity": {
            "merges": identified.merges,
            "probabilistic_merges": identified.probabilistic_merges,
            "queued_for_review": identified.queued_for_review,
            "flagged": identified.flagged,
        },
        "scoring": {
            "run_id": scored.run_id,
            "customers": scored.customers,
            "segments": scored.segments,
            "params": scored.run["params"],
        }
        if scored
        else {"error": scoring_error},
        "loyalty": loyalty,
        "interact": {
            "planned": planned.planned,
            "deferred_for_quiet_hours": planned.deferred,
            "held": planned.held,
            "playbooks": planned.by_playbook,
            "sent": sent,
            "failed": failed,
            "to": delivered_to,
        },
        "promises": promises.as_dict(),
        "seconds": round(time.perf_counter() - started, 2),
    }
    if as_json:
        print_json(result)
    else:
        _print_demo(result)
    if serve and not as_json:
        _serve_demo(engine, end, port)


#: The demo store's clock stops at this UTC time: daytime in all six markets (UK 09:00 to
#: Malaysia and the Philippines 17:00), so its messages go out instead of waiting for the end
#: of quiet hours.
DEMO_CLOCK = dt_time(9, 0)


def _demo_clock(day: date | None, now: datetime) -> datetime:
    """09:00 UTC of `day`; without one, the latest 09:00 UTC up to `now`."""
    if day is not None:
        return datetime.combine(day, DEMO_CLOCK, tzinfo=UTC)
    today = datetime.combine(now.date(), DEMO_CLOCK, tzinfo=UTC)
    return today if today <= now else today - timedelta(days=1)


def _parse_day(value: str, option: str) -> datetime:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise InvalidInput.single(option, f"{value!r} is not a date (YYYY-MM-DD)") from None
    return datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=UTC)


def _print_demo(result: dict[str, Any]) -> None:
    from babel.numbers import get_currency_precision
    from rich.table import Table

    summary = result["summary"]
    tables = result["tables"]
    out.print(
        f"[bold]relmark demo store[/bold] → {result['store']} "
        f"(seed {result['seed']}, history to {result['as_of'][:10]}, "
        f"{result['seconds']} s)"
    )
    grid = Table("what", "how many", title="Store")
    for name in (
        "customers",
        "source_records",
        "orders",
        "order_lines",
        "products",
        "partners",
        "consents",
        "support_contacts",
        "mentions",
    ):
        grid.add_row(name.replace("_", " "), f"{tables[name]:,}")
    out.print(grid)
    revenue = ", ".join(
        f"{v / 10 ** get_currency_precision(k):,.{get_currency_precision(k)}f} {k}"
        for k, v in summary["revenue_minor_by_currency"].items()
    )
    out.print(f"buyers: {summary['buyers']:,}   revenue (completed orders): {revenue}")
    out.print("customers by country: " + _pairs(summary["customers_by_country"]))
    out.print("orders by status: " + _pairs(summary["orders_by_status"]))
    out.print("orders by channel: " + _pairs(summary["orders_by_channel"]))
    out.print("consents: " + _pairs(summary["consents_by_status"]))
    out.print("mentions by language: " + _pairs(summary["mentions_by_language"]))
    out.print(
        f"planted duplicate customers (second source 'pos'): {result['planted_duplicates']:,}"
    )
    out.print(
        f"identity: {result['identity']['merges']:,} duplicate profiles merged by shared "
        f"e-mail or phone, {result['identity']['probabilistic_merges']:,} by the probabilistic "
        f"model, {result['identity']['queued_for_review']:,} pairs to review; "
        f"{result['identity']['flagged']:,} records with unusable keys"
    )
    if "error" in result["scoring"]:
        out.print(f"not scored: {result['scoring']['error']}", markup=False)
    else:
        out.print(
            f"scored {result['scoring']['customers']:,} buyers; segments: "
            + _pairs(result["scoring"]["segments"])
        )
    sent = result["interact"]
    out.print(
        f"messages: {sent['planned']:,} planned ({sent['deferred_for_quiet_hours']:,} wait for "
        f"the end of quiet hours), {sent['sent']:,} sent to {sent['to']}"
        + (f", {sent['failed']:,} failed" if sent["failed"] else "")
    )
    out.print("held, by reason: " + (_pairs(sent["held"]) or "none"))
    kept = result["promises"]
    out.print(
        f"history ({len(kept['rounds'])} earlier sends): "
        f"{sum(r['sent'] for r in kept['rounds']):,} messages sent, "
        f"{kept['redeemed']:,} offers redeemed, {kept['fulfilled']:,} gifts fulfilled, "
        f"{kept['expired']:,} expired; referrals {kept['rewarded']:,} rewarded, "
        f"{kept['referrals'].get('rejected', 0) + sum(kept['rejected'].values()):,} rejected"
    )
    if result["export_dir"]:
        out.print(f"CSV files: {result['export_dir']}")
    out.print("Next: [bold]relmark customers --db " + result["store"] + "[/bold]")


def _pairs(mapping: dict[str, int]) -> str:
    return ", ".join(f"{k} {v:,}" for k, v in mapping.items())


# The other stages' commands register themselves on the same app, after the core ones (the
# order `relmark --help` lists them in).
from relmark.interfaces import (  # noqa: E402
    audit_cli,  # noqa: F401
    currency_cli,  # noqa: F401
    engine_cli,  # noqa: F401
    export_cli,  # noqa: F401
    gifts_cli,  # noqa: F401
    identity_new_cli,  # noqa: F401
    interact_cli,  # noqa: F401
    loyalty_cli,  # noqa: F401
    mailbox_cli,  # noqa: F401
    offers_cli,  # noqa: F401
    offers_export_cli,  # noqa: F401
    outbox_cli,  # noqa: F401
    privacy_access_cli,  # noqa: F401
    privacy_cli,  # noqa: F401
    privacy_erase_cli,  # noqa: F401
    prune_cli,  # noqa: F401
    referrals_cli,  # noqa: F401
    report_cli,  # noqa: F401
    send_cli,  # noqa: F401
    server_cli,  # noqa: F401
    settings_cli,  # noqa: F401
)


def main() -> None:
    app()
