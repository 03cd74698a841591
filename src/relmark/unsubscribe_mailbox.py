"""The mailto: unsubscribe, honoured: read the unsubscribe mailbox over IMAP and withdraw the
consent each mail asks to withdraw, exactly as the https one-click link does (same consent
statement with its proof, same held messages, same audit entry).

A mail is matched to the message it answers by the signed token the mailto: put in its
subject (a mail program sends it unchanged), or else by the Message-ID it replies to
(In-Reply-To / References), when it comes from the address that message went to. Each mail
handled is marked \\Seen, so the next poll skips it; mail is read with BODY.PEEK, so a poll
that fails half-way (the store down) leaves the rest unseen for the next one, and a mail
handled twice is harmless (an unsubscribe is idempotent). Automatic replies are ignored.
"""

from __future__ import annotations

import contextlib
import email
import imaplib
import re
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.utils import parseaddr
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from relmark import customer_links
from relmark.config import Settings
from relmark.errors import RelmarkError
from relmark.interact.tokens import InvalidToken, LinkClaim, LinkKind, Signer
from relmark.store.models import Customer, Message

if TYPE_CHECKING:
    from relmark.interaction import Interaction

#: What itsdangerous' URL-safe tokens look like: payload, a dot, the signature.
TOKEN = re.compile(r"\.?[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{20,}")  # a leading dot: compressed
MESSAGE_ID = re.compile(r"<[^<>\s]{1,250}>")
#: Only the start of a body is searched for a token: a mail program puts it first.
BODY_CHARACTERS = 20_000
#: At most this many mails per poll: the rest wait for the next one.
MAX_PER_POLL = 500


@dataclass
class MailboxReport:
    read: int = 0
    unsubscribed: int = 0
    already: int = 0
    ignored: list[dict[str, str]] = field(default_factory=list)
    """Mails that asked for nothing relmark could honour, and why (marked seen)."""


class MailboxError(RelmarkError):
    """The unsubscribe mailbox is not configured or cannot be read."""


def poll(relmark: Interaction, now: datetime) -> MailboxReport:
    """Handle every unseen mail in the unsubscribe mailbox once."""
    settings = relmark.settings
    report = MailboxReport()
    signer = relmark.signer(now)
    with _mailbox(settings) as imap:
        uids = _ok(imap.uid("SEARCH", None, "UNSEEN"), "search")[0].split()
        for uid in uids[:MAX_PER_POLL]:
            raw = _body(_ok(imap.uid("FETCH", uid, "(BODY.PEEK[])"), "fetch"))
            if raw is None:
                continue
            report.read += 1
            mail = email.message_from_bytes(raw, policy=policy.default)
            outcome = handle(relmark, mail, now, signer)  # type: ignore[arg-type]
            if outcome == "unsubscribed":
                report.unsubscribed += 1
            elif outcome == "already":
                report.already += 1
            else:
                report.ignored.append({"uid": uid.decode(), "why": outcome})
            _ok(imap.uid("STORE", uid, "+FLAGS", "(\\Seen)"), "mark seen")
    return report


def handle(
    relmark: Interaction, mail: EmailMessage, now: datetime, signer: Signer | None = None
) -> str:
    """'unsubscribed', 'already', or why the mail was not honoured."""
    automatic = str(mail.get("Auto-Submitted", "no")).strip().lower()
    if automatic != "no":
        return f"an automatic mail (Auto-Submitted: {automatic[:40]})"
    sender = parseaddr(str(mail.get("From", "")))[1].strip().lower()
    signer = signer or relmark.signer(now)
    for token in _tokens(mail):
        try:
            claim = signer.verify(LinkKind.UNSUBSCRIBE, token)
        except InvalidToken:
            continue
        evidence = f"mailto: unsubscribe from {sender or 'an unnamed sender'}"
        return _unsubscribe(relmark, token, claim.message_id, now, evidence)
    replied = _replied_to(mail)
    if not replied:
        return "no unsubscribe token and no reply to a message of ours"
    with relmark.engine.connect() as connection:
        row = connection.execute(
            select(Message.id, Message.customer_id, Message.purpose, Message.rfc_message_id)
            .where(Message.rfc_message_id.in_(replied))
            .order_by(Message.id.desc())
        ).first()
        if row is None:
            return "replies to no message in the outbox"
        live = customer_links.profile_of(connection, int(row.customer_id))
        address = connection.execute(select(Customer.email).where(Customer.id == live)).scalar()
    if row.purpose == "transactional":
        return "replies to a transactional message (nothing to unsubscribe from)"
    if not sender or (address or "").strip().lower() != sender:
        return "replies to a message of ours from another address than the recipient's"
    token = signer.sign(
        LinkClaim(LinkKind.UNSUBSCRIBE, int(row.id), int(row.customer_id), str(row.purpose))
    )
    evidence = f"mailto: reply to {row.rfc_message_id} from the recipient's address {sender}"
    return _unsubscribe(relmark, token, int(row.id), now, evidence)


def _unsubscribe(
    relmark: Interaction, token: str, message_id: int, now: datetime, evidence: str
) -> str:
    result = customer_links.unsubscribe(
        relmark, token, now, via="mailto", origin="unsubscribe mailbox", evidence=evidence
    )
    return "already" if result.get("already") else "unsubscribed"


def _tokens(mail: EmailMessage) -> list[str]:
    """Token-shaped words of the subject, then of the start of the text body."""
    found = TOKEN.findall(str(mail.get("Subject", "")))
    with contextlib.suppress(Exception):  # a malformed body is no reason to stop
        body = mail.get_body(("plain",))
        if body is not None:
            found += TOKEN.findall(str(body.get_content())[:BODY_CHARACTERS])
    return list(dict.fromkeys(found))


def _replied_to(mail: EmailMessage) -> list[str]:
    ids: list[str] = []
    for header in ("In-Reply-To", "References"):
        ids += MESSAGE_ID.findall(str(mail.get(header, "")))
    return list(dict.fromkeys(ids))[:20]


@contextlib.contextmanager
def _mailbox(settings: Settings) -> Iterator[imaplib.IMAP4]:
    if not settings.imap_host:
        raise MailboxError(
            "no unsubscribe mailbox is configured: set RELMARK_IMAP_HOST (and _USER, "
            "_PASSWORD, _MAILBOX, _TLS)"
        )
    where = f"{settings.imap_host}:{_port(settings)}"
    try:
        imap = _connect(settings)
    except (OSError, imaplib.IMAP4.error) as exc:
        raise MailboxError(f"cannot reach the unsubscribe mailbox at {where}: {exc}") from None
    try:
        if settings.imap_user:
            password = settings.imap_password.get_secret_value() if settings.imap_password else ""
            imap.login(settings.imap_user, password)
        status, _ = imap.select(_quoted(settings.imap_mailbox))
        if status != "OK":
            raise MailboxError(f"{where} has no mailbox {settings.imap_mailbox!r}")
        yield imap
    except imaplib.IMAP4.error as exc:
        raise MailboxError(f"the unsubscribe mailbox at {where} refused: {exc}") from None
    finally:
        with contextlib.suppress(Exception):
            imap.logout()


def _port(settings: Settings) -> int:
    return settings.imap_port or (993 if settings.imap_tls == "ssl" else 143)


def _connect(settings: Settings) -> imaplib.IMAP4:
    host, port, timeout = settings.imap_host or "", _port(settings), settings.imap_timeout
    if settings.imap_tls == "ssl":
        return imaplib.IMAP4_SSL(
            host, port, ssl_context=ssl.create_default_context(), timeout=timeout
        )
    imap = imaplib.IMAP4(host, port, timeout=timeout)
    if settings.imap_tls == "starttls":
        imap.starttls(ssl.create_default_context())
    return imap


def _quoted(mailbox: str) -> str:
    return '"' + mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _ok(response: tuple[str, list[Any]], what: str) -> list[Any]:
    status, data = response
    if status != "OK":
        raise MailboxError(f"the unsubscribe mailbox refused to {what}: {data}")
    return data


def _body(data: list[Any]) -> bytes | None:
    for part in data:
        if isinstance(part, tuple) and len(part) == 2 and isinstance(part[1], bytes):
            return part[1]
    return None
