"""`relmark identify-new`: match the records that arrived since the last identity run
(tracking, imports, the API) to their person by exact e-mail and phone keys, once; the
engine runs the same on its schedule."""

# Annotations stay evaluated (no __future__ import): see cli_base.

from typing import Annotated

import typer

from relmark.interfaces.cli_base import DbOption, JsonOption, app, friendly, out, parse_moment


@app.command("identify-new")
@friendly
def identify_new(
    since: Annotated[
        str | None,
        typer.Option(
            help="Only records changed at or after this ISO timestamp (default: every record "
            "no identity run has keyed yet).",
            show_default=False,
        ),
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Match new records to known customers by exact keys (cheap; no model).

    The records no identity run has keyed are keyed and merged into the profiles that share
    their e-mail or phone; pairs whose first names differ go to the review queue. The
    probabilistic model stays with `relmark identify`.
    """
    from datetime import UTC, datetime

    from relmark import pipeline
    from relmark.interfaces.cli_base import open_store

    moment = None if since is None else parse_moment(since, "--since")
    report = pipeline.identify_new(open_store(db), moment, now=datetime.now(UTC))
    if as_json:
        from relmark.interfaces.cli_base import print_json

        print_json(
            {
                "mode": report.mode,
                "records_keyed": report.records_keyed,
                "merges": len(report.merges),
                "queued_for_review": report.queued_for_review,
            }
        )
        return
    out.print(
        f"{report.mode}: {report.records_keyed:,} records keyed, {len(report.merges):,} "
        f"profiles merged, {report.queued_for_review:,} pairs queued for review"
    )
