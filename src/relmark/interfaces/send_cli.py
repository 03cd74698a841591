"""`relmark send`: deliver due messages, or rehearse first (a dry run to the terminal or to
.eml files, a test send to the operator). Registered on the shared app by importing this
module."""

# Annotations stay evaluated (no __future__ import): see cli_base.

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from relmark.errors import InvalidInput
from relmark.interfaces.cli_base import (
    DbOption,
    JsonOption,
    app,
    err,
    friendly,
    out,
    parse_moment,
    print_json,
)
from relmark.interfaces.interact_cli import AsOf, PlaybooksDir, interaction

if TYPE_CHECKING:
    from relmark.interact.delivery import SendReport
    from relmark.interact.preview import Preview
    from relmark.interaction import Interaction

#: A dry run without --limit shows this many messages (and counts the rest).
DRY_RUN_SHOWN = 20
FIRST_LINES = 4


@app.command()
@friendly
def send(
    once: Annotated[
        bool, typer.Option("--once/--loop", help="Deliver what is due and exit, or keep going.")
    ] = True,
    as_of: AsOf = None,
    rate: Annotated[
        str | None, typer.Option(help="At most this many per second, e.g. 50/s.")
    ] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Stop after this many.")] = None,
    reclaim_after: Annotated[
        int, typer.Option(min=0, help="Seconds after which a claimed, unsent message is retried.")
    ] = 300,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Render what would go out, change nothing (first "
            f"{DRY_RUN_SHOWN} unless --limit).",
        ),
    ] = False,
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="With --dry-run: write each message to this folder as an .eml file "
            "(webhook messages as .json).",
            show_default=False,
        ),
    ] = None,
    test_to: Annotated[
        str | None,
        typer.Option(
            "--test-to",
            help="Send one sample of each enabled playbook to this address, marked as a "
            "test; the outbox is not touched.",
            show_default=False,
        ),
    ] = None,
    db: DbOption = None,
    playbooks: PlaybooksDir = None,
    as_json: JsonOption = False,
) -> None:
    """Deliver due messages from the outbox (SMTP e-mail, webhook); or rehearse with
    --dry-run / --test-to."""
    from relmark.interact.delivery import SendOptions
    from relmark.send_warnings import send_warnings

    if out_dir is not None and not dry_run:
        raise InvalidInput.single("--out", "only with --dry-run (a real send writes no files)")
    if dry_run and test_to:
        raise InvalidInput.single("--test-to", "not with --dry-run: choose one rehearsal")
    fixed = parse_moment(as_of, "--as-of") if as_of else None
    options = SendOptions(
        as_of=(lambda: fixed) if fixed else (lambda: datetime.now(UTC)),
        once=once,
        rate=_rate(rate),
        limit=limit,
        reclaim_after=timedelta(seconds=reclaim_after),
    )
    relmark = interaction(db, playbooks)
    if dry_run:
        _dry_run(relmark, options, limit or DRY_RUN_SHOWN, out_dir, as_json)
        return
    for warning in send_warnings(relmark.branding()):
        err.print(f"WARNING: {warning}", style="bold yellow", markup=False, soft_wrap=True)
    if test_to:
        _test_send(relmark, test_to, as_json)
        return
    started = time.perf_counter()
    report = relmark.send(options)
    data = report.as_dict() | {"seconds": round(time.perf_counter() - started, 2)}
    waiting = _quiet_line(relmark, options.as_of(), report, data)
    if as_json:
        print_json(data)
        return
    out.print(
        f"sent {report.sent:,}, retrying {report.retried:,}, failed {report.failed:,} "
        f"in {data['seconds']} s"
    )
    if report.expired:
        out.print(f"held {report.expired:,} as expired: too late to send (see outbox --expired)")
    if waiting:
        out.print(waiting, markup=False, soft_wrap=True)
    for line in report.errors[:10]:
        out.print(f"  {line}", markup=False, soft_wrap=True)


def _quiet_line(
    relmark: "Interaction", now: datetime, report: "SendReport", data: dict[str, Any]
) -> str | None:
    """'N wait for quiet hours until …' in the store's timezone; fills the JSON fields."""
    from zoneinfo import ZoneInfo

    from relmark.rehearsal import waiting_for_quiet_hours

    count, until = waiting_for_quiet_hours(relmark, now, report)
    zone = relmark.branding().default_zone
    local = until.astimezone(ZoneInfo(zone)) if until else None
    data["waiting_for_quiet_hours"] = count
    data["quiet_hours_until"] = local.isoformat(timespec="minutes") if local else None
    if not count or local is None:
        return None
    return (
        f"{count:,} waiting for quiet hours to end; the first may go at "
        f"{local:%Y-%m-%d %H:%M} ({zone})"
    )


def _dry_run(
    relmark: "Interaction",
    options: Any,
    limit: int,
    folder: Path | None,
    as_json: bool,
) -> None:
    from relmark.rehearsal import dry_run

    shown, more, report = dry_run(relmark, options, limit)
    data: dict[str, Any] = {
        "would_send": [_summary(p) for p in shown],
        "more": more,
        "folder": str(folder) if folder else None,
    }
    if folder is not None:
        for preview in shown:
            _write(folder, preview)
    waiting = _quiet_line(relmark, options.as_of(), report, data)
    if as_json:
        print_json(data)
        return
    for preview in shown:
        _print_preview(preview)
    written = f"; written to {folder}" if folder is not None else ""
    out.print(
        f"dry run: {_count(len(shown), 'message')} shown, {more:,} more due{written}; "
        "nothing was sent or changed",
        markup=False,
        soft_wrap=True,
    )
    if waiting:
        out.print(waiting, markup=False, soft_wrap=True)


def _summary(preview: "Preview") -> dict[str, Any]:
    return {
        "message_id": preview.message_id,
        "playbook": preview.playbook,
        "channel": preview.channel,
        "customer_id": preview.customer_id,
        "to": preview.to,
        "subject": preview.subject,
        "first_lines": _first_lines(preview.text),
        "problem": preview.error,
    }


def _first_lines(text: str | None) -> list[str]:
    lines = [line.rstrip() for line in (text or "").splitlines() if line.strip()]
    return lines[:FIRST_LINES]


def _print_preview(preview: "Preview") -> None:
    head = f"#{preview.message_id} {preview.playbook} → {preview.to or '(no address)'}"
    out.print(head, style="bold", markup=False, soft_wrap=True)
    if preview.error:
        out.print(
            f"  would not go out: {preview.error}", style="yellow", markup=False, soft_wrap=True
        )
        return
    out.print(f"  Subject: {preview.subject}", markup=False, soft_wrap=True)
    for line in _first_lines(preview.text):
        out.print(f"  | {line}", markup=False, soft_wrap=True)


def _write(folder: Path, preview: "Preview") -> None:
    """One file per message: the RFC 5322 bytes SMTP would carry, or the webhook's JSON."""
    import json

    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{preview.message_id:08d}-{preview.playbook}"
    if preview.email is not None:
        (folder / f"{stem}.eml").write_bytes(preview.email.as_bytes())
    elif preview.payload is not None:
        text = json.dumps(preview.payload, ensure_ascii=False, indent=2, default=str)
        (folder / f"{stem}.json").write_text(text, encoding="utf-8")


def _test_send(relmark: "Interaction", to: str, as_json: bool) -> None:
    from relmark.rehearsal import send_samples

    sent = send_samples(relmark, to, datetime.now(UTC))
    if as_json:
        print_json({"test_to": to, "sent": sent})
        return
    for row in sent:
        source = (
            f"from customer {row['from_customer']}"
            if row["from_customer"] is not None
            else "made-up customer"
        )
        out.print(f"  {row['playbook']}: {row['subject']} ({source})", markup=False, soft_wrap=True)
    out.print(
        f"{len(sent)} test messages sent to {to}; the outbox is unchanged",
        markup=False,
        soft_wrap=True,
    )


def _rate(value: str | None) -> float | None:
    if value is None:
        return None
    number = value.strip().removesuffix("/s")
    try:
        rate = float(number)
    except ValueError:
        raise InvalidInput.single("--rate", f"{value!r} is not N/s (e.g. 50/s)") from None
    if rate <= 0:
        raise InvalidInput.single("--rate", "must be above zero")
    return rate


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"
