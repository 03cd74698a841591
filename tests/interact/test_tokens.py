"""Signed link tokens: round trip, tamper-proof, scoped by kind and secret."""

from __future__ import annotations

import pytest

from relmark.interact.tokens import InvalidToken, LinkClaim, LinkKind, Signer

SECRET = "s3cret-s3cret-s3cret-s3cret"


def test_round_trip_for_each_kind() -> None:
    signer = Signer(SECRET)
    claims = [
        LinkClaim(LinkKind.UNSUBSCRIBE, 7, 42, "marketing"),
        LinkClaim(LinkKind.OPEN, 7, 42, "marketing"),
        LinkClaim(LinkKind.CLICK, 7, 42, "service", url="https://shop.example/a?b=c"),
        LinkClaim(LinkKind.RATING, 7, 42, "service", score=9),
    ]
    for claim in claims:
        assert signer.verify(claim.kind, signer.sign(claim)) == claim


def test_altered_tokens_are_refused() -> None:
    signer = Signer(SECRET)
    token = signer.sign(LinkClaim(LinkKind.UNSUBSCRIBE, 7, 42, "marketing"))
    payload, signature = token.split(".")
    forged_payload = (
        Signer("another-secret-of-16+")
        .sign(LinkClaim(LinkKind.UNSUBSCRIBE, 7, 43, "marketing"))
        .split(".")[0]
    )
    for bad in (
        token[:-2],
        f"{forged_payload}.{signature}",
        f"{payload}.{signature[::-1]}",
        "",
        "not-a-token",
    ):
        with pytest.raises(InvalidToken):
            signer.verify(LinkKind.UNSUBSCRIBE, bad)


def test_a_token_of_one_kind_is_useless_as_another() -> None:
    signer = Signer(SECRET)
    click = signer.sign(LinkClaim(LinkKind.CLICK, 7, 42, "marketing", url="https://x.example"))
    with pytest.raises(InvalidToken):
        signer.verify(LinkKind.UNSUBSCRIBE, click)


def test_another_secret_cannot_verify() -> None:
    token = Signer(SECRET).sign(LinkClaim(LinkKind.OPEN, 1, 2, "marketing"))
    with pytest.raises(InvalidToken):
        Signer("a-different-secret-entirely").verify(LinkKind.OPEN, token)


def test_short_secrets_are_refused() -> None:
    with pytest.raises(Exception, match="at least 16"):
        Signer("short")
