"""Offer codes a customer can type: a prefix and eight characters drawn from an alphabet
without look-alikes (no 0/O, 1/I/L), from the system's CSPRNG, so no code is guessable from
another (31^8 ≈ 8.5·10^11 per prefix)."""

from __future__ import annotations

import re
import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH = 8
PREFIX = re.compile(r"^[A-Z][A-Z0-9]{0,11}$")


def new_code(prefix: str = "RM") -> str:
    """A fresh code such as BACK-7KQ2M9TX; uniqueness is the store's (a unique index)."""
    prefix = prefix.upper()
    if not PREFIX.match(prefix):
        raise ValueError(f"an offer code prefix is 1-12 letters or digits, not {prefix!r}")
    return prefix + "-" + "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalise(code: str) -> str:
    """A code as typed (spaces, lower case, a missing dash) in its stored form."""
    cleaned = re.sub(r"[\s]", "", code).upper()
    if "-" not in cleaned and len(cleaned) > LENGTH:
        cleaned = cleaned[:-LENGTH] + "-" + cleaned[-LENGTH:]
    return cleaned


#: What previews and test sends show instead of a code: it has an L and a 0, which no real
#: code has, so it can never be one (and redeeming it is refused as unknown).
SAMPLE_SUFFIX = "SAMPLE00"


def sample_code(prefix: str = "RM") -> str:
    """The code a preview or a test send shows, e.g. BACK-SAMPLE00: never valid."""
    return prefix.upper() + "-" + SAMPLE_SUFFIX
