"""Compose one outbox message: template variables, signed links, and the e-mail itself.

Links in a message go through relmark: the call to action and every content link through a
signed click redirect, an open pixel, signed rating links, and for marketing and service
mail the RFC 8058 one-click unsubscribe (`List-Unsubscribe` + `List-Unsubscribe-Post`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email import policy as mail_policy
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr
from typing import Any
from urllib.parse import quote

import phonenumbers

from relmark.errors import RelmarkError
from relmark.interact.confirmation import CONFIRMATION
from relmark.interact.offer_issue import OfferView, carries_offer, customer_zone
from relmark.interact.playbook import Playbook
from relmark.interact.templating import Rendered, TemplateSet, shipped
from relmark.interact.tokens import LinkClaim, LinkKind, Signer

#: CRLF line ends, and long header lines kept whole (up to RFC 5322's 998) rather than
#: RFC 2047-encoded: List-Unsubscribe must stay a plain list of <URI>s.
MAIL_POLICY = mail_policy.SMTP.clone(max_line_length=998)


@dataclass(frozen=True)
class Branding:
    shop_name: str
    public_url: str
    shop_url: str
    sender: str
    default_zone: str = "UTC"
    unsubscribe_mailto: str | None = None
    """The address of the unsubscribe mailbox relmark reads; None: https link only."""
    reply_to: str | None = None
    logo_url: str | None = None

    @property
    def mail_domain(self) -> str:
        address = parseaddr(self.sender)[1]
        return address.rpartition("@")[2] or "relmark.invalid"


@dataclass(frozen=True)
class Composed:
    rendered: Rendered
    recipient: str | None
    phone: str | None
    unsubscribe_url: str | None
    variables: dict[str, Any]
    share_personal: bool = True
    """False when the message leaves relmark for another system without the customer's
    consent to third-party sharing: the payload then carries ids only."""


class Links:
    """Signed URLs for one message."""

    def __init__(self, signer: Signer, public_url: str, message: dict[str, Any]) -> None:
        self.signer = signer
        self.base = public_url.rstrip("/")
        self.message = message

    def _claim(self, kind: LinkKind, **extra: Any) -> str:
        return self.signer.sign(
            LinkClaim(
                kind,
                int(self.message["id"]),
                int(self.message["customer_id"]),
                str(self.message["purpose"]),
                **extra,
            )
        )

    def click(self, url: str) -> str:
        return f"{self.base}/t/c/{self._claim(LinkKind.CLICK, url=url)}"

    def pixel(self) -> str:
        return f"{self.base}/t/o/{self._claim(LinkKind.OPEN)}.gif"

    def rating(self, score: int) -> str:
        return f"{self.base}/t/r/{self._claim(LinkKind.RATING, score=score)}"

    def unsubscribe(self) -> str:
        return f"{self.base}/u/{self._claim(LinkKind.UNSUBSCRIBE)}"

    def confirm(self) -> str:
        return f"{self.base}/c/{self._claim(LinkKind.CONFIRM)}"


def compose(
    message: dict[str, Any],
    facts: dict[str, Any],
    book: Playbook,
    templates: TemplateSet,
    branding: Branding,
    signer: Signer,
    secret: str,
    offer: OfferView | None = None,
) -> Composed:
    """Everything needed to deliver `message`, in the customer's language. `offer`: the
    stored offer it carries (or a preview's sample), for a playbook that issues one."""
    customer = facts["customer"]
    links = Links(signer, branding.public_url, message)
    tz = customer_zone(customer, branding.default_zone)
    if offer is None and carries_offer(book):
        raise RelmarkError(f"playbook {book.name!r} promises an offer, but none was reserved")
    unsubscribe = links.unsubscribe() if message["purpose"] != "transactional" else None
    variables: dict[str, Any] = {
        "shop": branding.shop_name,
        "logo_url": branding.logo_url,
        "first_name": customer.get("first_name"),
        "offer": book.offer.for_template() if book.offer else {},
        "code": offer.code if offer else None,
        "offer_until": offer.last_day(tz) if offer else None,
        "ratings": [],
        "links": {
            "cta": None,
            "unsubscribe": unsubscribe,
            "pixel": links.pixel() if message["channel"] == "email" else None,
            "referral": None,
        },
    }
    if "order" in facts:
        order = facts["order"]
        variables["order"] = {
            "number": order["external_id"],
            "date": order["ordered_at"].astimezone(tz).date(),
            "amount_minor": order["amount_minor"],
            "currency": order["currency"],
            "products": order["products"],
        }
    if "product" in facts:
        product = facts["product"]
        howto = product.get("howto_url")
        variables["product"] = {
            "name": product["name"],
            "howto_url": links.click(howto) if howto else None,
        }
        variables["links"]["cta"] = variables["product"]["howto_url"]
    since: datetime | None = customer.get("customer_since")
    if since is not None:
        variables["since"] = since.astimezone(tz).date()
        variables["since_year"] = variables["since"].year
    if book.template == "satisfaction":
        variables["ratings"] = [{"score": n, "url": links.rating(n)} for n in range(11)]
    if book.template in ("winback", "discount"):
        variables["links"]["cta"] = links.click(branding.shop_url)
    if book.template == CONFIRMATION.template:
        variables["links"]["cta"] = links.confirm()
        if book.template not in templates.templates:  # a store's own set without it
            templates = shipped()
    if book.template == "referral":
        code = facts.get("referral_code")  # stored (store/referrals.py), so it is attributed
        if not code:
            raise RelmarkError("the referral message needs the customer's referral code")
        personal = f"{branding.shop_url.rstrip('/')}/?ref={code}"
        variables["links"]["referral"] = personal
        variables["links"]["cta"] = links.click(personal)
    rendered = templates.render(
        book.template, customer.get("language"), variables, country=customer.get("country")
    )
    phone = e164(customer.get("phone"), customer.get("country"))
    return Composed(rendered, customer.get("email"), phone, unsubscribe, variables)


def e164(phone: str | None, country: str | None) -> str | None:
    """The number as SMS gateways want it (+38631100000), or as typed if it won't parse."""
    if not phone:
        return None
    try:
        parsed = phonenumbers.parse(phone, (country or "").upper() or None)
    except phonenumbers.NumberParseException:
        return phone
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def email_message(
    composed: Composed, message: dict[str, Any], branding: Branding, now: datetime
) -> EmailMessage:
    """A multipart text + HTML e-mail with a stable Message-ID and one-click unsubscribe."""
    email = EmailMessage(policy=MAIL_POLICY)
    email["From"] = branding.sender
    if branding.reply_to:
        email["Reply-To"] = branding.reply_to
    email["To"] = formataddr(("", composed.recipient or ""))
    email["Subject"] = composed.rendered.subject
    email["Date"] = format_datetime(now)
    email["Message-ID"] = message["rfc_message_id"]
    email["X-Relmark-Playbook"] = message["playbook"]
    if composed.unsubscribe_url:
        links = f"<{composed.unsubscribe_url}>"
        if branding.unsubscribe_mailto:
            # the signed token rides in the subject: the mailbox reader needs nothing else
            token = composed.unsubscribe_url.rsplit("/", 1)[1]
            subject = quote(f"unsubscribe {token}")
            links += f", <mailto:{branding.unsubscribe_mailto}?subject={subject}>"
        email["List-Unsubscribe"] = links
        email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    email.set_content(composed.rendered.text)
    email.add_alternative(composed.rendered.html, subtype="html")
    email["Content-Language"] = composed.rendered.language  # after: set_content drops Content-*
    return email


def webhook_payload(composed: Composed, message: dict[str, Any]) -> dict[str, Any]:
    """The JSON a webhook receives; ids only (no address, name or text, which may hold
    either) unless the customer consented to third-party sharing."""
    if not composed.share_personal:
        return {
            "message_id": message["rfc_message_id"],
            "idempotency_key": message["idempotency_key"],
            "playbook": message["playbook"],
            "purpose": message["purpose"],
            "customer_id": message["customer_id"],
            "personal_data": False,
        }
    return {
        "personal_data": True,
        "message_id": message["rfc_message_id"],
        "idempotency_key": message["idempotency_key"],
        "playbook": message["playbook"],
        "purpose": message["purpose"],
        "customer_id": message["customer_id"],
        "to": {"phone": composed.phone, "email": composed.recipient},
        "language": composed.rendered.language,
        "subject": composed.rendered.subject,
        "text": composed.rendered.text,
        "unsubscribe_url": composed.unsubscribe_url,
    }
