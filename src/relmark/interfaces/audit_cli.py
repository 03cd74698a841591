"""`relmark audit`: who read or changed which customer's personal data, when, from where."""

# Annotations stay evaluated (no __future__ import): see cli_base.

from typing import Annotated

import typer

from relmark.interfaces.cli_base import (
    DbOption,
    JsonOption,
    app,
    friendly,
    open_store,
    parse_start,
    print_rows,
    read_only,
)


@app.command("audit")
@friendly
@read_only
def audit(
    customer: Annotated[
        str | None, typer.Option("--customer", help="Only this customer (id or e-mail).")
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(help="Only from this day (YYYY-MM-DD, UTC) or ISO timestamp on."),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=100_000, help="At most this many.")] = 1000,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Who read or changed which customer's data, when, from where (newest first).

    Views, exports, rectifications, erasures, restrictions, consent, policy and playbook
    changes; entries hold ids and field names, never personal values.
    """
    from relmark.interfaces import data_rights
    from relmark.store.audit import entries

    moment = parse_start(since, "--since")
    engine = open_store(db)
    with engine.connect() as connection:
        customer_id = None if customer is None else data_rights.resolve(connection, customer)
        rows = entries(connection, customer_id=customer_id, since=moment, limit=limit)
    print_rows(
        rows,
        as_json,
        {
            "at": lambda r: r["at"].strftime("%Y-%m-%d %H:%M:%S"),
            "who": lambda r: f"{r['actor_kind']}: {r['actor']}",
            "from": lambda r: r["origin"] or "",
            "action": lambda r: r["action"],
            "customer": lambda r: "" if r["customer_id"] is None else str(r["customer_id"]),
            "detail": lambda r: _detail(r["detail"]),
        },
        title=f"{len(rows)} audit entries",
    )


def _detail(detail: dict | None) -> str:
    import json

    return "" if not detail else json.dumps(detail, ensure_ascii=False, default=str)
