"""The shape of a referral code (REF-7KQ2M9TX), without the database: the order importer
checks a file's column with it before anything is opened (and without loading SQLAlchemy)."""

from __future__ import annotations

from relmark.store.offer_codes import ALPHABET, LENGTH, normalise

PREFIX = "REF"
SHAPE = f"^{PREFIX}-[{ALPHABET}]{{{LENGTH}}}$"


def is_code_shaped(raw: str) -> bool:
    """Whether `raw` (as typed: spaces, case, a missing dash forgiven) is REF- and eight
    characters of the code alphabet."""
    prefix, dash, body = normalise(raw).partition("-")
    return prefix == PREFIX and bool(dash) and len(body) == LENGTH and set(body) <= set(ALPHABET)
