"""The contract of erasure: every text or JSON column that can hold personal data, and what
erasure (store/erasure.py) does to it; and the other text/JSON columns, with why they may
stay. tests/store/test_personal_data.py fails when a column is added to the models without
being classified here: whoever adds one decides whether an erasure must clear it.
"""

from __future__ import annotations

ERASED = "erased"

#: The profile fields that name, reach or locate a person (country, language, time zone and
#: "customer since" stay: coarse, and kept for aggregates).
IDENTIFYING = ("first_name", "last_name", "email", "phone", "region", "city", "postcode")
IDENTIFYING += ("address", "birthday", "attributes")

#: table → column → what erasure does ("null", "replace": a fixed marker, "scrub": keep only
#: known non-personal keys of a JSON object, "delete": the row goes).
PERSONAL: dict[str, dict[str, str]] = {
    "customers": dict.fromkeys(IDENTIFYING, "null"),
    "source_records": dict.fromkeys(
        (*IDENTIFYING, "email_key", "phone_key", "key_problems"), "null"
    )
    | {"external_id": "replace"},  # a user id may be an e-mail: 'erased-<record id>'
    "consents": {"proof": "replace"},  # proof text holds IPs, addresses, file lines
    "customer_events": {"parameters": "scrub"},  # tracked properties, traits, external ids
    "messages": {"context": "null", "last_error": "null"},  # SMTP errors quote addresses
    "message_events": {"data": "scrub"},  # IP address, user agent, clicked URL
    "merges": {"evidence": "scrub"},  # the shared e-mail or phone itself
    "review_pairs": {"evidence": "scrub"},
    "tracked_messages": {"message_id": "delete"},  # client ids; the payloads went to events
    "mentions": {"author_handle": "replace", "text": "replace"},
    "support_contacts": {"reason": "replace"},
    "demo_truth": {"key": "delete", "truth": "delete"},  # 'web:C123' ties records to people
    "rectifications": {"value": "delete"},  # corrected values, pinned over the sources
    "offers": {"close_reason": "replace"},  # typed by staff voiding one: may name the person
    "loyalty_entries": {"reason": "replace"},  # a manual grant's reason, typed by staff
    "offer_webhooks": {"last_error": "null"},  # the shop's answer may quote the payload's ids
}

#: Text/JSON columns that hold no personal data, and why.
NOT_PERSONAL: dict[str, tuple[str, ...]] = {
    "customers": ("language", "country", "timezone"),  # coarse, kept for aggregates
    "source_records": ("language", "country", "timezone", "source"),
    "partners": ("external_id", "name", "kind"),  # businesses, not people
    "products": ("sku", "name", "category", "currency", "howto_url"),
    "orders": ("source", "external_id", "currency", "status", "channel"),  # order numbers
    "order_lines": ("sku",),
    "consents": ("purpose", "channel", "status", "lawful_basis", "source", "wording_version"),
    "customer_events": ("kind",),
    "imports": ("kind", "source", "file_name", "file_sha256", "file_format", "counts"),
    "support_contacts": ("channel",),
    "mentions": ("platform", "language", "category"),
    "demo_truth": ("entity",),
    "score_runs": (
        "model",
        "params",
        "spend_params",
        "settings",
        "currency",
        "input_fingerprint",
        "selection",
        "p_alive_reason",
        "clv_reason",
    ),
    "customer_scores": ("segment", "explanation", "profit_tier"),  # figures, not identity
    "merges": ("kind", "record_ids"),
    "review_pairs": ("status",),
    "store_settings": ("key", "value"),  # store configuration and the suppression salt
    "playbook_states": ("name",),
    "plan_runs": ("counts", "scope"),
    "pruned_messages": ("playbook", "reason"),  # counts of pruned held rows, no one's data
    "messages": (
        "idempotency_key",
        "playbook",
        "occasion",
        "channel",
        "purpose",
        "status",
        "reason",
        "detail",
        "rfc_message_id",
    ),
    "message_events": ("kind",),
    "users": ("email", "password_hash", "role"),  # staff accounts, not customers
    "engine_instances": ("host",),  # the machines running `relmark run`
    "engine_jobs": ("name", "last_result", "state"),  # job names, counts, order-id watermarks
    "api_keys": ("name", "prefix", "key_hash", "role"),
    "web_sessions": ("token_hash", "csrf_token"),
    "tracked_messages": ("kind",),
    "audit_log": ("actor_kind", "actor", "origin", "action", "detail"),  # ids and counts only
    "suppressions": ("key_hash", "kind"),  # salted hashes
    "rectifications": ("field", "actor_kind", "actor"),  # field names; staff, not customers
    # random codes, the shop's terms and the gift's name: no one's data
    "offers": ("code", "kind", "status", "playbook", "currency", "gift"),
    # entry kinds, rule names (a reward's key), a year or referral id; staff, not customers
    "loyalty_entries": ("kind", "rule", "occasion", "actor"),
    "loyalty_accounts": ("tier",),  # the programme's tier names
    "offer_webhooks": ("event", "status"),
    "referral_codes": ("code",),  # random (REF-7KQ2M9TX), never typed by the customer
    "referrals": ("via", "status", "reason", "currency"),  # codes from fixed lists
}

#: JSON keys that may stay in scrubbed event parameters and message-event data (scalars only).
SAFE_KEYS = frozenset(
    {
        "source",
        "line",
        "purpose",
        "channel",
        "status",
        "consent_id",
        "merge_id",
        "survivor_id",
        "absorbed_id",
        "kind",
        "type",
        "event",
        "segment",
        "via",
        "score",
        "matched",
        "reason",
    }
)
EVIDENCE_WORDS = frozenset({"same", "similar", "different", "missing"})
