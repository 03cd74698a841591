"""The customer 360's promises: the member card (balance, tier, points expiring next, the
latest ledger entries in plain words), the customer's offers and their referrals.

Thin over the loyalty programme (interact/loyalty) and the store's reads
(store/member_reads.py, store/referral_report.py); this module only chooses the words. Every
block carries the reason it is empty, so an empty block never looks like a fault.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import Request

from relmark.errors import InvalidInput

ENTRY_SHOWN = 10
OFFERS_SHOWN = 50
REFERRALS_SHOWN = 50

OFFER_KIND_LABELS = {
    "discount": "Discount",
    "gift": "Gift",
    "referral_reward": "Referral reward",
    "points_reward": "Points reward",
}
OFFER_STATUS_LABELS = {
    "reserved": "Reserved",
    "issued": "Issued",
    "redeemed": "Redeemed",
    "expired": "Expired",
    "void": "Void",
}
REFERRAL_STATUS_LABELS = {"pending": "Pending", "rewarded": "Rewarded", "rejected": "Rejected"}


def entry_words(entry: dict[str, Any], rewards: dict[str, str], _: Any) -> str:
    """One ledger entry as a sentence: why the points came or went."""
    kind, rule = entry["kind"], entry["rule"]
    order = entry["order_number"] or "—"
    if kind == "earn" and rule in ("spend", "order"):
        return str(_("Earned for order %(order)s", order=order))
    if kind == "earn" and rule == "birthday":
        return str(_("Birthday points"))
    if kind == "earn" and rule == "referral":
        return str(_("Earned for referring a friend"))
    if rule == "merged":
        if entry["points"] > 0:
            return str(_("Carried over from a merged profile"))
        return str(_("Moved to the profile this one was merged into"))
    if kind == "redeem":
        return str(_("Redeemed for %(reward)s", reward=rewards.get(rule, rule)))
    if kind == "expire":
        return str(_("Expired unspent"))
    if kind == "reverse":
        return str(_("Taken back: order %(order)s was returned or refunded", order=order))
    if kind == "adjust" and entry["points"] > 0:
        return str(_("Granted by hand: %(reason)s", reason=entry["reason"] or "—"))
    if kind == "adjust":
        return str(_("Taken away by hand: %(reason)s", reason=entry["reason"] or "—"))
    return f"{kind} ({rule})"


def loyalty_block(request: Request, customer_id: int, _: Any) -> dict[str, Any]:
    """The member card, or why there is none (programme off, its file broken)."""
    from relmark.interact.loyalty import is_enabled, load_programme, member_card
    from relmark.store.member_reads import ledger_lines, next_expiry

    engine = request.app.state.engine
    try:
        programme = load_programme(request.app.state.settings.loyalty_file)
    except InvalidInput as exc:
        return {"problem": "; ".join(p.message for p in exc.problems)}
    card = member_card(engine, programme, customer_id, limit=0)
    with engine.connect() as connection:
        enabled = is_enabled(connection)
        lines = ledger_lines(connection, customer_id, limit=ENTRY_SHOWN)
        expiring = next_expiry(connection, customer_id, datetime.now(UTC))
    rewards = {r.key: r.title for r in programme.rewards}
    for line in lines:
        line["words"] = entry_words(line, rewards, _)
    return {
        "enabled": enabled,
        "programme": programme.name,
        "balance": card["balance"],
        "value": card["value"],
        "currency": card["currency"],
        "tier": card["tier"],
        "tier_since": card["tier_since"],
        "expiring": expiring,
        "entries": lines,
    }


def offers_block(request: Request, customer_id: int, language: str) -> list[dict[str, Any]]:
    """The customer's offers, newest first; a gift's name in the reader's language."""
    from relmark.interact.gift_catalogue import load_gifts
    from relmark.store.member_reads import customer_offers

    with request.app.state.engine.connect() as connection:
        offers = customer_offers(connection, customer_id, limit=OFFERS_SHOWN)
    if any(o["gift"] for o in offers):
        try:
            catalogue = load_gifts(request.app.state.settings.gifts_dir)
        except InvalidInput:
            catalogue = {}
        for offer in offers:
            gift = catalogue.get(offer["gift"]) if offer["gift"] else None
            offer["gift_name"] = gift.name_in(language) if gift else offer["gift"]
    return offers


def referrals_block(request: Request, customer_id: int) -> dict[str, Any]:
    """Their referral code and personal link (if one was made) and the friends they
    referred, merges followed."""
    from relmark.store.live import live_profile
    from relmark.store.member_reads import own_referral_code, referrals_of

    settings = request.app.state.settings
    with request.app.state.engine.connect() as connection:
        live = live_profile(connection, customer_id) or customer_id
        code = own_referral_code(connection, live)
        rows = referrals_of(connection, live, limit=REFERRALS_SHOWN)
    shop = (settings.shop_url or settings.public_url).rstrip("/")
    return {
        "code": code,
        "link": f"{shop}/?ref={code}" if code else None,
        "referred": [r for r in rows if r["referrer_id"] == live],
        "referred_by": [r for r in rows if r["referee_id"] == live],
    }


def member_blocks(request: Request, customer_id: int, language: str, _: Any) -> dict[str, Any]:
    """Everything the 360 page shows of the customer's loyalty, offers and referrals."""
    return {
        "loyalty": loyalty_block(request, customer_id, _),
        "offers": offers_block(request, customer_id, language),
        "referrals": referrals_block(request, customer_id),
        "offer_kind": lambda k: _(OFFER_KIND_LABELS[k]) if k in OFFER_KIND_LABELS else k,
        "offer_status": lambda s: _(OFFER_STATUS_LABELS[s]) if s in OFFER_STATUS_LABELS else s,
        "referral_status": lambda s: _(REFERRAL_STATUS_LABELS.get(s, s)),
    }
