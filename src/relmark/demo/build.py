"""Build the demo store: write the generated data as the CSV files users would import, import
them through the normal importer, then add what has no importer yet (support contacts,
mentions) and the planted ground truth."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import polars as pl
from sqlalchemy import Engine

from relmark.csvsafe import write_csv
from relmark.demo.generate import DemoData
from relmark.enums import ImportKind
from relmark.ingest.importer import ImportOptions, import_file
from relmark.store import loading
from relmark.store.bulk import append
from relmark.store.models import DemoTruth, Mention, SupportContact

Progress = Callable[[str], None]


def write_files(data: DemoData, folder: Path) -> list[Path]:
    """The demo as CSV files in the formats `relmark import` reads."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (_kind, _source, frame) in data.files().items():
        write_csv(frame, folder / name)
        written.append(folder / name)
    contacts = data.support_contacts.with_columns(pl.col("at").dt.strftime("%Y-%m-%dT%H:%M:%SZ"))
    write_csv(contacts, folder / "support_contacts.csv")
    write_csv(data.mentions, folder / "mentions.csv")
    write_csv(data.identity_truth, folder / "identity_truth.csv")
    return written


def load(
    engine: Engine, data: DemoData, folder: Path, *, now: datetime, progress: Progress | None = None
) -> dict[str, dict[str, int]]:
    """Import the written files, then the extras; returns the import counts per file."""
    say = progress or (lambda _step: None)
    counts = {}
    for name, (kind, source, _frame) in data.files().items():
        say(f"importing {name}")
        report = import_file(
            engine,
            ImportOptions(ImportKind(kind), folder / name, source=source, currency="USD"),
            now=now,
        )
        counts[name] = report.counts
    say("adding support contacts, mentions and ground truth")
    with engine.begin() as connection:
        keys = pl.concat(
            [
                loading.customer_keys(connection, source).with_columns(source=pl.lit(source))
                for source in ("web", "pos")
            ]
        )
        contacts = data.support_contacts.join(
            keys, on=["source", "customer_id"], how="inner"
        ).select(pl.col("customer_pk").alias("customer_id"), "at", "channel", "reason", "minutes")
        append(connection, SupportContact.__table__, contacts)  # type: ignore[arg-type]
        mentions = data.mentions.with_columns(
            pl.col("posted_at").str.to_datetime(time_zone="UTC"),
            pl.lit(None, pl.Int64).alias("customer_id"),
        ).drop("kind")
        append(connection, Mention.__table__, mentions)  # type: ignore[arg-type]
        append(connection, DemoTruth.__table__, _truth(data))  # type: ignore[arg-type]
    return counts


def _truth(data: DemoData) -> pl.DataFrame:
    mention_key = pl.format("{}|{}|{}", "platform", "author_handle", "posted_at")
    return pl.concat(
        [
            data.identity_truth.select(pl.lit("customer").alias("entity"), "key", "truth"),
            data.mentions.select(
                pl.lit("mention_kind").alias("entity"),
                mention_key.alias("key"),
                pl.col("kind").alias("truth"),
            ),
            data.mentions.filter(pl.col("customer_id").is_not_null()).select(
                pl.lit("mention_author").alias("entity"),
                mention_key.alias("key"),
                pl.format("web:{}", "customer_id").alias("truth"),
            ),
        ]
    )
