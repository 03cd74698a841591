"""`relmark` commands of the interact stage: playbooks, policy, consent, plan, send, explain,
uplift. Registered on the shared app by importing this module."""

# Annotations stay evaluated (no __future__ import): see cli_base.

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from relmark.enums import ConsentPurpose, ConsentStatus
from relmark.errors import InvalidInput
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
    report_app,
)

if TYPE_CHECKING:
    from relmark.interaction import Interaction

AsOf = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="The clock: YYYY-MM-DD (end of day, UTC) or an ISO timestamp; default now.",
        show_default=False,
    ),
]
PlaybooksDir = Annotated[
    Path | None,
    typer.Option(
        "--playbooks",
        help="Folder of playbook files (overrides RELMARK_PLAYBOOKS_DIR).",
        show_default=False,
    ),
]


def interaction(db: str | None, playbooks: Path | None = None) -> "Interaction":
    """The interact stage over the store, imported only by the commands that use it."""
    from relmark.config import get_settings
    from relmark.interaction import Interaction

    settings = get_settings()
    return Interaction(
        open_store(db),
        settings,
        playbooks_dir=playbooks or settings.playbooks_dir,
        templates_dir=settings.templates_dir,
    )


# --- playbooks ------------------------------------------------------------------------------

playbooks_app = typer.Typer(help="The relationship playbooks.", no_args_is_help=True)
app.add_typer(playbooks_app, name="playbooks")


@playbooks_app.command("list")
@friendly
def playbooks_list(
    db: DbOption = None, playbooks: PlaybooksDir = None, as_json: JsonOption = False
) -> None:
    """Every playbook, whether it runs (and if not why), and how. Playbooks that promise
    money or goods stay off until enabled here: `relmark playbooks enable NAME`."""
    print_rows(
        interaction(db, playbooks).playbook_list(),
        as_json,
        {
            "name": lambda r: r["name"],
            "trigger": lambda r: r["trigger"],
            "purpose": lambda r: r["purpose"],
            "priority": lambda r: str(r["priority"]),
            "cost": lambda r: r["cost"],
            "control": lambda r: f"{r['control_share']:.0%}",
            "enabled": lambda r: "yes" if r["enabled"] else f"no: {r['reason']}",
        },
    )


@playbooks_app.command("check")
@friendly
def playbooks_check(
    folder: Annotated[Path, typer.Argument(help="Folder of *.toml files.")],
) -> None:
    """Validate a folder of playbooks; every problem is listed with file and field (a gift
    offer must name a key of the gift catalogue, RELMARK_GIFTS_DIR or the shipped one)."""
    from relmark.config import get_settings
    from relmark.interact.gift_catalogue import load_gifts
    from relmark.interact.playbook import load_playbooks

    books = load_playbooks(folder, gift_keys=lambda: set(load_gifts(get_settings().gifts_dir)))
    out.print(f"{len(books)} playbooks are valid: {', '.join(b.name for b in books)}")


@playbooks_app.command("copy")
@friendly
def playbooks_copy(
    folder: Annotated[Path, typer.Argument(help="Where to write the shipped playbooks.")],
) -> None:
    """Copy the shipped playbooks into a folder, to edit them (existing files are kept)."""
    from relmark.interact.playbook import shipped_files

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in sorted(shipped_files().items()):
        target = folder / name
        if not target.exists():
            target.write_text(content, encoding="utf-8")
            written.append(name)
    out.print(f"{len(written)} files written to {folder}; use them with --playbooks {folder}")


def _toggle(name: str, enabled: bool, db: str | None, playbooks: Path | None) -> None:
    interaction(db, playbooks).enable(name, enabled, datetime.now(UTC))
    out.print(f"playbook {name} {'enabled' if enabled else 'disabled'}")


@playbooks_app.command("enable")
@friendly
def playbooks_enable(name: str, db: DbOption = None, playbooks: PlaybooksDir = None) -> None:
    """Let a playbook run (a playbook with an offer: once the offer is what the shop means)."""
    _toggle(name, True, db, playbooks)


@playbooks_app.command("disable")
@friendly
def playbooks_disable(name: str, db: DbOption = None, playbooks: PlaybooksDir = None) -> None:
    """Stop a playbook from planning anything (planned messages stay)."""
    _toggle(name, False, db, playbooks)


# --- contact policy -------------------------------------------------------------------------

policy_app = typer.Typer(help="Caps, spacing and quiet hours.", no_args_is_help=True)
app.add_typer(policy_app, name="policy")


@policy_app.command("show")
@friendly
def policy_show(db: DbOption = None) -> None:
    """The contact policy in force."""
    print_json(interaction(db).policy().model_dump(mode="json"))


@policy_app.command("set")
@friendly
def policy_set(
    changes: Annotated[
        list[str], typer.Argument(help="KEY=VALUE pairs, e.g. max_per_7_days=1 quiet_start=22:00")
    ],
    db: DbOption = None,
) -> None:
    """Change the contact policy (validated as a whole; a bad value changes nothing)."""
    parsed: dict[str, Any] = {}
    for change in changes:
        key, sep, value = change.partition("=")
        if not sep:
            raise InvalidInput.single("policy set", f"{change!r} is not KEY=VALUE")
        parsed[key.strip()] = (
            [v for v in value.split(",") if v]
            if "purposes" in key or (key.startswith("below_standard"))
            else (None if value.strip().lower() in ("", "none") else value.strip())
        )
    print_json(interaction(db).set_policy(parsed, datetime.now(UTC)).model_dump(mode="json"))


# --- consent --------------------------------------------------------------------------------

consent_app = typer.Typer(help="Consent statements with proof.", no_args_is_help=True)
app.add_typer(consent_app, name="consent")

Purpose = Annotated[str, typer.Option(help="marketing, service, profiling or third_party_sharing.")]
ChannelOpt = Annotated[str, typer.Option(help="email, sms, phone or post.")]


def _consent(
    customer: int,
    status: ConsentStatus,
    purpose: str,
    channel: str,
    source: str,
    proof: str,
    wording: str | None,
    db: str | None,
) -> None:
    if purpose not in {p.value for p in ConsentPurpose}:
        known = "/".join(p.value for p in ConsentPurpose)
        raise InvalidInput.single("--purpose", f"{purpose!r} is not {known}")
    if channel not in ("email", "sms", "phone", "post"):
        raise InvalidInput.single("--channel", f"{channel!r} is not email/sms/phone/post")
    result = interaction(db).record_consent(
        customer,
        purpose=purpose,
        channel=channel,
        status=status,
        source=source,
        proof=proof,
        wording_version=wording,
        now=datetime.now(UTC),
    )
    if result["consent_id"] is None:
        out.print(f"customer {customer}: {purpose}/{channel} is already {result['status']}")
        return
    pending = (
        f"; pending until the customer confirms (confirmations queued: "
        f"{result['confirmations_queued']})"
        if result["status"] == ConsentStatus.PENDING.value
        else ""
    )
    out.print(
        f"customer {customer}: {purpose}/{channel} {result['status']} "
        f"(statement {result['consent_id']}); unsent messages held: {result['messages_held']}"
        f"{pending}"
    )


@consent_app.command("grant")
@friendly
def consent_grant(
    customer: int,
    proof: Annotated[str, typer.Option(help="What shows the consent: form id, call note…")],
    purpose: Purpose = "marketing",
    channel: ChannelOpt = "email",
    source: Annotated[str, typer.Option(help="Where it was given.")] = "cli",
    wording: Annotated[str | None, typer.Option(help="Version of the consent text.")] = None,
    db: DbOption = None,
) -> None:
    """Record that a customer gave consent, with its proof."""
    _consent(customer, ConsentStatus.GRANTED, purpose, channel, source, proof, wording, db)


@consent_app.command("withdraw")
@friendly
def consent_withdraw(
    customer: int,
    proof: Annotated[str, typer.Option(help="How the customer withdrew it.")],
    purpose: Purpose = "marketing",
    channel: ChannelOpt = "email",
    source: Annotated[str, typer.Option(help="Where it was withdrawn.")] = "cli",
    db: DbOption = None,
) -> None:
    """Record a withdrawal; every unsent message of that purpose is held at once."""
    _consent(customer, ConsentStatus.WITHDRAWN, purpose, channel, source, proof, None, db)


@consent_app.command("double-opt-in")
@friendly
def consent_double_opt_in(
    state: Annotated[
        str | None, typer.Argument(help="on or off; without it, shows the setting.")
    ] = None,
    db: DbOption = None,
) -> None:
    """Double opt-in for e-mail marketing: a new consent waits, pending, for the customer's
    click on a confirmation message (queued in the outbox) before it counts."""
    relmark = interaction(db)
    if state is not None:
        if state not in ("on", "off"):
            raise InvalidInput.single("state", f"{state!r} is not on or off")
        relmark.set_double_opt_in(state == "on", datetime.now(UTC))
    out.print(f"double opt-in for e-mail marketing: {'on' if relmark.double_opt_in() else 'off'}")


@consent_app.command("show")
@friendly
def consent_show(customer: int, db: DbOption = None, as_json: JsonOption = False) -> None:
    """The consent that holds per purpose and channel, and every statement (the proof)."""
    from relmark.store import consents
    from relmark.store.restriction import restriction_of

    engine = open_store(db)
    with engine.connect() as connection:
        held = consents.effective(consents.latest_statements(connection, customer_id=customer))
        trail = consents.statements_of(connection, customer)
        restriction = restriction_of(connection, customer)
    data = {"restriction": restriction, "holds": held.drop("id").to_dicts(), "statements": trail}
    if as_json:
        print_json(data)
        return
    if restriction["restricted"]:
        why = f" ({restriction['reason']})" if restriction["reason"] else ""
        out.print(
            f"RESTRICTED since {str(restriction['restricted_at'])[:19]}{why}: stored only, "
            "not scored, sent nothing, exported to no other system",
            markup=False,
        )
    table = Table("purpose", "channel", "status", "since", "source", "proof")
    for row in data["holds"]:
        table.add_row(
            row["purpose"],
            row["channel"],
            row["status"],
            str(row["recorded_at"])[:19],
            row["source"],
            row["proof"] or "",
        )
    out.print(table)
    out.print(f"{len(trail)} statements on record")


@app.command()
@friendly
def unsubscribe(
    token: Annotated[str, typer.Argument(help="The token of an unsubscribe link or mailto.")],
    db: DbOption = None,
) -> None:
    """Process an unsubscribe token (e.g. from a mailto unsubscribe request)."""
    result = interaction(db).unsubscribe(token, datetime.now(UTC), via="mailto")
    out.print(
        f"customer {result['customer_id']} unsubscribed from {result['purpose']}; "
        f"unsent messages held: {result['messages_held']}"
    )


@app.command()
@friendly
def restrict(
    customer: int,
    lift: Annotated[bool, typer.Option("--lift", help="Lift the restriction.")] = False,
    reason: Annotated[
        str | None, typer.Option(help="Why (the customer's request, a contested record…).")
    ] = None,
    db: DbOption = None,
) -> None:
    """Restrict processing for a customer (GDPR art. 18): stored only, not scored, sent
    nothing, exported to no other system, until lifted."""
    from relmark.store.audit import Actor

    result = interaction(db).restrict(
        customer, not lift, datetime.now(UTC), actor=Actor.cli(), reason=reason
    )
    state = "lifted" if lift else f"set; unsent messages held: {result['messages_held']}"
    out.print(f"customer {customer}: restriction {state}")


# --- plan, send, explain --------------------------------------------------------------------


@app.command()
@friendly
def plan(
    as_of: AsOf = None,
    db: DbOption = None,
    playbooks: PlaybooksDir = None,
    as_json: JsonOption = False,
) -> None:
    """Evaluate the playbooks and put every decision in the outbox (planning twice plans
    nothing new)."""
    moment = parse_moment(as_of, "--as-of")
    result = interaction(db, playbooks).plan(moment, datetime.now(UTC))
    summary = result.summary()
    if as_json:
        print_json(summary)
        return
    out.print(
        f"plan {summary['run_id']} as of {summary['as_of'][:19]}: {summary['candidates']:,} "
        f"candidates, {summary['planned']:,} planned "
        f"({summary['deferred_for_quiet_hours']:,} deferred for quiet hours)"
    )
    table = Table("playbook", "planned", "held (by reason)")
    for name, counts in summary["playbooks"].items():
        held = ", ".join(f"{k} {v:,}" for k, v in counts["held"].items())
        table.add_row(name, f"{counts['planned']:,}", held)
    out.print(table)


@app.command("explain-message")
@friendly
def explain_message(
    customer: Annotated[str, typer.Argument(help="Customer id or e-mail address.")],
    playbook: str,
    as_of: AsOf = None,
    db: DbOption = None,
    playbooks: PlaybooksDir = None,
    as_json: JsonOption = False,
) -> None:
    """Why did this customer (not) get this playbook's message? An e-mail address names
    the person's live profile (the survivor of any merge)."""
    from relmark.interfaces.customer_ref import customer_id_of

    moment = parse_moment(as_of, "--as-of")
    relmark = interaction(db, playbooks)
    with relmark.engine.connect() as connection:
        customer_id = customer_id_of(connection, customer)
    data = relmark.explain(customer_id, playbook, moment, datetime.now(UTC))
    if as_json:
        print_json(data)
        return
    out.print(f"customer {customer_id}, playbook {playbook}", markup=False)
    if not data["messages"]:
        out.print("  no message of this playbook so far")
    for m in data["messages"]:
        why = f" — {m['reason']}" if m["reason"] else ""
        detail = f" {m['detail']}" if m["detail"] else ""
        out.print(
            f"  {str(m['due_at'])[:16]} {m['occasion']}: {m['status']}{why}{detail}", markup=False
        )
    for w in data["if_planned_now"]:
        out.print(f"  if planned now: {w.get('status') or '-'} ({w.get('reason') or 'ok'})")


@report_app.command("uplift")
@friendly
def report_uplift(
    playbook: Annotated[str | None, typer.Option(help="Only this playbook.")] = None,
    window_days: Annotated[int, typer.Option(min=1, max=90)] = 7,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Conversion and revenue per customer, treated vs control, with 95% intervals."""
    data = interaction(db).uplift(playbook, window_days)
    if as_json:
        print_json(data)
        return
    table = Table(
        "playbook",
        "treated",
        "control",
        "conv. treated",
        "conv. control",
        "uplift (95% CI)",
        f"revenue/customer uplift ({data['currency']})",
        f"offers' cost ({data['currency']})",
        "return on cost (95% CI)",
        title=f"Uplift: orders within {window_days} days of the message",
    )
    money = lambda v: f"{v:,.2f}"  # noqa: E731
    for r in data["playbooks"]:
        table.add_row(
            r["playbook"],
            f"{r['treated']:,}",
            f"{r['control']:,}",
            _pct(r["conversion_treated"]),
            _pct(r["conversion_control"]),
            _interval(r["conversion_uplift"], r["conversion_uplift_ci95"], _pct),
            _interval(r["revenue_uplift"], r["revenue_uplift_ci95"], money),
            "—" if r.get("offers_cost") is None else money(r["offers_cost"]),
            _interval(r.get("return_on_cost"), r.get("return_on_cost_ci95"), money),
        )
    out.print(table)
    for r in data["playbooks"]:
        if r.get("offers") and r.get("return_note"):
            out.print(f"{r['playbook']}: no return on cost: {r['return_note']}", markup=False)
        if r.get("offers_cost_in_other_currencies"):
            out.print(
                f"{r['playbook']}: {r['offers_cost_in_other_currencies']} offer cost(s) in "
                f"other currencies than {data['currency']} left out",
                markup=False,
            )


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _interval(value: float | None, ci: list[float] | None, fmt: Any) -> str:
    if value is None or ci is None:
        return "—"
    return f"{fmt(value)} ({fmt(ci[0])} … {fmt(ci[1])})"
