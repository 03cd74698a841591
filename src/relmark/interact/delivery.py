"""Delivery from the outbox: claim, compose, send, record — one message at a time.

Crash safety comes from the order of steps, each its own transaction: claim (planned →
sending), send, mark sent. A sender killed after the claim leaves the message in `sending`;
the next sender reclaims it and sends it again with the same Message-ID, so at most the one
message in flight at the kill can arrive twice, and receivers can tell it is the same.
Temporary failures retry with exponential backoff; permanent ones are recorded.

A message whose playbook makes an offer reserves it with the claim (store/offers.py): the
mail shows the stored code, every retry reuses it, marking the message sent issues it in the
same transaction, and a message that finally fails or is held voids it.

Quiet hours hold at the moment of sending too (`relmark.interact.quiet`): a due message whose
customer is in quiet hours by the sender's clock (`--as-of` included) stays planned. A dry run
(`relmark.interact.preview`) walks the same queue and renders without claiming anything.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import smtplib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import Engine

from relmark.enums import PURCHASE_STATUSES
from relmark.errors import RelmarkError
from relmark.interact import offer_issue
from relmark.interact.compose import (
    Branding,
    Composed,
    compose,
    email_message,
    webhook_payload,
)
from relmark.interact.confirmation import CONFIRMATION
from relmark.interact.offer_issue import OfferView
from relmark.interact.playbook import Playbook
from relmark.interact.policy import ContactPolicy
from relmark.interact.quiet import quiet_until, zone_of
from relmark.interact.templating import TemplateSet
from relmark.interact.tokens import Signer

if TYPE_CHECKING:
    import httpx
from relmark.store import offers, outbox, restriction, send_queue, transfer


class TemporaryFailure(RelmarkError):
    """Worth retrying later: the server is down, busy, or said 4xx."""


class PermanentFailure(RelmarkError):
    """Retrying will not help: bad address, refused content, missing data."""


class Transport(Protocol):
    def deliver(self, message: dict[str, Any], composed: Any, branding: Branding) -> None: ...

    def close(self) -> None: ...


@dataclass
class SmtpTransport:
    """One SMTP connection reused for every message; reconnects when the server drops it."""

    host: str
    port: int = 25
    user: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout: float = 30.0
    clock: Callable[[], datetime] = field(default=lambda: datetime.now().astimezone())
    _smtp: smtplib.SMTP | None = None

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is None:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            if self.starttls:
                smtp.starttls()
            if self.user:
                smtp.login(self.user, self.password or "")
            self._smtp = smtp
        return self._smtp

    def deliver(self, message: dict[str, Any], composed: Any, branding: Branding) -> None:
        if not composed.recipient:
            raise PermanentFailure("the customer has no e-mail address")
        email = email_message(composed, message, branding, self.clock())
        for attempt in (1, 2):
            try:
                refused = self._connection().send_message(email)
            except smtplib.SMTPServerDisconnected as exc:
                self._smtp = None
                if attempt == 2:
                    raise TemporaryFailure(f"SMTP server disconnected: {exc}") from None
                continue
            except smtplib.SMTPRecipientsRefused as exc:
                code, text = next(iter(exc.recipients.values()))
                raise _by_code(code, f"recipient refused: {code} {_text(text)}") from None
            except smtplib.SMTPResponseException as exc:
                raise _by_code(
                    exc.smtp_code, f"SMTP {exc.smtp_code} {_text(exc.smtp_error)}"
                ) from None
            except (OSError, smtplib.SMTPException) as exc:
                self._smtp = None
                raise TemporaryFailure(f"SMTP error: {exc}") from None
            if refused:
                code, text = next(iter(refused.values()))
                raise _by_code(code, f"recipient refused: {code} {_text(text)}")
            return

    def close(self) -> None:
        if self._smtp is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self._smtp.quit()
            self._smtp = None


def _text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def _by_code(code: int, text: str) -> RelmarkError:
    return TemporaryFailure(text) if 400 <= code < 500 else PermanentFailure(text)


@dataclass
class WebhookTransport:
    """POST the message as JSON, signed: `X-Relmark-Signature: sha256=HEX(HMAC(body))`."""

    url: str
    secret: str
    timeout: float = 10.0
    _client: httpx.Client | None = None

    def deliver(self, message: dict[str, Any], composed: Any, branding: Branding) -> None:
        if not composed.phone:
            raise PermanentFailure("the customer has no phone number")
        import httpx  # only the webhook channel needs an HTTP client

        body = json.dumps(webhook_payload(composed, message), ensure_ascii=False).encode()
        signature = hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
        if self._client is None:
            self._client = httpx.Client(timeout=self.timeout)
        try:
            response = self._client.post(
                self.url,
                content=body,
                headers={
                    "Content-Type": "application/json",
                    "X-Relmark-Signature": f"sha256={signature}",
                    "Idempotency-Key": message["idempotency_key"],
                },
            )
        except httpx.HTTPError as exc:
            raise TemporaryFailure(f"webhook unreachable: {exc}") from None
        if response.is_success:
            return
        text = f"webhook answered {response.status_code}"
        if response.status_code in (408, 425, 429) or response.status_code >= 500:
            raise TemporaryFailure(text)
        raise PermanentFailure(text)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


@dataclass
class SendOptions:
    as_of: Callable[[], datetime]
    """The clock deciding what is due (a fixed time with `--as-of`, else now)."""
    once: bool = True
    rate: float | None = None
    max_attempts: int = 5
    backoff: timedelta = timedelta(minutes=1)
    reclaim_after: timedelta = timedelta(minutes=5)
    batch: int = 500
    poll_seconds: float = 5.0
    limit: int | None = None
    stop: Callable[[], bool] | None = None
    """Checked between messages: True ends the run after the message in flight."""


@dataclass
class SendReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0
    reclaimed: int = 0
    expired: int = 0
    """Past their deadline when their turn came (e.g. a birthday after the customer's day
    ended during an outage): held `expired`, not sent."""
    quiet: int = 0
    """Due, but their customer is in quiet hours now: left planned for later."""
    quiet_until: datetime | None = None
    """When the first of those may go."""
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "retried": self.retried,
            "failed": self.failed,
            "skipped": self.skipped,
            "reclaimed": self.reclaimed,
            "expired": self.expired,
            "quiet": self.quiet,
            "quiet_until": self.quiet_until.isoformat() if self.quiet_until else None,
            "errors": self.errors[:20],
        }

    def wait_for_quiet(self, until: datetime) -> None:
        self.quiet += 1
        if self.quiet_until is None or until < self.quiet_until:
            self.quiet_until = until


@dataclass
class Sender:
    engine: Engine
    playbooks: dict[str, Playbook]
    templates: TemplateSet
    branding: Branding
    signer: Signer
    secret: str
    transports: dict[str, Transport]
    policy: ContactPolicy | None = None
    """Quiet hours to respect when sending; None sends whatever is due."""

    def run(
        self, options: SendOptions, progress: Callable[[int], None] | None = None
    ) -> SendReport:
        report = SendReport()
        interval = 1.0 / options.rate if options.rate else 0.0
        next_slot = time.monotonic()
        try:
            while True:
                now = options.as_of()
                with self.engine.begin() as connection:
                    # Claims are leases on the wall clock, whatever clock decides what is due.
                    report.reclaimed += outbox.reclaim_stale(
                        connection, datetime.now(UTC) - options.reclaim_after
                    )
                report.quiet, report.quiet_until = 0, None  # as of this pass
                handled = 0
                for message_id in self.due(now, options.batch, report):
                    if options.limit is not None and report.sent >= options.limit:
                        return report
                    if options.stop is not None and options.stop():
                        return report
                    if interval:
                        time.sleep(max(0.0, next_slot - time.monotonic()))
                        next_slot = max(next_slot, time.monotonic()) + interval
                    self._one(message_id, options, report)
                    handled += 1
                    if progress:
                        progress(1)
                if options.once:
                    return report
                if not handled:
                    time.sleep(options.poll_seconds)
        finally:
            for transport in self.transports.values():
                transport.close()

    def due(self, now: datetime, batch: int, report: SendReport) -> Iterator[int]:
        """Ids of the messages to send now, page by page in due order, skipping (and
        counting) those whose customer is in quiet hours: one pass over what is due."""
        after: tuple[datetime, int] | None = None
        while True:
            with self.engine.connect() as connection:
                rows = send_queue.due_messages(connection, now, batch, after)
            if not rows:
                return
            for row in rows:
                after = (row["due_at"], int(row["id"]))
                wait = self._quiet_until(row, now)
                if wait is not None:
                    report.wait_for_quiet(wait)
                    continue
                yield int(row["id"])

    def _quiet_until(self, row: dict[str, Any], now: datetime) -> datetime | None:
        # The double opt-in confirmation answers the customer's own request of a moment ago.
        if self.policy is None or row["playbook"] == CONFIRMATION.name:
            return None
        return quiet_until(now, zone_of(row["timezone"], self.branding.default_zone), self.policy)

    def compose(
        self,
        message: dict[str, Any],
        facts: dict[str, Any],
        share: bool,
        branding: Branding | None = None,
        offer: OfferView | None = None,
    ) -> Composed:
        """`branding` as read once for this message (a live sender's may change meanwhile);
        `offer` as reserved for it (or a preview's sample)."""
        book = self.playbooks.get(message["playbook"])
        if book is None:
            raise PermanentFailure(f"playbook {message['playbook']!r} no longer exists")
        composed = compose(
            message,
            facts,
            book,
            self.templates,
            branding or self.branding,
            self.signer,
            self.secret,
            offer,
        )
        return composed if share else replace(composed, share_personal=False)

    def _one(self, message_id: int, options: SendOptions, report: SendReport) -> None:
        branding = self.branding  # one reading: the body, the headers and the offer agree
        with self.engine.begin() as connection:
            if not outbox.claim(connection, message_id, datetime.now(UTC)):
                report.skipped += 1
                return
            message = outbox.message_row(connection, message_id)
            assert message is not None
            expires_at = message.get("expires_at")
            if expires_at is not None and options.as_of() >= expires_at:
                # The plan's deadline, checked again now: an outage between plan and send
                # must not let a birthday go out the day after (in the customer's zone).
                outbox.hold_claimed(connection, message_id, "expired")
                offers.void_for_message(connection, message_id, "message held", options.as_of())
                report.expired += 1
                return
            facts = outbox.render_facts(connection, message)
            if facts["customer"].get("restricted_at") is not None:
                restriction.hold_claimed(connection, message_id)
                offers.void_for_message(connection, message_id, "message held", options.as_of())
                report.skipped += 1
                return
            order = facts.get("order")
            if order is not None and order["status"] not in PURCHASE_STATUSES:
                # Planned ahead (the engine decides an order's messages when it arrives):
                # an order cancelled, returned or refunded since gets no thank-you for it
                # (a partial refund leaves a purchase: that one is thanked).
                outbox.hold_claimed(connection, message_id, "order_not_completed")
                offers.void_for_message(connection, message_id, "message held", options.as_of())
                report.skipped += 1
                return
            # A webhook hands the message to another system: personal data only with
            # consent to third-party sharing, else ids only (see relmark.store.transfer).
            share = message["channel"] != "webhook" or transfer.may_share(
                connection, int(message["customer_id"])
            )
            # The code the mail shows is the stored one (the same on every attempt).
            book = self.playbooks.get(message["playbook"])
            offer = None
            if book is not None:
                offer = offer_issue.reserve(
                    connection, message, facts, book, branding.default_zone, options.as_of()
                )
        try:
            transport = self.transports.get(message["channel"])
            if transport is None:
                raise PermanentFailure(f"no transport configured for {message['channel']!r}")
            composed = self.compose(message, facts, share, branding, offer)
            transport.deliver(message, composed, branding)
        except TemporaryFailure as exc:
            self._retry_or_fail(message, str(exc), options, report)
            return
        except (RelmarkError, ValueError) as exc:
            # Permanent, a template that cannot render, or a header the mail library refuses
            # (a value no setting should let through): this message fails, the run goes on.
            with self.engine.begin() as connection:
                outbox.mark_failed(connection, message_id, str(exc))
                offers.void_for_message(connection, message_id, "message failed", options.as_of())
            report.failed += 1
            report.errors.append(f"message {message_id}: {exc}")
            return
        with self.engine.begin() as connection:
            sent_at = options.as_of()
            outbox.mark_sent(connection, message_id, sent_at)
            offers.issue(connection, message_id, sent_at)  # the promise exists once it went
        report.sent += 1

    def _retry_or_fail(
        self, message: dict[str, Any], error: str, options: SendOptions, report: SendReport
    ) -> None:
        attempts = int(message["attempts"])
        with self.engine.begin() as connection:
            if attempts >= options.max_attempts:
                outbox.mark_failed(connection, message["id"], f"gave up after {attempts}: {error}")
                offers.void_for_message(
                    connection, message["id"], "message failed", options.as_of()
                )
                report.failed += 1
                report.errors.append(f"message {message['id']}: {error}")
                return
            wait = options.backoff * (2 ** (attempts - 1))
            outbox.mark_retry(connection, message["id"], error, options.as_of() + wait)
        report.retried += 1
