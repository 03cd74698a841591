"""What each import kind accepts: canonical columns, their types, synonyms and keys.

Headers are compared after folding: lower case, trimmed, spaces and hyphens as underscores,
so `E-mail`, `e_mail` and `Email ` all mean `email`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from relmark.enums import ImportKind

FieldType = Literal[
    "id",
    "text",
    "email",
    "phone",
    "int",
    "money",
    "date",
    "datetime",
    "currency",
    "language",
    "country",
    "timezone",
    "url",
    "status",
    "partner_kind",
    "consent",
    "rate",
    "referral_code",
]


@dataclass(frozen=True)
class Column:
    name: str
    type: FieldType = "text"
    synonyms: tuple[str, ...] = ()
    max_length: int = 200
    non_negative: bool = True


@dataclass(frozen=True)
class Contract:
    kind: ImportKind
    columns: tuple[Column, ...]
    required: tuple[str, ...]
    key: str
    #: alternatives that must be present as a group: at least one group complete
    one_of: tuple[tuple[str, ...], ...] = ()
    by_name: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {c.name: c for c in self.columns})

    def synonym_map(self) -> dict[str, str]:
        """Folded header → canonical name, including every canonical name itself."""
        mapping: dict[str, str] = {}
        for column in self.columns:
            mapping[fold(column.name)] = column.name
            for synonym in column.synonyms:
                mapping[fold(synonym)] = column.name
        return mapping


def fold(header: str) -> str:
    return re.sub(r"[\s\-./]+", "_", header.strip().lower()).strip("_")


CUSTOMERS = Contract(
    ImportKind.CUSTOMERS,
    (
        Column(
            "customer_id",
            "id",
            ("id", "customer", "customer_no", "customer_number", "client_id", "user_id"),
        ),
        Column("email", "email", ("e_mail", "email_address", "mail"), max_length=320),
        Column("phone", "phone", ("phone_number", "mobile", "telephone", "tel"), max_length=64),
        Column("first_name", "text", ("firstname", "given_name", "forename")),
        Column("last_name", "text", ("lastname", "surname", "family_name")),
        Column("language", "language", ("lang", "locale", "preferred_language")),
        Column("country", "country", ("country_code",)),
        Column("region", "text", ("state", "province", "county")),
        Column("city", "text", ("town",)),
        Column("postcode", "text", ("zip", "zip_code", "postal_code", "post_code"), max_length=32),
        Column("address", "text", ("street", "address1", "street_address"), max_length=1000),
        Column("timezone", "timezone", ("tz", "time_zone")),
        Column("birthday", "date", ("date_of_birth", "dob", "birth_date", "birthdate")),
        Column(
            "customer_since",
            "datetime",
            ("created_at", "signup_date", "registered_at", "since", "first_seen"),
        ),
        Column(
            "email_consent",
            "consent",
            (
                "accepts_marketing",
                "accepts_email_marketing",
                "email_marketing_consent",
                "marketing_consent",
                "email_opt_in",
                "newsletter",
            ),
        ),
        Column(
            "email_consent_at",
            "datetime",
            (
                "consent_at",
                "opted_in_at",
                "consent_updated_at",
                "email_marketing_consent_updated_at",
                "accepts_marketing_updated_at",
            ),
        ),
    ),
    required=("customer_id",),
    key="customer_id",
)

ORDERS = Contract(
    ImportKind.ORDERS,
    (
        Column("order_id", "id", ("id", "order", "order_number", "order_no")),
        Column("customer_id", "id", ("customer", "client_id", "user_id", "customer_no")),
        Column(
            "ordered_at",
            "datetime",
            ("created_at", "order_date", "date", "timestamp", "purchased_at", "placed_at"),
        ),
        Column("amount", "money", ("total", "total_amount", "order_total", "revenue", "value")),
        Column("currency", "currency", ("currency_code",)),
        Column("discount", "money", ("discount_amount", "discounts")),
        Column("cost", "money", ("cogs", "cost_of_goods", "margin_cost")),
        Column("status", "status", ("financial_status", "order_status", "state")),
        Column("channel", "text", ("sales_channel", "source_name"), max_length=100),
        Column("partner_id", "id", ("partner",)),
        Column("sku", "id", ("product_sku", "item_sku", "lineitem_sku")),
        Column("quantity", "int", ("qty", "units", "items", "lineitem_quantity")),
        Column("unit_price", "money", ("price", "item_price", "lineitem_price")),
        Column(
            "referral_code",
            "referral_code",
            ("referral", "ref", "ref_code", "referrer_code", "referred_by"),
            max_length=40,
        ),
    ),
    required=("order_id", "customer_id", "ordered_at"),
    key="order_id",
    one_of=(("amount",), ("sku", "quantity", "unit_price")),
)

PRODUCTS = Contract(
    ImportKind.PRODUCTS,
    (
        Column("sku", "id", ("product_id", "id", "item_code", "code")),
        Column("name", "text", ("title", "product_name"), max_length=300),
        Column("category", "text", ("type", "product_type", "product_category")),
        Column("currency", "currency", ("currency_code",)),
        Column("price", "money", ("list_price", "unit_price")),
        Column("unit_cost", "money", ("cost", "cogs", "cost_price")),
        Column("margin_rate", "rate", ("margin", "margin_pct", "margin_percent")),
        Column(
            "howto_url", "url", ("video_url", "howto", "how_to_url", "howto_video"), max_length=2000
        ),
    ),
    required=("sku", "name"),
    key="sku",
)

PARTNERS = Contract(
    ImportKind.PARTNERS,
    (
        Column("partner_id", "id", ("id", "partner", "code")),
        Column("name", "text", ("partner_name", "company"), max_length=300),
        Column("kind", "partner_kind", ("type", "partner_type", "role")),
    ),
    required=("partner_id", "name", "kind"),
    key="partner_id",
)

CONTRACTS: dict[ImportKind, Contract] = {c.kind: c for c in (CUSTOMERS, ORDERS, PRODUCTS, PARTNERS)}

#: Order columns that belong to the order, not the line; lines of one order must agree on them.
ORDER_HEADER_COLUMNS = (
    "customer_id",
    "ordered_at",
    "amount",
    "currency",
    "discount",
    "cost",
    "status",
    "channel",
    "partner_id",
    "referral_code",
)
