"""Signed tokens for the links in a message: unsubscribe, open pixel, click redirect, rating,
and the double opt-in confirmation.

Each token is HMAC-SHA256-signed (itsdangerous) with the store's secret and salted by its
kind, so a click token can never be replayed as an unsubscribe. It names one message, and
through it one customer and one purpose; nothing in it can be guessed or altered.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer

from relmark.errors import RelmarkError


class LinkKind(StrEnum):
    UNSUBSCRIBE = "unsubscribe"
    OPEN = "open"
    CLICK = "click"
    RATING = "rating"
    CONFIRM = "confirm"  # double opt-in: the customer confirms a marketing consent


class InvalidToken(RelmarkError):
    """The link was altered, truncated, or signed with another secret."""


@dataclass(frozen=True)
class LinkClaim:
    kind: LinkKind
    message_id: int
    customer_id: int
    purpose: str
    url: str | None = None
    score: int | None = None


class Signer:
    """Creates and checks link tokens with one secret."""

    def __init__(self, secret: str) -> None:
        if len(secret) < 16:
            raise RelmarkError("the signing secret must be at least 16 characters")
        self._serializers = {
            kind: URLSafeSerializer(
                secret,
                salt=f"relmark.{kind}",
                signer_kwargs={"digest_method": hashlib.sha256},
            )
            for kind in LinkKind
        }

    def sign(self, claim: LinkClaim) -> str:
        payload: list[Any] = [claim.message_id, claim.customer_id, claim.purpose]
        if claim.kind is LinkKind.CLICK:
            payload.append(claim.url)
        if claim.kind is LinkKind.RATING:
            payload.append(claim.score)
        return str(self._serializers[claim.kind].dumps(payload))

    def verify(self, kind: LinkKind, token: str) -> LinkClaim:
        try:
            payload = self._serializers[kind].loads(token)
        except BadSignature:
            raise InvalidToken(f"this {kind} link is not valid (altered or expired)") from None
        message_id, customer_id, purpose, *rest = payload
        return LinkClaim(
            kind,
            int(message_id),
            int(customer_id),
            str(purpose),
            url=rest[0] if kind is LinkKind.CLICK else None,
            score=int(rest[0]) if kind is LinkKind.RATING else None,
        )
