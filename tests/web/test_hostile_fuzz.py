"""Whatever a client sends to the tracking endpoint, the answer is 200 or 400, never a server
error: random messages mixing valid shapes with the hostile values of issue 12."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import Web

EDGE_TEXT = [
    "1e999990",
    "-1",
    "NaN",
    "Infinity",
    "9" * 25,
    "0.000000000000000000000000000000000000001",
    "\x00",
    "\x07bell",
    "\ud800",
    '=HYPERLINK("https://evil.example")',
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-01:00",
    "+275760-09-13T00:00:00Z",
    "2026-02-30T00:00:00Z",
    "2025-05-01T10:00:00+14:00",
    "x" * 400,
]
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([2**31, 2**63 - 1, 2**63, -(2**63) - 1]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.sampled_from(EDGE_TEXT),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
PRODUCTS = st.lists(
    st.fixed_dictionaries(
        {"sku": SCALARS, "quantity": SCALARS, "price": SCALARS},
        optional={"product_id": SCALARS},
    ),
    max_size=3,
)
MESSAGES = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["identify", "track", "page", "screen", "group", "alias", "x"]),
        "userId": SCALARS,
    },
    optional={
        "anonymousId": SCALARS,
        "previousId": SCALARS,
        "messageId": SCALARS,
        "timestamp": SCALARS,
        "event": st.sampled_from(["Order Completed", "Order Refunded", "Viewed"]) | SCALARS,
        "name": SCALARS,
        "groupId": SCALARS,
        "context": VALUES,
        "traits": st.fixed_dictionaries(
            {},
            optional=dict.fromkeys(
                ("email", "phone", "firstName", "last_name", "locale", "timezone"), SCALARS
            )
            | {"name": SCALARS, "birthday": SCALARS, "country": SCALARS, "address": VALUES},
        ),
        "properties": st.fixed_dictionaries(
            {"order_id": SCALARS},
            optional={
                "total": SCALARS,
                "revenue": SCALARS,
                "discount": SCALARS,
                "currency": st.sampled_from(["EUR", "JPY", "BHD", "XXX", "eur"]) | SCALARS,
                "products": PRODUCTS | VALUES,
                "extra": VALUES,
            },
        ),
    },
)


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batch=st.lists(MESSAGES, min_size=1, max_size=3))
def test_no_tracking_body_causes_a_server_error(web: Web, batch: list[dict[str, Any]]) -> None:
    body = json.dumps({"batch": batch})
    response = web.client.post("/v1/batch", content=body, headers=web.as_role("ingest"))
    assert response.status_code in (200, 400), (response.status_code, response.text, body)
