"""`relmark outbox-prune`: delete held candidates older than an age, keeping their counts
per plan run (one plan over a million customers holds some 424k of them)."""

# Annotations stay evaluated (no __future__ import): see cli_base.

import re
from pathlib import Path
from typing import Annotated

import typer

from relmark.errors import InvalidInput
from relmark.interfaces.cli_base import DbOption, JsonOption, app, friendly, out, print_rows

AGE = re.compile(r"^\s*(\d{1,5})\s*d?\s*$")


def parse_age(value: str) -> int:
    """`90d` or `90` → 90 days."""
    found = AGE.match(value)
    if not found or int(found.group(1)) < 1:
        raise InvalidInput.single(
            "--older-than", f"{value!r} is not an age in days such as 90d (at least 1d)"
        )
    return int(found.group(1))


@app.command("outbox-prune")
@friendly
def outbox_prune(
    older_than: Annotated[
        str | None,
        typer.Option(
            "--older-than",
            help="Age in days, e.g. 90d (default: RELMARK_OUTBOX_PRUNE_AFTER_DAYS, 90).",
            show_default=False,
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would go; delete nothing.")
    ] = False,
    counts: Annotated[
        bool,
        typer.Option("--counts", help="List the counts kept of earlier prunes; prune nothing."),
    ] = False,
    playbooks: Annotated[
        Path | None, typer.Option(help="Folder of playbook files (default: the configured).")
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Prune held candidates from the outbox, keeping their counts per plan run.

    A held row goes only when no plan can need it again: older than the age and than its
    playbook's reach (its window, or a score playbook's repeat window); control-group rows
    stay for the uplift report.
    """
    from datetime import UTC, datetime, timedelta

    from relmark.interfaces.interact_cli import interaction
    from relmark.outbox_pruning import prune_outbox
    from relmark.store.pruning import pruned_counts

    days = None if older_than is None else parse_age(older_than)
    relmark = interaction(db, playbooks)
    if counts:
        with relmark.engine.connect() as connection:
            rows = pruned_counts(connection)
        print_rows(
            rows,
            as_json,
            {
                "plan run": lambda r: "" if r["plan_run_id"] is None else str(r["plan_run_id"]),
                "as of": lambda r: r["as_of"].strftime("%Y-%m-%d %H:%M") if r["as_of"] else "",
                "playbook": lambda r: r["playbook"],
                "reason": lambda r: r["reason"] or "",
                "pruned": lambda r: f"{r['count']:,}",
            },
            title="held candidates pruned, per plan run",
        )
        return
    report = prune_outbox(
        relmark,
        datetime.now(UTC),
        None if days is None else timedelta(days=days),
        dry_run=dry_run,
    )
    if as_json:
        from relmark.interfaces.cli_base import print_json

        print_json(
            {
                "older_than_days": report.older_than_days,
                "pruned": report.pruned,
                "dry_run": dry_run,
                "by_run": report.by_run,
            }
        )
        return
    verb = "would prune" if dry_run else "pruned"
    out.print(f"{verb} {report.pruned:,} held candidates older than {report.older_than_days} days")
    for row in report.by_run:
        run = "no plan run" if row["plan_run_id"] is None else f"plan run {row['plan_run_id']}"
        out.print(f"  {run}: {row['playbook']} / {row['reason']}: {row['count']:,}")
