"""Segment's HTTP Tracking API: read and check a request body into typed messages.

What the stock `segment-analytics-python` and `rudder-sdk-python` send: `POST /v1/batch`
with `{"batch": [...]}` (RudderStack gzips it), or one message to `/v1/identify`, `/v1/track`,
`/v1/page`, `/v1/screen`, `/v1/group`, `/v1/alias`. Limits follow Segment: a message of at
most 32 KB, a batch of at most 500 KB. Any bad message refuses the whole request, saying
which one and why; nothing is stored. Numbers, amounts, quantities and timestamps are bounded
before any arithmetic, and text follows the importer's rules (`limits`), so a hostile body
costs milliseconds and is answered 400, never 500.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qs, urlsplit

from babel.numbers import get_currency_precision

from relmark.errors import InvalidInput, Problem
from relmark.ingest import tracking_json
from relmark.ingest.contracts import CUSTOMERS
from relmark.ingest.limits import (
    EARLIEST,
    EARLIEST_YEAR,
    INT64_MAX,
    MAX_AMOUNT,
    control_problem,
    length_problem,
)
from relmark.store.models import SourceRecord

MAX_MESSAGE_BYTES = 32 * 1024
MAX_BATCH_BYTES = 500 * 1024
TYPES = ("identify", "track", "page", "screen", "group", "alias")
ORDER_COMPLETED = "Order Completed"
ORDER_REFUNDED = "Order Refunded"
#: Clocks drift: a message may be stamped up to a day after the server's time, not more.
MAX_CLOCK_AHEAD = timedelta(days=1)
#: Per product line; the order's total quantity must also fit the store's 32-bit column.
MAX_QUANTITY = 1_000_000
INT32_MAX = 2**31 - 1
#: An amount written with more characters than this is refused before it is read.
MAX_AMOUNT_CHARACTERS = 40
#: A referral code or coupon longer than this is no code of ours: ignored, not refused.
MAX_CODE_CHARACTERS = 40

#: Identify traits → source record columns (Segment's spec names, camel and snake case).
TRAIT_FIELDS = {
    "email": "email",
    "phone": "phone",
    "first_name": "first_name",
    "firstName": "first_name",
    "last_name": "last_name",
    "lastName": "last_name",
    "language": "language",
    "locale": "language",
    "timezone": "timezone",
    "country": "country",
}
ADDRESS_FIELDS = {
    "city": "city",
    "postalCode": "postcode",
    "street": "address",
    "country": "country",
    "state": "region",
}


def _trait_limit(column: str) -> int:
    """The importer's length for the column, within what the store's column holds (country
    is cut to its two-letter code when stored)."""
    limit = CUSTOMERS.by_name[column].max_length
    stored = SourceRecord.__table__.c[column].type.length
    return limit if column == "country" or stored is None else min(limit, stored)


TRAIT_LIMITS = {c: _trait_limit(c) for c in {*TRAIT_FIELDS.values(), *ADDRESS_FIELDS.values()}}


class TooLarge(InvalidInput):
    """The body or a message is above Segment's limits."""


@dataclass
class OrderLine:
    sku: str
    quantity: int
    unit_price_minor: int


@dataclass
class TrackedOrder:
    order_id: str
    currency: str
    amount_minor: int
    discount_minor: int
    lines: list[OrderLine] = field(default_factory=list)
    coupon: str | None = None


@dataclass
class Tracked:
    type: str
    message_id: str
    timestamp: datetime
    user_id: str | None = None
    anonymous_id: str | None = None
    previous_id: str | None = None
    event: str | None = None
    properties: dict[str, Any] = field(default_factory=dict)
    traits: dict[str, Any] = field(default_factory=dict)
    order: TrackedOrder | None = None
    referral_code: str | None = None
    """`?ref=` of the page the visitor is on, or properties.referral_code: remembered for
    this user or anonymous id until their first order."""


def read_body(body: bytes, content_encoding: str | None) -> Any:
    """The JSON of a request body, gunzipped if need be, within the batch limit."""
    if (content_encoding or "").lower() == "gzip":
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            body = inflater.decompress(body, MAX_BATCH_BYTES + 1)
        except zlib.error as exc:
            raise InvalidInput.single("body", f"not valid gzip: {exc}") from None
    if len(body) > MAX_BATCH_BYTES:
        raise TooLarge.single("body", f"larger than {MAX_BATCH_BYTES // 1024} KB")
    return tracking_json.loads(body)


def parse(payload: Any, path_type: str | None, *, currency: str, now: datetime) -> list[Tracked]:
    """Typed messages from a batch (`path_type` None) or one message of `path_type`."""
    if path_type is None:
        if not isinstance(payload, dict) or not isinstance(payload.get("batch"), list):
            raise InvalidInput.single("body", "a batch is an object with a 'batch' list")
        raw = payload["batch"]
        places = [f"batch[{i}]" for i in range(len(raw))]
    else:
        raw, places = [payload], ["message"]
    problems: list[Problem] = []
    messages = []
    for place, item in zip(places, raw, strict=True):
        try:
            messages.append(_message(item, path_type, place, currency, now))
        except InvalidInput as exc:
            problems.extend(exc.problems)
    if problems:
        cls = TooLarge if any("KB" in p.message for p in problems) else InvalidInput
        raise cls(problems)
    return messages


def _message(item: Any, path_type: str | None, place: str, currency: str, now: datetime) -> Tracked:
    if not isinstance(item, dict):
        raise InvalidInput.single(place, "a message is a JSON object")
    size = len(json.dumps(item, separators=(",", ":"), ensure_ascii=False).encode())
    if size > MAX_MESSAGE_BYTES:
        raise TooLarge.single(place, f"message larger than {MAX_MESSAGE_BYTES // 1024} KB")
    kind = path_type or item.get("type")
    if kind not in TYPES:
        raise InvalidInput.single(place, f"type {kind!r} is not one of {', '.join(TYPES)}")
    user_id = _id(item.get("userId"), place, "userId")
    anonymous_id = _id(item.get("anonymousId"), place, "anonymousId")
    previous_id = _id(item.get("previousId"), place, "previousId")
    if kind == "alias":
        if not (previous_id and user_id):
            raise InvalidInput.single(place, "alias needs previousId and userId")
    elif not (user_id or anonymous_id):
        raise InvalidInput.single(place, "needs a userId or an anonymousId")
    message_id = _id(item.get("messageId"), place, "messageId") or _derived_id(item)
    properties = _object(item.get("properties"), place, "properties")
    context = _object(item.get("context"), place, "context")
    traits = _object(item.get("traits") or context.get("traits"), place, "traits")
    _check_traits(traits, place)
    tracked = Tracked(
        type=kind,
        message_id=message_id,
        timestamp=_timestamp(item.get("timestamp"), place, now),
        user_id=user_id,
        anonymous_id=anonymous_id,
        previous_id=previous_id,
        properties=properties,
        traits=traits,
        referral_code=_referral_code(properties, context),
    )
    if kind == "track":
        event = item.get("event")
        if not isinstance(event, str) or not event.strip() or len(event) > 200:
            raise InvalidInput.single(place, "track needs an event name (1-200 characters)")
        if problem := control_problem(event):
            raise InvalidInput.single(place, f"event {problem}")
        tracked.event = event.strip()
        if tracked.event in (ORDER_COMPLETED, ORDER_REFUNDED):
            tracked.order = _order(properties, place, currency, tracked.event == ORDER_COMPLETED)
    elif kind in ("page", "screen"):
        tracked.event = item.get("name") if isinstance(item.get("name"), str) else None
    elif kind == "group":
        tracked.event = _id(item.get("groupId"), place, "groupId")
    return tracked


def _code(value: Any) -> str | None:
    """A short code-like string, or None (a stranger's odd value is ignored, not refused)."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text or len(text) > MAX_CODE_CHARACTERS or control_problem(text):
        return None
    return text


def _ref_of(address: Any) -> str | None:
    """`ref` of a URL or of a query string (`?ref=REF-7KQ2M9TX&utm_source=mail`)."""
    if not isinstance(address, str) or len(address) > 4000:
        return None
    try:
        query = urlsplit(address).query if "://" in address else address.lstrip("?")
        values = parse_qs(query, max_num_fields=100).get("ref")
    except ValueError:  # more fields than any page has, or an unparsable URL
        return None
    return _code(values[0]) if values else None


def _referral_code(properties: dict[str, Any], context: dict[str, Any]) -> str | None:
    page = context.get("page") if isinstance(context.get("page"), dict) else {}
    candidates = (
        _code(properties.get("referral_code")),
        _ref_of(page.get("search")),
        _ref_of(page.get("url")),
        _ref_of(properties.get("search")),
        _ref_of(properties.get("url")),
    )
    return next((c for c in candidates if c), None)


def _id(value: Any, place: str, name: str) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidInput.single(place, f"{name} must be a string")
    text = str(value).strip()
    if problem := control_problem(text) or length_problem(text, 200):
        raise InvalidInput.single(place, f"{name} {problem}")
    return text or None


def _check_traits(traits: dict[str, Any], place: str) -> None:
    """The traits identify stores, by the importer's rules for the same columns."""
    named = [(f"traits.{k}", traits.get(k), TRAIT_LIMITS[c]) for k, c in TRAIT_FIELDS.items()]
    named.append(("traits.name", traits.get("name"), TRAIT_LIMITS["first_name"]))
    address = traits.get("address")
    if isinstance(address, dict):
        named += [
            (f"traits.address.{k}", address.get(k), TRAIT_LIMITS[c])
            for k, c in ADDRESS_FIELDS.items()
        ]
    for name, value, limit in named:
        if not isinstance(value, str):
            continue
        if problem := control_problem(value) or length_problem(value.strip(), limit):
            raise InvalidInput.single(place, f"{name} {problem}")


def _object(value: Any, place: str, name: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInput.single(place, f"{name} must be an object")
    return value


def _derived_id(item: dict[str, Any]) -> str:
    canonical = json.dumps(item, sort_keys=True, separators=(",", ":"), default=str)
    return "derived-" + hashlib.sha256(canonical.encode()).hexdigest()[:40]


def _timestamp(value: Any, place: str, now: datetime) -> datetime:
    if value is None:
        return now
    if not isinstance(value, str):
        raise InvalidInput.single(place, "timestamp must be an ISO 8601 string")
    shown = value if len(value) <= 40 else value[:37] + "..."
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput.single(place, f"timestamp {shown!r} is not ISO 8601") from None
    # Years are compared before the offset is applied: year 1 or 9999 with an offset would
    # overflow Python's date range.
    if moment.year < EARLIEST_YEAR or moment.year > now.year + 1:
        raise InvalidInput.single(
            place, f"timestamp {shown!r} is outside {EARLIEST_YEAR} to {now.year + 1}"
        )
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    if moment < EARLIEST:
        raise InvalidInput.single(place, f"timestamp {shown!r} is before {EARLIEST_YEAR}")
    if moment > now + MAX_CLOCK_AHEAD:
        raise InvalidInput.single(place, f"timestamp {shown!r} is more than a day in the future")
    return moment


def _order(
    properties: dict[str, Any], place: str, default_currency: str, complete: bool
) -> TrackedOrder:
    order_id = _id(properties.get("order_id"), place, "properties.order_id")
    if order_id is None:
        raise InvalidInput.single(place, "an order event needs properties.order_id")
    currency = str(properties.get("currency") or default_currency).strip().upper()
    try:
        digits = get_currency_precision(currency)
    except Exception:  # noqa: BLE001 - babel raises several kinds for unknown codes
        digits = -1
    if len(currency) != 3 or not currency.isalpha() or digits < 0:
        raise InvalidInput.single(place, f"currency {currency!r} is not an ISO 4217 code")
    if not complete:
        return TrackedOrder(order_id, currency, 0, 0)
    total = properties.get("total", properties.get("revenue"))
    if total is None:
        raise InvalidInput.single(place, "Order Completed needs properties.total or revenue")
    lines = []
    products = properties.get("products") or []
    if not isinstance(products, list):
        raise InvalidInput.single(place, "properties.products must be a list")
    for i, product in enumerate(products):
        where = f"{place}.properties.products[{i}]"
        if not isinstance(product, dict):
            raise InvalidInput.single(where, "a product is an object")
        sku = _id(product.get("sku") or product.get("product_id"), where, "sku")
        if sku is None:
            raise InvalidInput.single(where, "needs sku or product_id")
        quantity = product.get("quantity", 1)
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            raise InvalidInput.single(where, "quantity must be a whole number above 0")
        if quantity > MAX_QUANTITY:
            raise InvalidInput.single(where, f"quantity is above {MAX_QUANTITY:,}")
        price = _minor(product.get("price", 0), digits, where, "price")
        lines.append(OrderLine(sku, quantity, price))
    if sum(line.quantity for line in lines) > INT32_MAX:
        raise InvalidInput.single(
            place, f"the products' quantities add up to more than {INT32_MAX:,}"
        )
    return TrackedOrder(
        order_id,
        currency,
        _minor(total, digits, place, "total"),
        _minor(properties.get("discount", 0) or 0, digits, place, "discount"),
        lines,
        _code(properties.get("coupon")),
    )


def _minor(value: Any, digits: int, place: str, name: str) -> int:
    """An amount in minor units, bounded before any arithmetic: `1e999990` is refused by its
    exponent, not expanded into a million digits."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InvalidInput.single(place, f"{name} must be a number")
    text = str(value).strip()
    if len(text) > MAX_AMOUNT_CHARACTERS:
        raise InvalidInput.single(
            place, f"{name} is written with more than {MAX_AMOUNT_CHARACTERS} characters"
        )
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise InvalidInput.single(place, f"{name} {text!r} is not a number") from None
    if not amount.is_finite() or amount < 0:
        raise InvalidInput.single(place, f"{name} must be a non-negative number")
    if amount >= MAX_AMOUNT:
        raise InvalidInput.single(
            place, f"{name} {text!r} is too large (the limit is {MAX_AMOUNT:,.0f})"
        )
    minor = int(amount.scaleb(digits).to_integral_value())
    assert minor <= INT64_MAX
    return minor
