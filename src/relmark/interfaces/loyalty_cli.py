"""`relmark loyalty`: switch the programme on, post points from orders, look up a member's
balance, grant or take points by hand, buy a reward, expire, and report the liability."""

# Annotations stay evaluated (no __future__ import): see cli_base.

from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from relmark.errors import InvalidInput
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

loyalty_app = typer.Typer(
    help="The loyalty programme: points, tiers, rewards and what they are worth.",
    no_args_is_help=True,
)
app.add_typer(loyalty_app, name="loyalty")

ProgrammeOption = Annotated[
    Path | None,
    typer.Option(
        "--programme",
        help="The programme's TOML file (default: RELMARK_LOYALTY_FILE, else the shipped one).",
        show_default=False,
    ),
]
CustomerArgument = Annotated[str, typer.Argument(help="Customer id or e-mail address.")]


def _programme(path: Path | None) -> Any:
    from relmark.config import get_settings
    from relmark.interact.loyalty import load_programme

    return load_programme(path or get_settings().loyalty_file)


def _customer(engine: Any, reference: str) -> int:
    from relmark.interfaces.customer_ref import customer_id_of

    with engine.connect() as connection:
        return customer_id_of(connection, reference)


def _now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


def _switch(db: str | None, on: bool) -> None:
    from relmark.interact.loyalty import ENABLED_KEY
    from relmark.store import audit, kv
    from relmark.store.audit import Actor

    engine = open_store(db)
    with engine.begin() as connection:
        kv.put_setting(connection, ENABLED_KEY, on, _now())
        audit.record(connection, Actor.cli(), "loyalty.enable" if on else "loyalty.disable")
    out.print(f"the loyalty programme is {'on' if on else 'off'} in this store")


@loyalty_app.command("enable")
@friendly
def enable(db: DbOption = None) -> None:
    """Switch the programme on: orders start earning points at the next posting."""
    _switch(db, True)


@loyalty_app.command("disable")
@friendly
def disable(db: DbOption = None) -> None:
    """Switch the programme off: nothing is posted, redeemed or granted (points are kept)."""
    _switch(db, False)


@loyalty_app.command("post")
@friendly
def post(
    programme: ProgrammeOption = None, db: DbOption = None, as_json: JsonOption = False
) -> None:
    """Post points: expire, earn from orders and birthdays, take back refunds, set tiers.

    Expires what is due, posts every order's points (and birthdays'), takes back the points
    of returned and refunded orders, and moves members between tiers. Safe to re-run.
    """
    from relmark.interact.loyalty import run_posting

    report = run_posting(open_store(db), _programme(programme), _now())
    if as_json:
        print_json(report.as_dict())
        return
    out.print(
        f"posted {report.points_earned:,} point(s) from {report.orders_posted:,} order(s), "
        f"{report.birthdays:,} birthday bonus(es)"
    )
    if report.unconverted_orders:
        out.print(
            f"{report.unconverted_orders:,} order(s) wait for an exchange rate into the "
            "programme's currency (relmark currency set …)"
        )
    out.print(
        f"took back {report.points_reversed:,} point(s) of {report.reversed_orders:,} returned "
        f"or refunded order(s)"
        + (f" ({report.points_short:,} already spent)" if report.points_short else "")
    )
    out.print(f"expired {report.expired_points:,} point(s) of {report.expired_entries:,} entries")
    out.print(f"{report.members:,} member(s), {report.tier_changes:,} tier change(s)")


@loyalty_app.command("expire")
@friendly
def expire(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Expire what is left of every earn entry whose expiry has passed (safe to re-run)."""
    from relmark.store.db import bulk_transaction
    from relmark.store.loyalty_ledger import expire_due

    with bulk_transaction(open_store(db)) as connection:
        report = expire_due(connection, _now())
    if as_json:
        print_json({"entries": report.entries, "points": report.points})
        return
    out.print(f"expired {report.points:,} point(s) of {report.entries:,} entries")


@loyalty_app.command("balance")
@friendly
@read_only
def balance(
    customer: CustomerArgument,
    programme: ProgrammeOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """A member's balance, tier and latest entries."""
    from relmark.interact.loyalty import member_card

    engine = open_store(db)
    card = member_card(engine, _programme(programme), _customer(engine, customer))
    if as_json:
        print_json(card)
        return
    tier = card["tier"] or "no tier"
    out.print(
        f"customer {card['customer_id']}: {card['balance']:,} point(s) "
        f"({card['value']} {card['currency']}), {tier}"
    )
    print_rows(
        card["entries"],
        False,
        {
            "at": lambda r: r["at"].strftime("%Y-%m-%d"),
            "kind": lambda r: r["kind"],
            "rule": lambda r: r["rule"],
            "points": lambda r: f"{r['points']:+,}",
            "expires": lambda r: r["expires_at"].strftime("%Y-%m-%d") if r["expires_at"] else "",
            "reason": lambda r: r["reason"] or "",
        },
        title="latest entries",
    )


@loyalty_app.command("grant")
@friendly
def grant(
    customer: CustomerArgument,
    points: Annotated[int, typer.Argument(help="Points to add (negative: to take away).")],
    reason: Annotated[str, typer.Option("--reason", help="Why (kept on the entry).")],
    programme: ProgrammeOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Grant points by hand (or take them away with a negative number); audited."""
    from relmark.interact.loyalty import grant as grant_points
    from relmark.store.audit import Actor

    engine = open_store(db)
    done = grant_points(
        engine,
        _programme(programme),
        _customer(engine, customer),
        points,
        reason,
        _now(),
        Actor.cli(),
    )
    if as_json:
        print_json(done)
        return
    out.print(f"customer {done['customer_id']}: {points:+,} point(s), balance {done['balance']:,}")


@loyalty_app.command("redeem")
@friendly
def redeem(
    customer: CustomerArgument,
    reward: Annotated[
        str, typer.Argument(help="The reward's key (see `relmark loyalty catalogue`).")
    ],
    programme: ProgrammeOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Buy a catalogue reward with points: the points are debited and its offer issued."""
    from relmark.interact.loyalty import redeem as redeem_reward
    from relmark.store.audit import Actor

    engine = open_store(db)
    done = redeem_reward(
        engine, _programme(programme), _customer(engine, customer), reward, _now(), Actor.cli()
    )
    if as_json:
        print_json(done)
        return
    out.print(
        f"{done['title']}: code {done['code']}, valid until {done['expires_at']:%Y-%m-%d}; "
        f"{done['points']:,} point(s) spent, balance {done['balance']:,}"
    )


@loyalty_app.command("catalogue")
@friendly
@read_only
def catalogue(programme: ProgrammeOption = None, as_json: JsonOption = False) -> None:
    """The rewards points can buy."""
    loaded = _programme(programme)
    rows = [
        {
            "key": r.key,
            "title": r.title,
            "points": r.points,
            "gives": (
                f"{r.amount:.{loaded.digits}f} {loaded.currency} off"
                if r.amount is not None
                else f"{r.percent_off}% off"
                if r.percent_off is not None
                else f"gift {r.gift}"
            ),
            "valid_days": r.valid_days,
        }
        for r in loaded.rewards
    ]
    print_rows(
        rows,
        as_json,
        {
            "key": lambda r: r["key"],
            "title": lambda r: r["title"],
            "points": lambda r: f"{r['points']:,}",
            "gives": lambda r: r["gives"],
            "valid days": lambda r: str(r["valid_days"]),
        },
        title=f"{loaded.name}: rewards",
    )


@loyalty_app.command("liability")
@friendly
@read_only
def liability(
    output: Annotated[
        Literal["table", "json"], typer.Option("--format", help="table or json.")
    ] = "table",
    programme: ProgrammeOption = None,
    db: DbOption = None,
) -> None:
    """Outstanding points, their value, expected breakage, by month of expiry (for finance)."""
    from relmark.interact.loyalty import liability_report

    report = liability_report(open_store(db), _programme(programme), _now())
    if output == "json":
        print_json(report)
        return
    currency = report["currency"]
    out.print(
        f"outstanding: {report['outstanding_points']:,} point(s) worth "
        f"{report['value']} {currency} (one point = {report['point_value']} {currency})"
    )
    rate = report["breakage"]["rate"]
    if rate is None:
        out.print(f"expected breakage: unknown, {report['breakage']['unknown_because']}")
    else:
        out.print(
            f"expected breakage: {rate:.1%} ({report['expected_breakage_points']:,} point(s)); "
            f"expected liability {report['expected_liability']} {currency}"
        )
        out.print(f"  how: {report['breakage']['how']}", style="dim")
    print_rows(
        report["by_month"],
        False,
        {
            "expires": lambda r: r["expires"],
            "points": lambda r: f"{r['points']:,}",
            f"value ({currency})": lambda r: r["value"],
            "expected breakage": lambda r: (
                ""
                if r["expected_breakage_points"] is None
                else f"{r['expected_breakage_points']:,}"
            ),
        },
        title="by month of expiry",
    )


@loyalty_app.command("programme")
@friendly
@read_only
def show_programme(
    copy: Annotated[
        Path | None, typer.Option("--copy", help="Write the shipped programme here to edit.")
    ] = None,
    programme: ProgrammeOption = None,
) -> None:
    """Check the programme file (every problem with its key), or copy the shipped one."""
    from relmark.interact.loyalty.programme import shipped_text

    if copy is not None:
        if copy.exists():
            raise InvalidInput.single("--copy", f"{copy} exists: choose another file")
        copy.write_text(shipped_text(), encoding="utf-8")
        out.print(f"wrote {copy}: edit it and set RELMARK_LOYALTY_FILE={copy}")
        return
    loaded = _programme(programme)
    out.print(
        f"{loaded.name}: {loaded.points_per_unit} point(s) per {loaded.currency}, "
        f"{loaded.points_per_order} per order, expiry "
        f"{f'{loaded.expiry_months} months' if loaded.expiry_months else 'never'}, "
        f"{len(loaded.tiers.levels)} tier(s), {len(loaded.rewards)} reward(s): the file is valid"
    )
