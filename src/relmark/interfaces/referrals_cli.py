"""`relmark referrals`: who referred whom, each referral's verdict, the ambassadors, and the
job that rewards referrers once their friends' orders are past the return window."""

# Annotations stay evaluated (no __future__ import): see cli_base.

from enum import StrEnum
from pathlib import Path
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
    print_json,
    print_rows,
    read_only,
)

referrals_app = typer.Typer(
    help="Referrals and ambassadors: codes, attributions, fraud verdicts, rewards.",
    no_args_is_help=True,
)
app.add_typer(referrals_app, name="referrals")


class Format(StrEnum):
    table = "table"
    json = "json"


FormatOption = Annotated[
    Format, typer.Option("--format", help="table (default) or json.", show_default=False)
]
Limit = Annotated[int, typer.Option(min=1, max=10_000, help="At most this many (default 50).")]


def _name(first: str | None, last: str | None) -> str:
    return " ".join(p for p in (first, last) if p)


REFERRAL_COLUMNS: dict[str, Any] = {
    "id": lambda r: str(r["id"]),
    "code": lambda r: r["code"],
    "referrer": lambda r: (
        f"{r['referrer_id']} " + _name(r["referrer_first_name"], r["referrer_last_name"])
    ),
    "referee": lambda r: (
        f"{r['referee_id']} " + _name(r["referee_first_name"], r["referee_last_name"])
    ),
    "order": lambda r: r["order_number"],
    "via": lambda r: r["via"],
    "status": lambda r: r["status"],
    "reason": lambda r: r["reason"] or "",
    "reward": lambda r: r["reward_code"] or "",
}


@referrals_app.command("list")
@friendly
@read_only
def list_command(
    status: Annotated[
        str | None,
        typer.Option(help="Only this status: pending, rewarded or rejected.", show_default=False),
    ] = None,
    limit: Limit = 50,
    offset: Annotated[int, typer.Option(min=0, max=10**12, help="Skip this many.")] = 0,
    db: DbOption = None,
    output: FormatOption = Format.table,
    as_json: JsonOption = False,
) -> None:
    """Referrals, newest first: the code, who referred whom, the order, the verdict."""
    from relmark.errors import InvalidInput
    from relmark.store.referral_report import STATUSES, list_referrals

    if status is not None and status not in STATUSES:
        raise InvalidInput.single("--status", f"{status!r} is not one of {', '.join(STATUSES)}")
    with open_store(db).connect() as connection:
        total, rows = list_referrals(connection, status=status, limit=limit, offset=offset)
    if as_json or output is Format.json:
        print_json({"total": total, "limit": limit, "offset": offset, "items": rows})
        return
    print_rows(rows, False, REFERRAL_COLUMNS, title=f"referrals: {len(rows)} of {total:,}")


@referrals_app.command("show")
@friendly
def show_command(
    customer: Annotated[str, typer.Argument(help="Customer id or e-mail address.")],
    db: DbOption = None,
    output: FormatOption = Format.table,
    as_json: JsonOption = False,
) -> None:
    """A customer's referral code and personal link (made now if they have none yet), the
    friends they referred and who referred them."""
    from datetime import UTC, datetime

    from relmark import shop_settings
    from relmark.config import get_settings
    from relmark.errors import RelmarkError
    from relmark.interfaces.customer_ref import customer_id_of
    from relmark.store.live import live_profile
    from relmark.store.referral_report import list_referrals
    from relmark.store.referrals import code_for

    engine = open_store(db)
    settings = shop_settings.effective_settings(engine, get_settings())
    with engine.begin() as connection:
        named = customer_id_of(connection, customer)
        live = live_profile(connection, named)
        if live is None:
            raise RelmarkError(f"CUSTOMER {customer!r}: no such customer")
        code = code_for(connection, live, datetime.now(UTC))
        _total, rows = list_referrals(connection, customer_id=live, limit=1000)
    shop = (settings.shop_url or settings.public_url).rstrip("/")
    result = {
        "customer_id": live,
        "code": code,
        "link": f"{shop}/?ref={code}",
        "referred": [r for r in rows if r["referrer_id"] == live],
        "referred_by": [r for r in rows if r["referee_id"] == live],
    }
    if as_json or output is Format.json:
        print_json(result)
        return
    out.print(f"customer {live}: code {code}, link {result['link']}", highlight=False)
    print_rows(result["referred"], False, REFERRAL_COLUMNS, title="friends they referred")
    if result["referred_by"]:
        print_rows(result["referred_by"], False, REFERRAL_COLUMNS, title="referred by")


@referrals_app.command("ambassadors")
@friendly
@read_only
def ambassadors_command(
    limit: Limit = 50,
    db: DbOption = None,
    output: FormatOption = Format.table,
    as_json: JsonOption = False,
) -> None:
    """Referrers ranked by the value of the customers they brought (lifetime value from the
    latest scoring run, else revenue so far: the basis column says which)."""
    from relmark import shop_settings
    from relmark.config import get_settings
    from relmark.store.referral_report import ambassadors

    engine = open_store(db)
    currency = shop_settings.effective_settings(engine, get_settings()).currency
    with engine.connect() as connection:
        report = ambassadors(connection, currency, limit=limit)
    if as_json or output is Format.json:
        print_json(report)
        return
    money = report["currency"]
    print_rows(
        report["items"],
        False,
        {
            "referrer": lambda r: f"{r['referrer_id']} {_name(r['first_name'], r['last_name'])}",
            "customers brought": lambda r: f"{r['customers']:,}",
            f"value ({money}, minor units)": lambda r: f"{r['value_minor']:,}",
            "basis": lambda r: r["basis"],
            "pending": lambda r: str(r["pending"]),
            "rewarded": lambda r: str(r["rewarded"]),
            "rejected": lambda r: str(r["rejected"]),
        },
        title="ambassadors",
    )


@referrals_app.command("reward")
@friendly
def reward_command(
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Decide as of this day or ISO timestamp (default now).",
            show_default=False,
        ),
    ] = None,
    playbooks: Annotated[
        Path | None, typer.Option(help="Folder of playbook files (default: the configured).")
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Reward referrers whose friend's first order is past the return window
    (RELMARK_REFERRAL_RETURN_WINDOW_DAYS, 30), reject referrals that break a rule; safe to
    repeat (the engine runs it every six hours)."""
    from relmark.interact.referrals import reward_referrals
    from relmark.interfaces.interact_cli import interaction
    from relmark.store.audit import Actor

    now = parse_moment(as_of, "--as-of")
    relmark = interaction(db, playbooks)
    report = reward_referrals(
        relmark.engine, relmark.playbooks(), relmark.effective(), now, Actor.cli()
    )
    if as_json:
        print_json(
            {
                "rewarded": report.rewarded,
                "rejected": report.rejected,
                "waiting": report.waiting,
                "offers": report.offers,
            }
        )
        return
    out.print(report.summary())
    for reason, n in sorted(report.rejected.items()):
        out.print(f"  rejected, {reason}: {n}")
