"""The store's tables (SQLAlchemy 2, typed). Money is integer minor units plus a currency.

A *customer* is the profile of one person; a *source record* is what one source said about
that person (source, external_id). Imports write source records; identity resolution links
several records to one customer. Orders keep the record they came with, so a merge can be
undone.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from relmark.store.types import UTCDateTime

JSONType = JSON().with_variant(JSONB(), "postgresql")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class ProfileFields:
    """Fields a customer profile and a source record share."""

    first_name: Mapped[str | None] = mapped_column(String(200))
    last_name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str | None] = mapped_column(String(35))
    country: Mapped[str | None] = mapped_column(String(2))
    region: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(200))
    postcode: Mapped[str | None] = mapped_column(String(32))
    address: Mapped[str | None] = mapped_column(String(1000))
    timezone: Mapped[str | None] = mapped_column(String(64))
    birthday: Mapped[date | None] = mapped_column(Date)
    customer_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attributes: Mapped[dict[str, Any] | None] = mapped_column(JSONType)


PROFILE_COLUMNS = [
    "first_name",
    "last_name",
    "email",
    "phone",
    "language",
    "country",
    "region",
    "city",
    "postcode",
    "address",
    "timezone",
    "birthday",
    "customer_since",
    "attributes",
]


class Customer(ProfileFields, Base):
    __tablename__ = "customers"
    __table_args__ = (
        # Planning leaves restricted customers out: a few, found without a scan.
        Index(
            "ix_customers_restricted",
            "restricted_at",
            sqlite_where=text("restricted_at IS NOT NULL"),
            postgresql_where=text("restricted_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    first_record_id: Mapped[int | None] = mapped_column(Integer, unique=True)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    """Set when identity resolution folded this profile into another; null for live ones."""
    restricted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """Set while the customer has restricted processing (GDPR art. 18): storage only."""
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """Set when the person's data was erased (store/erasure.py): an anonymous shell remains."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Rectification(Base):
    """A value the customer (or staff for them) corrected: it is pinned on the profile over
    any source's value until a newer rectification of the same field. Holds the personal
    value itself, so an erasure must delete these rows."""

    __tablename__ = "rectifications"
    __table_args__ = (Index("ix_rectifications_customer", "customer_id", "field", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    field: Mapped[str] = mapped_column(String(40))
    value: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_kind: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(200))


class Suppression(Base):
    """A salted hash of an erased e-mail or phone: a profile that comes back with it is
    created restricted. The salt is a store setting; the values themselves are gone."""

    __tablename__ = "suppressions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SourceRecord(ProfileFields, Base):
    __tablename__ = "source_records"
    __table_args__ = (UniqueConstraint("source", "external_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(100))
    external_id: Mapped[str] = mapped_column(String(200))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    email_key: Mapped[str | None] = mapped_column(String(320), index=True)
    phone_key: Mapped[str | None] = mapped_column(String(20), index=True)
    key_problems: Mapped[str | None] = mapped_column(String(200))
    """Why the e-mail or phone is not used as a match key (e.g. 'email: placeholder')."""
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    """Incremental identity looks up the records a tracking call or import just changed."""


class Partner(Base):
    """A marketing partner: supplier, distributor, sales channel, agency or intermediary."""

    __tablename__ = "partners"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(20))


class Product(Base):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sku: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    category: Mapped[str | None] = mapped_column(String(200))
    currency: Mapped[str | None] = mapped_column(String(3))
    price_minor: Mapped[int | None] = mapped_column(BigInteger)
    unit_cost_minor: Mapped[int | None] = mapped_column(BigInteger)
    margin_rate: Mapped[float | None] = mapped_column(Numeric(6, 4))
    howto_url: Mapped[str | None] = mapped_column(String(2000))


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("source", "external_id"),
        Index("ix_orders_customer_time", "customer_id", "ordered_at"),
        # Planning reads the orders of the last days (thank-you, satisfaction, how-to).
        Index("ix_orders_ordered_at", "ordered_at"),
        # Most orders come without a partner: index only those that have one.
        Index(
            "ix_orders_partner",
            "partner_id",
            sqlite_where=text("partner_id IS NOT NULL"),
            postgresql_where=text("partner_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(100))
    external_id: Mapped[str] = mapped_column(String(200))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    # Not indexed: an order's record is looked up through its customer (unmerge), never alone.
    source_record_id: Mapped[int] = mapped_column(ForeignKey("source_records.id"))
    ordered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    currency: Mapped[str] = mapped_column(String(3))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    discount_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    cost_minor: Mapped[int | None] = mapped_column(BigInteger)
    quantity: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str | None] = mapped_column(String(100))
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id"))


class OrderLine(Base):
    __tablename__ = "order_lines"
    __table_args__ = (UniqueConstraint("order_id", "line_no"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    line_no: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"), index=True)
    sku: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_minor: Mapped[int] = mapped_column(BigInteger)


class Consent(Base):
    """One consent statement with its proof; the latest per (customer, purpose, channel) holds."""

    __tablename__ = "consents"
    __table_args__ = (Index("ix_consents_customer", "customer_id", "purpose", "channel"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    source_record_id: Mapped[int | None] = mapped_column(ForeignKey("source_records.id"))
    purpose: Mapped[str] = mapped_column(String(30))
    channel: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    lawful_basis: Mapped[str] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(100))
    proof: Mapped[str | None] = mapped_column(Text)
    wording_version: Mapped[str | None] = mapped_column(String(50))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CustomerEvent(Base):
    """Append-only log: every stage writes what it did to a customer here."""

    __tablename__ = "customer_events"
    __table_args__ = (Index("ix_customer_events_customer_at", "customer_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    kind: Mapped[str] = mapped_column(String(40))
    import_id: Mapped[int | None] = mapped_column(ForeignKey("imports.id"))
    parameters: Mapped[dict[str, Any] | None] = mapped_column(JSONType)


class ImportRun(Base):
    """One import of one file: what it was, and what it changed."""

    __tablename__ = "imports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(100))
    file_name: Mapped[str] = mapped_column(String(1000))
    file_sha256: Mapped[str | None] = mapped_column(String(64))
    file_format: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    counts: Mapped[dict[str, Any] | None] = mapped_column(JSONType)


class SupportContact(Base):
    """A contact with customer service: the main cost-to-serve driver."""

    __tablename__ = "support_contacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    channel: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(100))
    minutes: Mapped[int] = mapped_column(Integer)


class Mention(Base):
    """A social-media post that names the shop; `category` is filled by classification."""

    __tablename__ = "mentions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(40))
    author_handle: Mapped[str] = mapped_column(String(200))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    language: Mapped[str | None] = mapped_column(String(35))
    text: Mapped[str] = mapped_column(Text)
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    category: Mapped[str | None] = mapped_column(String(30))


class DemoTruth(Base):
    """Ground truth the demo generator planted (true identities, mention kinds) for evaluation."""

    __tablename__ = "demo_truth"
    __table_args__ = (UniqueConstraint("entity", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(300))
    truth: Mapped[str] = mapped_column(String(300))


class ScoreRun(Base):
    """One scoring of every customer: when, with which model and parameters, on what input."""

    __tablename__ = "score_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    as_of: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    model: Mapped[str] = mapped_column(String(20))
    params: Mapped[dict[str, Any]] = mapped_column(JSONType)
    spend_params: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    log_likelihood: Mapped[float | None] = mapped_column(Float)
    settings: Mapped[dict[str, Any]] = mapped_column(JSONType)
    currency: Mapped[str] = mapped_column(String(3))
    input_fingerprint: Mapped[str] = mapped_column(String(64))
    n_customers: Mapped[int] = mapped_column(Integer)
    selection: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    """Why `model` values the store: the criterion and every candidate's figures or failure."""
    p_alive_reason: Mapped[str | None] = mapped_column(Text)
    """Why P(alive) and expected purchases are empty (for some or all customers)."""
    clv_reason: Mapped[str | None] = mapped_column(Text)
    """Why lifetime value is empty (for some or all customers)."""


class CustomerScore(Base):
    """A customer's value as of a run. Money in minor units of the run's currency."""

    __tablename__ = "customer_scores"
    __table_args__ = (
        Index("ix_customer_scores_customer", "customer_id", "run_id"),
        # The dashboard pages customers of a run by value, and of a segment by value.
        # With the customer, so planning reads a top share's threshold off the index alone.
        Index("ix_customer_scores_run_clv_customer", "run_id", "clv_minor", "customer_id"),
        Index("ix_customer_scores_run_segment_clv", "run_id", "segment", "clv_minor"),
        Index("ix_customer_scores_run_segment_p_alive", "run_id", "segment", "p_alive"),
        Index("ix_customer_scores_run_p_alive", "run_id", "p_alive"),
        # Audiences take "the top 30% by revenue": the threshold is read off this index.
        Index("ix_customer_scores_run_revenue", "run_id", "revenue_minor", "customer_id"),
    )

    run_id: Mapped[int] = mapped_column(
        ForeignKey("score_runs.id", ondelete="CASCADE"), primary_key=True
    )
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    orders: Mapped[int] = mapped_column(Integer)
    revenue_minor: Mapped[int] = mapped_column(BigInteger)
    days_since_last: Mapped[int] = mapped_column(Integer)
    frequency: Mapped[int] = mapped_column(Integer)
    recency: Mapped[float] = mapped_column(Float)
    age: Mapped[float] = mapped_column(Float)
    r: Mapped[int] = mapped_column(SmallInteger)
    f: Mapped[int] = mapped_column(SmallInteger)
    m: Mapped[int] = mapped_column(SmallInteger)
    segment: Mapped[str] = mapped_column(String(30), index=True)
    explanation: Mapped[str] = mapped_column(Text)
    # empty when no model could be fitted: the run's p_alive_reason / clv_reason say why
    p_alive: Mapped[float | None] = mapped_column(Float)
    expected_purchases: Mapped[float | None] = mapped_column(Float)
    expected_spend_minor: Mapped[int | None] = mapped_column(BigInteger)
    clv_minor: Mapped[int | None] = mapped_column(BigInteger)
    clv_p10_minor: Mapped[int | None] = mapped_column(BigInteger)
    clv_p90_minor: Mapped[int | None] = mapped_column(BigInteger)
    gross_margin_minor: Mapped[int] = mapped_column(BigInteger)
    cost_to_serve_minor: Mapped[int] = mapped_column(BigInteger)
    profit_minor: Mapped[int] = mapped_column(BigInteger)
    profit_tier: Mapped[str] = mapped_column(String(1))
    below_standard: Mapped[bool] = mapped_column(Boolean)


class Merge(Base):
    """One profile folded into another, with the evidence and the records that moved."""

    __tablename__ = "merges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(20))
    survivor_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    absorbed_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    probability: Mapped[float | None] = mapped_column(Float)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSONType)
    record_ids: Mapped[list[int]] = mapped_column(JSONType)
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ReviewPair(Base):
    """Two profiles that may be one person: a human decides (accept merges, reject keeps
    them apart for good)."""

    __tablename__ = "review_pairs"
    __table_args__ = (UniqueConstraint("customer_a", "customer_b"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    customer_a: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    customer_b: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    probability: Mapped[float | None] = mapped_column(Float)
    """Match probability; null for pairs that share an exact key but not a first name."""
    evidence: Mapped[dict[str, Any]] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(String(10), index=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StoreSetting(Base):
    """Settings kept with the store (caps, quiet hours, the signing secret) and lock rows."""

    __tablename__ = "store_settings"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[Any] = mapped_column(JSONType)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PlaybookState(Base):
    """Whether a playbook runs; playbooks themselves live in files."""

    __tablename__ = "playbook_states"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PlanRun(Base):
    """One evaluation of the playbooks: as of when, and what it decided."""

    __tablename__ = "plan_runs"
    __table_args__ = (Index("ix_plan_runs_whole_as_of", "scope", "as_of"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    as_of: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    counts: Mapped[dict[str, Any]] = mapped_column(JSONType)
    scope: Mapped[str | None] = mapped_column(String(200))
    """None for a plan of every playbook over the whole store (an outage's catch-up starts
    at the last of those); else what it was limited to (some customers, one playbook)."""


class PrunedMessages(Base):
    """Held outbox rows pruned after a while (store/pruning.py): how many, per plan run,
    playbook and reason, so a plan's decisions stay countable after its rows are gone."""

    __tablename__ = "pruned_messages"
    __table_args__ = (Index("ix_pruned_messages_plan_run", "plan_run_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_run_id: Mapped[int | None] = mapped_column(ForeignKey("plan_runs.id"))
    playbook: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(String(40))
    count: Mapped[int] = mapped_column(Integer)
    pruned_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Message(Base):
    """The outbox: every candidate message, planned, sent or held with the reason why.

    `idempotency_key` (playbook, customer, occasion) is unique: planning twice plans nothing
    new, and the e-mail's Message-ID derives from it, so a retried send is recognisably the
    same message.
    """

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_status_due", "status", "due_at"),
        Index("ix_messages_customer_due", "customer_id", "due_at"),
        Index("ix_messages_playbook", "playbook", "customer_id"),
        Index("ix_messages_due", "due_at"),  # the outbox, newest first
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(300), unique=True)
    playbook: Mapped[str] = mapped_column(String(100))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    occasion: Mapped[str] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(20))
    purpose: Mapped[str] = mapped_column(String(20))
    priority: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str | None] = mapped_column(String(40))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    context: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    plan_run_id: Mapped[int | None] = mapped_column(ForeignKey("plan_runs.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """After a temporary failure: not before this time (due_at stays what the budget saw)."""
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    rfc_message_id: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """From then on too late to send (held `expired`): a birthday's at the end of the
    customer's local day plus `late_until`; None: no deadline (score-triggered, older rows)."""


class MessageEvent(Base):
    """What happened after a message: open, click, rating, unsubscribe."""

    __tablename__ = "message_events"
    __table_args__ = (Index("ix_message_events_message", "message_id", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(20))
    data: Mapped[dict[str, Any] | None] = mapped_column(JSONType)


class User(Base):
    """A person who signs in to the dashboard; the password is kept as an Argon2 hash."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ApiKey(Base):
    """A key for the API or the tracking endpoint; only its SHA-256 is kept (keys are
    random 256-bit strings, so a fast hash is enough and lookups stay O(1))."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(12))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WebSession(Base):
    """A signed-in browser; the cookie carries a random id whose hash is kept here."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TrackedMessage(Base):
    """Tracking-API messages already stored, by messageId: a resend is ignored."""

    __tablename__ = "tracked_messages"

    message_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuditEntry(Base):
    """Who read or changed whose personal data, when and from where. Append-only: the
    migration installs triggers that refuse UPDATE and DELETE on every backend. Holds ids,
    never personal values, so an erasure leaves it intact and it stays true."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_customer_at", "customer_id", "at"),
        Index("ix_audit_log_at", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_kind: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(200))
    origin: Mapped[str | None] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(60))
    customer_id: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSONType)


class EngineInstance(Base):
    """A running (or once running) `relmark run`: its heartbeat tells the others whether it
    is alive, so a SIGKILLed engine's lease and job claims can be taken over."""

    __tablename__ = "engine_instances"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    host: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class EngineJob(Base):
    """One periodic job of the engine: when it runs next, what it did last, and which engine
    holds it now (a claim that lapses with its holder's heartbeat)."""

    __tablename__ = "engine_jobs"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    next_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_result: Mapped[str | None] = mapped_column(Text)
    state: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    claimed_by: Mapped[int | None] = mapped_column(Integer)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


# Tables kept in their own modules, registered on the same metadata (migrations compare it).
from relmark.store import (  # noqa: E402
    loyalty_models,  # noqa: F401
    offer_models,  # noqa: F401
    offer_webhook_models,  # noqa: F401
    referral_models,  # noqa: F401
)
