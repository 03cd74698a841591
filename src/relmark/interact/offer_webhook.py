"""Offer events to the shop's webhook, signed like the message webhook
(`X-Relmark-Signature: sha256=HEX(HMAC-SHA256(secret, body))`), so its checkout knows every
code relmark promised and when one is used up, expires or is voided.

At least once, recognisably: each event carries `Idempotency-Key: <code>:<event>` (also in
the body as `id`). An event is marked delivered only after a 2xx; a sender killed between
the shop's answer and that mark sends the same event again with the same key, so the shop
applies it once. 5xx, 408/425/429 and network errors retry with exponential backoff; other
4xx answers and the last attempt mark the event failed (kept, counted in `relmark offers
webhooks status`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine

from relmark.errors import RelmarkError
from relmark.store import offer_export, offer_webhooks

if TYPE_CHECKING:
    import httpx

    from relmark.config import Settings


@dataclass
class WebhookOptions:
    max_attempts: int = 8
    backoff: timedelta = timedelta(minutes=1)
    """The wait after the first failure; doubled after each further one (at most a day)."""
    reclaim_after: timedelta = timedelta(minutes=5)
    timeout: float = 10.0
    batch: int = 200
    limit: int | None = None
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))


@dataclass
class WebhookReport:
    queued: int = 0
    delivered: int = 0
    retried: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    configured: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {
            "configured": self.configured,
            "queued": self.queued,
            "delivered": self.delivered,
            "retried": self.retried,
            "failed": self.failed,
            "errors": self.errors[:20],
        }

    def summary(self) -> str:
        if not self.configured:
            return "no offers webhook configured (shop setting offers_webhook_url)"
        return (
            f"offer events: {self.queued} queued, {self.delivered} delivered, "
            f"{self.retried} to retry, {self.failed} failed"
        )


def payload(data: dict[str, Any]) -> dict[str, Any]:
    """The JSON the shop receives for one event."""
    currency = data["currency"]
    if data["percent_off"] is not None:
        value: dict[str, Any] = {"percent_off": offer_export.percent_text(data["percent_off"])}
    elif data["amount_minor"] is not None:
        value = {"amount": offer_export.major(data["amount_minor"], currency), "currency": currency}
    else:
        value = {"gift": data["gift"]}
    min_order = data["min_order_minor"]
    return {
        "id": idempotency_key(data),
        "event": data["event"],
        "code": data["code"],
        "kind": data["kind"],
        "status": data["status"],
        "value": value,
        "issued_at": _iso(data["issued_at"]),
        "expires_at": _iso(data["expires_at"]),
        "closed_at": _iso(data["closed_at"]),
        "min_order": None
        if min_order is None
        else {"amount": offer_export.major(min_order, currency), "currency": currency},
        "max_uses": data["max_uses"],
        "uses": data["uses"],
        "customer": None
        if data["restricted"]
        else {"id": data["customer_id"], "external_ids": data["external_ids"]},
    }


def idempotency_key(data: dict[str, Any]) -> str:
    return f"{data['code']}:{data['event']}"


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class _Retry(RelmarkError):
    pass


class _GiveUp(RelmarkError):
    pass


def _post(client: httpx.Client, url: str, secret: str, body: bytes, key: str) -> None:
    import httpx

    try:
        response = client.post(
            url,
            content=body,
            headers={
                "Content-Type": "application/json",
                "X-Relmark-Signature": signature(secret, body),
                "X-Relmark-Event": json.loads(body)["event"],
                "Idempotency-Key": key,
            },
        )
    except httpx.HTTPError as exc:
        raise _Retry(f"webhook unreachable: {exc}") from None
    if response.is_success:
        return
    text = f"webhook answered {response.status_code}"
    if response.status_code in (408, 425, 429) or response.status_code >= 500:
        raise _Retry(text)
    raise _GiveUp(text)


def deliver(engine: Engine, url: str, secret: str, options: WebhookOptions) -> WebhookReport:
    """Fill the queue, then send due events one at a time until none is due (or `limit`)."""
    import httpx

    report = WebhookReport()
    with engine.begin() as connection:
        report.queued = offer_webhooks.enqueue(connection, options.clock())
    with httpx.Client(timeout=options.timeout) as client:
        while options.limit is None or report.delivered + report.failed < options.limit:
            now = options.clock()
            with engine.connect() as connection:
                ids = offer_webhooks.due(connection, now, options.reclaim_after, options.batch)
            if not ids:
                break
            for event_id in ids:
                if options.limit is not None and report.delivered + report.failed >= options.limit:
                    break
                _one(engine, client, url, secret, event_id, options, report)
    return report


def _one(
    engine: Engine,
    client: httpx.Client,
    url: str,
    secret: str,
    event_id: int,
    options: WebhookOptions,
    report: WebhookReport,
) -> None:
    now = options.clock()
    with engine.begin() as connection:
        if not offer_webhooks.claim(connection, event_id, now, options.reclaim_after):
            return  # another sender has it
        data = offer_webhooks.event_data(connection, event_id)
    body = json.dumps(payload(data), ensure_ascii=False, separators=(",", ":")).encode()
    try:
        _post(client, url, secret, body, idempotency_key(data))
    except (_Retry, _GiveUp) as exc:
        give_up = isinstance(exc, _GiveUp) or data["attempts"] >= options.max_attempts
        wait = min(options.backoff * 2 ** (data["attempts"] - 1), timedelta(days=1))
        with engine.begin() as connection:
            offer_webhooks.retry_later(connection, event_id, now + wait, str(exc), give_up)
        report.failed += give_up
        report.retried += not give_up
        report.errors.append(f"{data['code']} {data['event']}: {exc}")
        return
    with engine.begin() as connection:
        offer_webhooks.delivered(connection, event_id, options.clock())
    report.delivered += 1


def secret_of(settings: Settings) -> str:
    secret = settings.offers_webhook_secret or settings.webhook_secret
    if secret is None:
        raise RelmarkError(
            "RELMARK_OFFERS_WEBHOOK_SECRET (or RELMARK_WEBHOOK_SECRET) is needed to sign "
            "offer events"
        )
    return secret.get_secret_value()


def deliver_from_settings(
    engine: Engine,
    settings: Settings | None = None,
    options: WebhookOptions | None = None,
    limit: int | None = None,
) -> WebhookReport:
    """`deliver` with the effective shop settings: nothing (and nothing queued) when no
    offers webhook is configured."""
    from relmark.config import get_settings
    from relmark.shop_settings import effective_settings

    settings = effective_settings(engine, settings or get_settings())
    if not settings.offers_webhook_url:
        return WebhookReport(configured=False)
    options = options or WebhookOptions()
    if limit is not None:
        options.limit = limit
    return deliver(engine, settings.offers_webhook_url, secret_of(settings), options)
