"""Mistakes that make every message wrong, checked before anything goes out.

A first send with the defaults mails links that point at the operator's own machine and a
sender address nobody can reply to; each customer gets it once and cannot be asked again.
`send` and `run` print these warnings loudly before sending; they are plain words so the
web pages or logs can show them as they are.
"""

from __future__ import annotations

import ipaddress
from email.utils import parseaddr
from urllib.parse import urlsplit

from relmark.interact.compose import Branding

DEFAULT_SENDER = "noreply@relmark.invalid"
LOOPBACK_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost")


def is_loopback(url: str) -> bool:
    """True when `url`'s host is this machine (127.0.0.0/8, ::1, localhost)."""
    try:
        host = (urlsplit(url.strip()).hostname or "").lower()
    except ValueError:
        return False
    if host in LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def send_warnings(branding: Branding) -> list[str]:
    """What would make this store's messages wrong for every recipient (empty: none)."""
    found = []
    if is_loopback(branding.public_url):
        found.append(
            f"links in messages point at {branding.public_url}, which is this machine: "
            "recipients cannot open them (unsubscribe included). Set the public URL "
            "(RELMARK_PUBLIC_URL) to the address relmark is reachable at."
        )
    if is_loopback(branding.shop_url) and branding.shop_url != branding.public_url:
        found.append(
            f"links to the shop point at {branding.shop_url}, which is this machine. "
            "Set the shop URL (RELMARK_SHOP_URL)."
        )
    address = parseaddr(branding.sender)[1].strip().lower()
    if not address or "@" not in address:
        found.append(
            "the sender address is not set: set RELMARK_SMTP_FROM to the shop's own address."
        )
    elif address == DEFAULT_SENDER or address.endswith(".invalid"):
        found.append(
            f"messages are sent from {address}, an address that does not exist: replies are "
            "lost and many mail servers refuse such mail. Set RELMARK_SMTP_FROM to the "
            "shop's own address."
        )
    return found
