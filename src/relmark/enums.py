"""Shared vocabulary: the values that the store, the stages and the interfaces agree on."""

from __future__ import annotations

from enum import StrEnum


class OrderStatus(StrEnum):
    COMPLETED = "completed"
    PENDING = "pending"
    CANCELLED = "cancelled"
    RETURNED = "returned"
    REFUNDED = "refunded"
    PARTIALLY_REFUNDED = "partially_refunded"


#: Orders that are purchases: a partial refund leaves a purchase (thanked, counted).
PURCHASE_STATUSES = (OrderStatus.COMPLETED.value, OrderStatus.PARTIALLY_REFUNDED.value)

#: Words that order exports use for our statuses (compared case-folded).
ORDER_STATUS_SYNONYMS: dict[str, OrderStatus] = {
    "completed": OrderStatus.COMPLETED,
    "complete": OrderStatus.COMPLETED,
    "paid": OrderStatus.COMPLETED,
    "fulfilled": OrderStatus.COMPLETED,
    "shipped": OrderStatus.COMPLETED,
    "delivered": OrderStatus.COMPLETED,
    "pending": OrderStatus.PENDING,
    "authorized": OrderStatus.PENDING,
    "processing": OrderStatus.PENDING,
    "cancelled": OrderStatus.CANCELLED,
    "canceled": OrderStatus.CANCELLED,
    "voided": OrderStatus.CANCELLED,
    "returned": OrderStatus.RETURNED,
    "refunded": OrderStatus.REFUNDED,
    "partially_refunded": OrderStatus.PARTIALLY_REFUNDED,
    "partially refunded": OrderStatus.PARTIALLY_REFUNDED,
}


class PartnerKind(StrEnum):
    SUPPLIER = "supplier"
    DISTRIBUTOR = "distributor"
    CHANNEL = "channel"
    AGENCY = "agency"
    INTERMEDIARY = "intermediary"


class ConsentStatus(StrEnum):
    """What a statement says. Only `granted` is consent; `not_granted` is a source's unticked
    box (never asked, or declined), which is not a withdrawal; `pending` waits for the
    customer's confirming click (double opt-in)."""

    GRANTED = "granted"
    WITHDRAWN = "withdrawn"
    NOT_GRANTED = "not_granted"
    PENDING = "pending"


#: Which statement holds when several records of one profile disagree: a withdrawal first,
#: then a grant, then a grant waiting for confirmation, then an unticked box.
CONSENT_PRECEDENCE: dict[str, int] = {
    ConsentStatus.WITHDRAWN.value: 3,
    ConsentStatus.GRANTED.value: 2,
    ConsentStatus.PENDING.value: 1,
    ConsentStatus.NOT_GRANTED.value: 0,
}

#: A source's answers. "no"/"false" is the state of a checkbox, not an act: it is
#: `not_granted` (a record that said yes before and now says no is a withdrawal, decided
#: when the statement is stored). Shopify's consent states are recognised too.
CONSENT_SYNONYMS: dict[str, ConsentStatus] = {
    **dict.fromkeys(
        ("granted", "yes", "y", "true", "1", "opt-in", "opted_in", "subscribed"),
        ConsentStatus.GRANTED,
    ),
    **dict.fromkeys(("withdrawn", "opt-out", "opted_out", "unsubscribed"), ConsentStatus.WITHDRAWN),
    **dict.fromkeys(
        ("not_granted", "no", "n", "false", "0", "not_subscribed", "pending", "invalid"),
        ConsentStatus.NOT_GRANTED,
    ),
}


class ConsentPurpose(StrEnum):
    MARKETING = "marketing"
    SERVICE = "service"
    PROFILING = "profiling"
    THIRD_PARTY_SHARING = "third_party_sharing"
    """Personal data may leave relmark for other systems (webhooks, exports)."""


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    PHONE = "phone"
    POST = "post"


class EventKind(StrEnum):
    """Kinds of rows in the append-only customer event log."""

    CUSTOMER_CREATED = "customer_created"
    CUSTOMER_UPDATED = "customer_updated"
    CONSENT_RECORDED = "consent_recorded"
    SEGMENT_CHANGED = "segment_changed"
    CUSTOMER_MERGED = "customer_merged"
    CUSTOMER_UNMERGED = "customer_unmerged"
    TRACKED = "tracked"  # a tracking-API event (track, page, screen, group)
    PROCESSING_RESTRICTED = "processing_restricted"
    RESTRICTION_LIFTED = "restriction_lifted"
    CUSTOMER_RECTIFIED = "customer_rectified"  # fields corrected on request (names only)
    CUSTOMER_ERASED = "customer_erased"  # personal data erased (store/erasure.py)
    CUSTOMER_SUPPRESSED = "customer_suppressed"  # came back with an erased e-mail or phone
    OFFER_REDEEMED = "offer_redeemed"  # an order used one of the customer's offers
    OFFER_REFUSED = "offer_refused"  # an order carried a code that could not be honoured
    TIER_CHANGED = "tier_changed"  # loyalty tier moved (parameters: from, to)


class ImportKind(StrEnum):
    CUSTOMERS = "customers"
    ORDERS = "orders"
    PRODUCTS = "products"
    PARTNERS = "partners"


class FileFormat(StrEnum):
    CSV = "csv"
    PARQUET = "parquet"
    JSONL = "jsonl"
    CDNOW = "cdnow"
    SHOPIFY = "shopify"


#: RFM segment names, best first (the rules that assign them live in differentiate.rfm).
RFM_SEGMENTS = (
    "champions",
    "cant_lose",
    "at_risk",
    "loyal",
    "new",
    "promising",
    "potential_loyalist",
    "need_attention",
    "about_to_sleep",
    "lost",
    "hibernating",
)
