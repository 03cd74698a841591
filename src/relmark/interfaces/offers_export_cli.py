"""`relmark offers export` and `relmark offers webhooks send|status`: the shop's side of
offers, a file of codes to import and signed events as they are issued and closed."""

# Annotations stay evaluated (no __future__ import): see cli_base.

from pathlib import Path
from typing import Annotated

import typer

from relmark.interfaces.cli_base import DbOption, JsonOption, friendly, open_store, out, print_json
from relmark.interfaces.offers_group import offers_app

webhooks_app = typer.Typer(
    help="The offers webhook: offer.issued/redeemed/expired/voided to the shop.",
    no_args_is_help=True,
)
offers_app.add_typer(webhooks_app, name="webhooks")


@offers_app.command("export")
@friendly
def export_offers(
    out_file: Annotated[Path, typer.Option("--out", help="CSV file to write.")],
    status: Annotated[
        str | None,
        typer.Option(help="Only offers in this status (issued, redeemed, expired, void)."),
    ] = None,
    layout: Annotated[
        str, typer.Option("--format", help="csv (relmark's columns) or shopify (discount import).")
    ] = "csv",
    db: DbOption = None,
) -> None:
    """Every offer that went out (or those in one status) as CSV, streamed: code, kind,
    value, customer (e-mail only with consent to third-party sharing), validity and
    conditions; `--format shopify` writes the discount codes in the Shopify import layout."""
    import os
    from datetime import UTC, datetime

    from relmark.errors import InvalidInput
    from relmark.interfaces.export_cli import audited
    from relmark.store import erasure_files, offer_export

    if layout not in ("csv", "shopify"):
        raise InvalidInput.single("--format", f"{layout!r} is neither csv nor shopify")
    offer_export.checked_status(status, layout)  # type: ignore[arg-type]
    partial = out_file.with_name(out_file.name + ".partial")
    with audited(db, "export.offers") as (connection, detail):
        try:
            with partial.open("wb") as handle:
                written = offer_export.write_export(connection, handle, status, layout)  # type: ignore[arg-type]
            os.replace(partial, out_file)  # a failed export leaves no half file under the name
        finally:
            partial.unlink(missing_ok=True)
        detail |= {"rows": written}
        if layout == "csv":
            erasure_files.remember(connection, out_file, datetime.now(UTC))
    out.print(f"{written:,} offers written to {out_file} ({layout})")


@webhooks_app.command("send")
@friendly
def send_webhooks(
    limit: Annotated[
        int | None, typer.Option(min=1, help="Send at most this many events, then stop.")
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Queue the events of offers issued, redeemed, expired or voided since the webhook was
    configured, and deliver those due (the engine does this every minute)."""
    from relmark.interact import offer_webhook

    engine = open_store(db)
    report = offer_webhook.deliver_from_settings(engine, limit=limit)
    if as_json:
        print_json(report.as_dict())
        return
    out.print(report.summary())


@webhooks_app.command("status")
@friendly
def webhook_status(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Offer events per event and status (pending, sending, delivered, failed)."""
    from relmark.store import offer_webhooks

    with open_store(db).connect() as connection:
        counts = offer_webhooks.counts(connection)
    if as_json:
        print_json(counts)
        return
    if not counts:
        out.print("no offer events queued")
    for row in counts:
        out.print(f"{row['event']}: {row['status']} {row['count']:,}", markup=False)
