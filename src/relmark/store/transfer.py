"""What may leave relmark for other systems: the rule for every export and webhook.

A transfer (a webhook, `relmark export …`) carries personal data (e-mail, phone, names,
address, birthday) only for customers whose consent to `third_party_sharing` holds as
granted on every channel it was stated for; for everyone else it carries ids only.
Restricted customers (GDPR art. 18) appear in no transfer at all. The data subject's own
copy (`relmark privacy export`) is not a transfer and does not use this module.
"""

from __future__ import annotations

import re
from typing import Any

import polars as pl
from sqlalchemy import Connection, text

from relmark.enums import ConsentPurpose, ConsentStatus
from relmark.store import consents
from relmark.store.bulk import fetch_frame
from relmark.store.restriction import restricted_ids_sql
from relmark.store.types import UTCDateTime

SHARING = ConsentPurpose.THIRD_PARTY_SHARING.value
PERSONAL_COLUMNS = (
    "email",
    "phone",
    "first_name",
    "last_name",
    "address",
    "city",
    "postcode",
    "birthday",
)
#: An external id that is itself an e-mail address or an international phone number is
#: personal data; plain digit ids (Shopify's, a shop's own) are not phone numbers.
PERSONAL_ID = re.compile(r"@|^\+\d[\d\s().\-/]{6,}$")


def sharing_consented(connection: Connection, customer_id: int | None = None) -> set[int]:
    """Customers whose effective statement on `third_party_sharing` is granted on every
    channel it was made for (a withdrawal on any channel stops all transfer)."""
    columns = ", ".join(f"c.{name}" for name in consents.STATEMENT_COLUMNS)
    where = "c.purpose = :purpose" + (" AND c.customer_id = :customer" if customer_id else "")
    statement = text(
        f"SELECT {', '.join(consents.STATEMENT_COLUMNS)} FROM (SELECT {columns}, "
        "ROW_NUMBER() OVER (PARTITION BY c.customer_id, c.channel, c.source_record_id "
        f"ORDER BY c.recorded_at DESC, c.id DESC) AS rn FROM consents c WHERE {where}) latest "
        "WHERE rn = 1"
    ).columns(recorded_at=UTCDateTime())
    params: dict[str, Any] = {"purpose": SHARING, "customer": customer_id}
    rows = connection.execute(statement, params).fetchall()
    held = consents.effective(pl.DataFrame(rows, schema=consents.SCHEMA, orient="row"))
    if held.is_empty():
        return set()
    verdict = held.group_by("customer_id").agg(
        (pl.col("status") == ConsentStatus.GRANTED.value).all().alias("granted")
    )
    return set(verdict.filter(pl.col("granted"))["customer_id"].to_list())


def may_share(connection: Connection, customer_id: int) -> bool:
    return customer_id in sharing_consented(connection, customer_id)


def identities(connection: Connection) -> pl.DataFrame:
    """source, external_id, customer_id of every source record of an unrestricted live
    profile; an external id that is an e-mail or phone number is left empty unless the
    customer consented to sharing."""
    frame = fetch_frame(
        connection,
        text(
            "SELECT r.source, r.external_id, r.customer_id FROM source_records r "
            f"WHERE r.customer_id NOT IN ({restricted_ids_sql()}) "
            "ORDER BY r.source, r.external_id"
        ),
        {"source": pl.String, "external_id": pl.String, "customer_id": pl.Int64},
    )
    shared = pl.Series(sorted(sharing_consented(connection)), dtype=pl.Int64)
    personal = frame["external_id"].map_elements(
        lambda value: bool(PERSONAL_ID.search(value)), return_dtype=pl.Boolean
    )
    return frame.with_columns(
        pl.when(personal & ~pl.col("customer_id").is_in(shared.implode()))
        .then(pl.lit(None, dtype=pl.String))
        .otherwise(pl.col("external_id"))
        .alias("external_id")
    )


CUSTOMER_SCHEMA = {
    "customer_id": pl.Int64,
    **{name: pl.Date if name == "birthday" else pl.String for name in PERSONAL_COLUMNS},
    "country": pl.String,
    "language": pl.String,
    "segment": pl.String,
    "clv_minor": pl.Int64,
    "p_alive": pl.Float64,
}


def customers(connection: Connection) -> pl.DataFrame:
    """Every unrestricted live customer with the latest run's segment and value, and
    `personal_data` saying whether the personal columns are filled (consent to sharing)."""
    personal = ", ".join(f"c.{name}" for name in PERSONAL_COLUMNS)
    frame = fetch_frame(
        connection,
        text(
            f"SELECT c.id, {personal}, c.country, c.language, s.segment, s.clv_minor, "
            "s.p_alive FROM customers c LEFT JOIN customer_scores s ON s.customer_id = c.id "
            "AND s.run_id = (SELECT MAX(id) FROM score_runs) "
            "WHERE c.merged_into_id IS NULL AND c.restricted_at IS NULL ORDER BY c.id"
        ),
        CUSTOMER_SCHEMA,
    )
    shared = pl.Series(sorted(sharing_consented(connection)), dtype=pl.Int64)
    allowed = pl.col("customer_id").is_in(shared.implode())
    return frame.with_columns(
        *(
            pl.when(allowed).then(pl.col(name)).otherwise(pl.lit(None, dtype=frame[name].dtype))
            for name in PERSONAL_COLUMNS
        ),
        allowed.alias("personal_data"),
    )
