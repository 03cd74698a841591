"""`relmark offers`: the promises messages made, as records: redeem a code for an order, look
one up, list them, void one, expire what time has closed."""

# Annotations stay evaluated (no __future__ import): see cli_base.

from typing import Annotated, Any

import typer

from relmark.interfaces.cli_base import (
    DbOption,
    JsonOption,
    friendly,
    open_store,
    out,
    parse_moment,
    print_json,
    print_rows,
    read_only,
)
from relmark.interfaces.offers_group import offers_app

CodeArgument = Annotated[str, typer.Argument(help="The offer's code, as the customer typed it.")]
STATUSES = "reserved, issued, redeemed, expired or void"


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value is not None else ""


@offers_app.command("redeem")
@friendly
def redeem(
    code: CodeArgument,
    order: Annotated[
        str | None, typer.Option("--order", help="The shop's order number (external id).")
    ] = None,
    source: Annotated[
        str | None,
        typer.Option("--source", help="The order's source, when two sources share numbers."),
    ] = None,
    order_id: Annotated[
        int | None, typer.Option("--order-id", min=1, max=2**31 - 1, help="relmark's order id.")
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Use a code for an order; refused, with the reason, when the offer is unknown, not yet
    sent, expired, void, used up, another customer's or the order is below its minimum."""
    from datetime import UTC, datetime

    from relmark.store import offer_redemption
    from relmark.store.audit import Actor

    now = datetime.now(UTC)
    with open_store(db).begin() as connection:
        target = offer_redemption.order_id_of(
            connection, order_id=order_id, external_id=order, source=source
        )
        done = offer_redemption.redeem(connection, code, target, now, actor=Actor.cli())
    if as_json:
        print_json(done)
        return
    out.print(
        f"redeemed {done['code']} for order {done['order_id']} "
        f"(use {done['uses']} of {done['max_uses']}; status {done['status']})",
        markup=False,
    )


@offers_app.command("show")
@friendly
@read_only
def show(code: CodeArgument, db: DbOption = None, as_json: JsonOption = False) -> None:
    """One offer: what it promises, to whom, its state and the orders that used it."""
    from relmark.store import offers

    with open_store(db).connect() as connection:
        offer = offers.find(connection, code)
        used = offers.redemptions(connection, int(offer["id"]))
    shown = {**offers.summary(offer), "redemptions": used}
    if as_json:
        print_json(shown)
        return
    for key, value in shown.items():
        if key != "redemptions" and value is not None:
            out.print(f"{key:16} {value}", markup=False)
    for row in used:
        out.print(
            f"redeemed         order {row['order_id']} at {_when(row['redeemed_at'])}",
            markup=False,
        )


@offers_app.command("list")
@friendly
@read_only
def list_command(
    status: Annotated[str | None, typer.Option("--status", help=f"Only {STATUSES}.")] = None,
    customer: Annotated[
        str | None,
        typer.Option("--customer", help="Only this customer (id or e-mail; merged profiles too)."),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=100_000, help="At most this many.")] = 50,
    offset: Annotated[int, typer.Option(min=0, max=10**12, help="Skip this many.")] = 0,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Offers, newest first."""
    from relmark.interfaces.customer_ref import customer_id_of
    from relmark.store import offers
    from relmark.store.live import absorbed_into, live_profile

    with open_store(db).connect() as connection:
        ids = None
        if customer is not None:
            named = customer_id_of(connection, customer, "--customer")
            ids = absorbed_into(connection, live_profile(connection, named) or named)
        total, rows = offers.list_offers(
            connection, status=status, customer_ids=ids, limit=limit, offset=offset
        )
    shown = [offers.summary(r) for r in rows]
    if as_json:
        print_json({"total": total, "limit": limit, "offset": offset, "items": shown})
        return
    print_rows(
        shown,
        False,
        {
            "code": lambda r: r["code"],
            "kind": lambda r: r["kind"],
            "value": lambda r: r["value"] or "",
            "status": lambda r: r["status"],
            "customer": lambda r: str(r["customer_id"]),
            "playbook": lambda r: r["playbook"] or "",
            "uses": lambda r: f"{r['uses']}/{r['max_uses']}",
            "expires": lambda r: _when(r["expires_at"]),
        },
        title=f"Offers ({len(shown)} of {total:,})",
    )


@offers_app.command("void")
@friendly
def void(
    code: CodeArgument,
    reason: Annotated[str, typer.Option("--reason", help="Why (kept with the offer).")],
    db: DbOption = None,
) -> None:
    """Withdraw an offer so it can no longer be used (audited)."""
    from datetime import UTC, datetime

    from relmark.store import offers
    from relmark.store.audit import Actor

    with open_store(db).begin() as connection:
        offer = offers.void(connection, code, reason, datetime.now(UTC), actor=Actor.cli())
    out.print(f"voided {offer['code']}: {offer['close_reason']}", markup=False)


@offers_app.command("expire")
@friendly
def expire(
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Expire as of this moment (default now).")
    ] = None,
    db: DbOption = None,
) -> None:
    """Close offers past their date (the engine does this hourly); safe to repeat."""
    from relmark.store import offers

    moment = parse_moment(as_of, "--as-of")
    with open_store(db).begin() as connection:
        done = offers.expire(connection, moment)
    out.print(
        f"{done.expired} offer(s) expired, {done.voided} unsent reservation(s) voided",
        markup=False,
    )
