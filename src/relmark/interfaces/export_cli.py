"""`relmark export customers`: customers for other systems (a CRM, an ad platform), under
the transfer rule of `relmark.store.transfer`: restricted customers never, personal data
only with consent to third-party sharing. Every export is an audit-trail entry."""

# Annotations stay evaluated (no __future__ import): see cli_base.

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from relmark.interfaces.cli import export_app
from relmark.interfaces.cli_base import DbOption, friendly, open_store, out

if TYPE_CHECKING:
    from sqlalchemy import Connection


@contextmanager
def audited(db: str | None, action: str) -> Iterator[tuple["Connection", dict[str, int]]]:
    """A transaction that reads what is exported and records who exported it (the CLI
    user on this host); the entry holds counts, never personal values."""
    from datetime import UTC, datetime

    from relmark.store.audit import Actor, record

    detail: dict[str, int] = {}
    with open_store(db).begin() as connection:
        yield connection, detail
        record(connection, Actor.cli(), action, detail=detail, at=datetime.now(UTC))


@export_app.command("customers")
@friendly
def export_customers(
    out_file: Annotated[Path, typer.Option("--out", help="CSV file to write.")],
    db: DbOption = None,
) -> None:
    """customer_id, contact and address, country, language, segment, CLV and P(alive) of
    every unrestricted customer; contact and address only where the customer consented to
    third-party sharing (`personal_data` says which)."""
    from datetime import UTC, datetime

    from relmark.csvsafe import write_csv
    from relmark.store import erasure_files
    from relmark.store.transfer import customers

    with audited(db, "export.customers") as (connection, detail):
        frame = customers(connection)
        shared = int(frame["personal_data"].sum())
        detail |= {"rows": frame.height, "with_personal_data": shared}
        write_csv(frame, out_file)  # inside: a failed write records no export
        erasure_files.remember(connection, out_file, datetime.now(UTC))  # erasures clean it
    out.print(
        f"{frame.height:,} customers written to {out_file} "
        f"({shared:,} with personal data: consent to third-party sharing)"
    )
