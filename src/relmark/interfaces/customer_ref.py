"""A customer named on the command line by id or by e-mail address.

People know their customers by e-mail, not by relmark's ids. An id is taken as given (the
command says what it means for that id); an e-mail address is looked up on the profiles
and their source records and followed through merges to the live profile (the survivor).
"""

from __future__ import annotations

from typing import Any

from relmark.errors import InvalidInput, RelmarkError


def customer_id_of(connection: Any, reference: str, where: str = "CUSTOMER") -> int:
    """The customer id `reference` names; a clear error naming `where` otherwise."""
    text = reference.strip()
    if text.isascii() and text.isdigit() and len(text) < 19:
        return int(text)
    if "@" not in text:
        raise InvalidInput.single(
            where, f"{reference!r} is neither a customer id nor an e-mail address"
        )
    from relmark.store.erasure import resolve

    try:
        return resolve(connection, text)
    except RelmarkError as exc:
        raise RelmarkError(f"{where} {text!r}: {exc}") from None
