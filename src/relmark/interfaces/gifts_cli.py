"""`relmark gifts list|fulfil|check`: the warehouse's pick list of promised gifts, marking
one sent with the order that carried it, and checking a gift catalogue."""

# Annotations stay evaluated (no __future__ import): see cli_base.

from pathlib import Path
from typing import Annotated

import typer

from relmark.interfaces.cli_base import (
    DbOption,
    JsonOption,
    app,
    friendly,
    open_store,
    out,
    print_json,
    print_rows,
    read_only,
)

gifts_app = typer.Typer(help="Gifts promised to customers: pick list, fulfilment.")
app.add_typer(gifts_app, name="gifts", no_args_is_help=True)


@gifts_app.command("list")
@friendly
@read_only
def list_gifts(
    due: Annotated[
        bool, typer.Option("--due", help="Only gifts whose customer has a new order to ship.")
    ] = False,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="At most this many.")] = 500,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Issued gifts not yet fulfilled, owed longest first: customer, address, gift, since
    when, and the next order placed after it (the one it can travel with)."""
    from relmark.config import get_settings
    from relmark.gift_picking import pick_list
    from relmark.shop_settings import effective_settings

    engine = open_store(db)
    settings = effective_settings(engine, get_settings())
    listed = pick_list(engine, settings, due_only=due, limit=limit)
    if as_json:
        print_json({"total": listed.total, "gifts": listed.rows, "shelf": listed.shelf})
        return
    print_rows(
        listed.rows,
        False,
        {
            "code": lambda r: r["code"],
            "gift": lambda r: r["gift_name"],
            "customer": lambda r: f"{r['customer_id']} {_full_name(r)}",
            "address": lambda r: ", ".join(
                str(r[k]) for k in ("address", "postcode", "city", "country") if r[k]
            ),
            "owed since": lambda r: str(r["issued_at"])[:16],
            "next order": lambda r: (
                f"{r['next_order']} ({str(r['next_order_at'])[:10]})" if r["next_order"] else "—"
            ),
        },
        title=f"Gifts to send{' with an order waiting' if due else ''}: {listed.total:,}",
    )
    for gift in listed.shelf:
        if gift["stock"] is not None and gift["owed"] > gift["stock"]:
            out.print(f"short: {gift['owed']:,} {gift['gift']} owed, {gift['stock']:,} in stock")


def _full_name(row: dict) -> str:
    return " ".join(str(row[k]) for k in ("first_name", "last_name") if row[k])


@gifts_app.command("fulfil")
@friendly
def fulfil_gift(
    code: Annotated[str, typer.Argument(help="The gift offer's code.")],
    order: Annotated[
        str, typer.Option("--order", help="The order that carried it (shop's number or id).")
    ],
    db: DbOption = None,
) -> None:
    """Mark a gift sent with an order: it leaves the pick list and counts as a cost."""
    from datetime import UTC, datetime

    from relmark.gift_picking import fulfil
    from relmark.store.audit import Actor

    done = fulfil(open_store(db), code, order, datetime.now(UTC), Actor.cli())
    out.print(f"{done['code']} fulfilled with order id {done['order_id']}")


@gifts_app.command("check")
@friendly
@read_only
def check_gifts(
    folder: Annotated[
        Path | None, typer.Argument(help="Folder holding gifts.toml; default the shipped one.")
    ] = None,
) -> None:
    """Check a gift catalogue: every problem with its field."""
    from relmark.interact.gift_catalogue import load_gifts

    catalogue = load_gifts(folder)
    out.print(f"{len(catalogue)} gifts: {', '.join(catalogue) or 'none'}")
