"""`relmark outbox`: counts by playbook, status and reason; with `--list` or any filter, the
messages themselves — who, which playbook, why held, when due and sent."""

# Annotations stay evaluated (no __future__ import): see cli_base.

from typing import Annotated, Any

import typer

from relmark.interfaces.cli_base import (
    DbOption,
    JsonOption,
    app,
    friendly,
    open_store,
    out,
    parse_moment,
    parse_start,
    print_json,
    print_rows,
    read_only,
)

STATUSES = ("planned", "sending", "sent", "held", "failed")


def _opt(help_text: str, name: str) -> Any:
    return typer.Option(name, help=help_text, show_default=False)


Moment = str | None
FROM_HELP = "YYYY-MM-DD (from the start of that day, UTC) or an ISO timestamp."
TO_HELP = "YYYY-MM-DD (to the end of that day, UTC) or an ISO timestamp."


@app.command("outbox")
@friendly
@read_only
def outbox_command(
    listing: Annotated[bool, _opt("List the messages instead of counting them.", "--list")] = False,
    playbook: Annotated[str | None, _opt("Only this playbook.", "--playbook")] = None,
    status: Annotated[
        str | None, _opt(f"Only this status: {', '.join(STATUSES)}.", "--status")
    ] = None,
    reason: Annotated[
        str | None, _opt('Only this reason code (e.g. cap_7d); "" for none.', "--reason")
    ] = None,
    customer: Annotated[int | None, _opt("Only this customer id.", "--customer")] = None,
    email: Annotated[str | None, _opt("Only the customer with this e-mail.", "--email")] = None,
    expired: Annotated[
        bool, _opt("Only occasions lost to downtime (held, reason expired).", "--expired")
    ] = False,
    due_from: Annotated[Moment, _opt("Due from: " + FROM_HELP, "--due-from")] = None,
    due_to: Annotated[Moment, _opt("Due until: " + TO_HELP, "--due-to")] = None,
    sent_from: Annotated[Moment, _opt("Sent from: " + FROM_HELP, "--sent-from")] = None,
    sent_to: Annotated[Moment, _opt("Sent until: " + TO_HELP, "--sent-to")] = None,
    limit: Annotated[
        int | None, typer.Option(min=1, max=100_000, help="At most this many (default 50).")
    ] = None,
    offset: Annotated[
        int | None, typer.Option(min=0, max=10**12, help="Skip this many (the next page).")
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Messages by playbook, status and reason; `--list` (or any filter, --limit or --offset)
    lists them, newest due first, with the customer, the reason in plain words and delivery
    attempts."""
    from relmark.store.message_list import MessageFilter, expired_shorthand

    if expired:
        status, reason = expired_shorthand(status, reason, "--expired")
    wanted = MessageFilter(
        playbook=playbook,
        status=status,
        reason=reason,
        customer_id=customer,
        email=email,
        due_from=parse_start(due_from, "--due-from"),
        due_to=None if due_to is None else parse_moment(due_to, "--due-to"),
        sent_from=parse_start(sent_from, "--sent-from"),
        sent_to=None if sent_to is None else parse_moment(sent_to, "--sent-to"),
    ).checked("outbox")
    if listing or wanted.as_dict() or limit is not None or offset is not None:
        _list(db, wanted, limit or 50, offset or 0, as_json)
    else:
        _counts(db, as_json)


def _counts(db: str | None, as_json: bool) -> None:
    """Messages by playbook, status and reason; held rows pruned from the outbox count on,
    with status `pruned`."""
    from relmark.store import outbox, pruning

    with open_store(db).connect() as connection:
        counted = outbox.outbox_counts(connection) + pruning.pruned_totals(connection)
    rows = sorted(counted, key=lambda r: (r["playbook"], r["status"], r["reason"] or ""))
    print_rows(
        rows,
        as_json,
        {
            "playbook": lambda r: r["playbook"],
            "status": lambda r: r["status"],
            "reason": lambda r: r["reason"] or "",
            "messages": lambda r: f"{r['count']:,}",
        },
    )


def _list(db: str | None, wanted: Any, limit: int, offset: int, as_json: bool) -> None:
    from rich.markup import escape

    from relmark.store.message_list import list_messages

    with open_store(db).connect() as connection:
        total, rows = list_messages(connection, wanted, limit=limit, offset=offset)
    if as_json:
        print_json({"total": total, "limit": limit, "offset": offset, "items": rows})
        return
    shown = f"{offset + 1:,}-{offset + len(rows):,}" if rows else "none"
    columns: dict[str, Any] = {
        "id": lambda r: str(r["id"]),
        "customer": lambda r: f"{r['customer_id']} {r['customer_name'] or ''}".strip(),
        "e-mail": lambda r: r["email"] or "",
        "playbook": lambda r: r["playbook"],
        "status": lambda r: r["status"],
        "reason": lambda r: _reason(r),
        "due": lambda r: f"{r['due_at']:%Y-%m-%d %H:%M}",
        "sent": lambda r: "" if r["sent_at"] is None else f"{r['sent_at']:%Y-%m-%d %H:%M}",
        "attempts": lambda r: _attempts(r),
    }
    safe = {name: (lambda r, show=show: escape(show(r))) for name, show in columns.items()}
    print_rows(rows, False, safe, title=f"messages {shown} of {total:,}")
    if offset + len(rows) < total:
        out.print(f"more: --offset {offset + len(rows)}", style="dim")


def _reason(row: dict[str, Any]) -> str:
    return f"{row['reason_text']} ({row['reason']})" if row["reason"] else ""


def _attempts(row: dict[str, Any]) -> str:
    error = row["last_error"]
    return f"{row['attempts']}" + (f": {error[:80]}" if error else "")
