"""`relmark unsubscribe-mailbox poll`: honour the mailto: unsubscribes waiting in the
unsubscribe mailbox (RELMARK_IMAP_*) once; the engine does the same on its schedule."""

# Annotations stay evaluated (no __future__ import): see cli_base.

from typing import Annotated

import typer

from relmark.interfaces.cli_base import DbOption, JsonOption, app, friendly, out

mailbox_app = typer.Typer(
    help="The unsubscribe mailbox: mailto: unsubscribes read over IMAP.", no_args_is_help=True
)
app.add_typer(mailbox_app, name="unsubscribe-mailbox")


@mailbox_app.command("poll")
@friendly
def poll(
    db: DbOption = None,
    as_json: JsonOption = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="Print nothing when no mail.")] = False,
) -> None:
    """Read new mail in the unsubscribe mailbox and honour each unsubscribe in it.

    Each mail is matched by the signed token of the mailto: (in its subject) or by the
    message it replies to, and handled like the one-click link: consent withdrawn with
    proof, unsent messages held, an audit entry. Handled mail is marked seen.
    """
    from datetime import UTC, datetime

    from relmark.interfaces.interact_cli import interaction
    from relmark.unsubscribe_mailbox import poll as poll_mailbox

    report = poll_mailbox(interaction(db), datetime.now(UTC))
    if as_json:
        from relmark.interfaces.cli_base import print_json

        print_json(
            {
                "read": report.read,
                "unsubscribed": report.unsubscribed,
                "already": report.already,
                "ignored": report.ignored,
            }
        )
        return
    if quiet and not report.read:
        return
    out.print(
        f"{report.read} mails read: {report.unsubscribed} unsubscribed, "
        f"{report.already} already unsubscribed, {len(report.ignored)} ignored"
    )
    for item in report.ignored:
        out.print(f"  mail {item['uid']}: {item['why']}", markup=False)
