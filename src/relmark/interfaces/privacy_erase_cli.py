"""`relmark privacy erase` and `relmark privacy purge`: the right to erasure, and retention.

Both list whom they will erase before they do, ask for confirmation unless --yes, and
record every erasure in the audit trail with the CLI user and host.
"""

# Annotations stay evaluated (no __future__ import): see cli_base.

from datetime import UTC, datetime
from typing import Annotated

import typer

from relmark.interfaces.cli_base import DbOption, JsonOption, friendly, open_store, out, print_json
from relmark.interfaces.privacy_cli import privacy_app

YesOption = Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")]


@privacy_app.command("erase")
@friendly
def erase(
    customer: Annotated[str, typer.Argument(help="Customer id or e-mail address.")],
    reason: Annotated[
        str, typer.Option(help="Why (kept in the audit trail; name no personal data).")
    ] = "request of the data subject",
    yes: YesOption = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Erase a customer's personal data in every table (and every profile merged into
    theirs); orders and amounts stay, anonymous. Their e-mail and phone are suppressed: a
    later import or tracking call brings them back restricted."""
    from relmark import erasing
    from relmark.store.audit import Actor

    engine = open_store(db)
    customer_id = erasing.find(engine, customer)
    if not yes and not typer.confirm(
        f"Erase customer {customer_id} and every profile merged into it? This cannot be undone"
    ):
        out.print("nothing was erased")
        raise typer.Exit(1)
    done = erasing.erase(
        engine, customer_id, actor=Actor.cli(), reason=reason, now=datetime.now(UTC)
    )
    if as_json:
        print_json(done)
        return
    changed = ", ".join(
        f"{table} {n:,}"
        for table, n in done.items()
        if isinstance(n, int) and n and table != "customer_id"
    )
    out.print(f"customer {customer_id} erased (profiles {done['profiles']}): {changed}")
    if done["same_contact_elsewhere"]:
        others = ", ".join(str(c) for c in done["same_contact_elsewhere"])
        out.print(
            f"[yellow]note:[/yellow] customers {others} hold the same e-mail or phone and were "
            "not merged with this one: erase them too if they are the same person"
        )


@privacy_app.command("purge")
@friendly
def purge(
    inactive_for: Annotated[
        str,
        typer.Option(
            "--inactive-for", help="3y, 18m, 6w or 400d: no order, message or visit since."
        ),
    ],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List only; erase nothing.")] = False,
    yes: YesOption = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Erase every customer with no activity (order, message sent, link used, tracked
    visit) within the period; lists them first."""
    from relmark import erasing
    from relmark.store.audit import Actor

    engine = open_store(db)
    now = datetime.now(UTC)
    plan = erasing.plan_purge(engine, inactive_for, now)
    listed = [
        {"customer_id": row["customer_id"], "last_activity": row["last_activity"]}
        for row in plan.customers
    ]
    if as_json and dry_run:
        print_json({"since": plan.since.isoformat(), "customers": listed, "erased": 0})
        return
    if not as_json:
        out.print(
            f"{len(listed):,} customers without activity since {plan.since.date().isoformat()}"
        )
        for row in listed:
            at = row["last_activity"]
            out.print(f"  {row['customer_id']}  last activity {at.isoformat() if at else 'never'}")
    if dry_run or not listed:
        if not as_json:
            out.print("dry run: nothing was erased" if dry_run else "nothing to erase")
        else:
            print_json({"since": plan.since.isoformat(), "customers": listed, "erased": 0})
        return
    if not yes and not typer.confirm(f"Erase these {len(listed):,} customers?"):
        out.print("nothing was erased")
        raise typer.Exit(1)
    result = erasing.purge(engine, plan, actor=Actor.cli(), inactive_for=inactive_for, now=now)
    if as_json:
        print_json({**result, "customers": listed})
        return
    out.print(f"erased {result['erased']:,} customers")
