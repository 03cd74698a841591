"""Match keys from what customers type: e-mails and phone numbers, normalised, with a verdict.

Outside the stages because identity resolution, the store's suppression list and the
tracking endpoint must normalise alike (an erased e-mail must be recognised when it returns).

Pure and idempotent: normalising a normalised value returns it unchanged. A value that cannot
be a real address or number is kept as given by the store but flagged here and never used as a
match key (two customers who both typed "n/a" are not the same person).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import phonenumbers

#: local@domain.tld, no spaces, one @, a dot in the domain; deliberately permissive on the
#: local part (RFC 5322 allows far more than shops see) and strict on the domain.
EMAIL = re.compile(
    r"^[^\s@]+@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}"
    r"[a-z0-9])?)*\.[a-z]{2,63}$"
)
PLACEHOLDERS = {
    "n/a",
    "na",
    "none",
    "null",
    "-",
    "noemail",
    "no@email.com",
    "test@test.com",
    "example@example.com",
}


@dataclass(frozen=True)
class Key:
    """A normalised match key, or None with the reason it is not usable."""

    value: str | None
    problem: str | None = None


def normalize_email(raw: str | None) -> Key:
    """Trim, Unicode NFKC, case-fold; then check the shape."""
    if raw is None or not raw.strip():
        return Key(None, "missing")
    text = unicodedata.normalize("NFKC", raw).strip().casefold()
    if text in PLACEHOLDERS:
        return Key(None, "placeholder")
    try:
        local, domain = text.rsplit("@", 1)
        domain = domain.encode("idna").decode("ascii")
    except (ValueError, UnicodeError):
        return Key(None, "not an e-mail address")
    text = f"{local}@{domain}"
    if not EMAIL.match(text) or len(text) > 254:
        return Key(None, "not an e-mail address")
    return Key(text)


def normalize_phone(raw: str | None, country: str | None = None) -> Key:
    """E.164 (`+60123456789`), reading national numbers in the customer's `country`."""
    if raw is None or not raw.strip():
        return Key(None, "missing")
    text = unicodedata.normalize("NFKC", raw).strip()
    region = country.upper() if country and len(country) == 2 else None
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return Key(None, "not a phone number")
    if not phonenumbers.is_valid_number(number):
        return Key(None, "not a valid phone number")
    return Key(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def address_key(address: str | None, postcode: str | None, country: str | None) -> str | None:
    """A street address compared loosely ("12 Main St." = "12  main st"): NFKC, case-folded,
    punctuation and spacing dropped, with the postcode and country; None without a street or
    a postcode (a city alone is not an address two people cannot share by chance)."""
    if not address or not address.strip() or not postcode or not postcode.strip():
        return None
    street = re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", address).casefold())
    code = re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", postcode).casefold())
    if not street or not code:
        return None
    return f"{(country or '').strip().upper()}|{code}|{street}"
