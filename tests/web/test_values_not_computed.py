"""When a scoring run has no P(alive) or CLV, the API and the dashboard show null / "not
computed" with the run's reason, count active customers by what the label says, and say what
P(alive) and lifetime value mean."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from relmark import accounts
from relmark.accounts import Role

from ..interact.conftest import scores
from .conftest import Web
from .test_api import shop

AS_OF = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
REASON = "only 2 of 3 customers bought more than once; the purchase models need at least 3"


def unvalued_shop(web: Web) -> dict[str, int]:
    ids = shop(web)
    scores(
        web.shop.engine,
        {
            ids["C1"]: {"segment": "champions", "p_alive": None, "clv_minor": None},
            ids["C2"]: {"days_since_last": 400, "p_alive": None, "clv_minor": None},
            ids["C3"]: {"days_since_last": 400, "p_alive": None, "clv_minor": None},
        },
        AS_OF,
    )
    with web.shop.engine.begin() as connection:
        connection.execute(
            text("UPDATE score_runs SET p_alive_reason = :r, clv_reason = :r"), {"r": REASON}
        )
    return ids


def test_api_gives_null_and_the_reason(web: Web) -> None:
    ids = unvalued_shop(web)
    viewer = web.as_role("viewer")

    listed = web.client.get("/api/v1/customers", headers=viewer).json()["items"]
    runs = web.client.get("/api/v1/score-runs", headers=viewer).json()
    one = web.client.get(f"/api/v1/customers/{ids['C1']}", headers=viewer).json()
    kpi = web.client.get("/api/v1/reports/kpi", headers=viewer).json()

    assert {(c["p_alive"], c["p_alive_reason"], c["clv_reason"]) for c in listed} == {
        (None, REASON, REASON)
    }
    assert runs[0]["p_alive_reason"] == REASON
    assert one["score"]["p_alive"] is None
    assert one["score"]["p_alive_reason"] == REASON
    assert one["score_run"]["value_horizon_months"] == 12
    # active without P(alive): a purchase within a year (C1 10 days ago; C2, C3 400 days)
    assert kpi["active"] == 1
    assert kpi["active_rule"] == {"p_alive_at_least": 0.5, "purchase_within_days": 365}
    assert kpi["customer_equity_minor"] is None
    assert kpi["customer_equity_reason"] == REASON


def test_active_counts_p_alive_of_at_least_one_half(web: Web) -> None:
    ids = shop(web)
    scores(
        web.shop.engine,
        {
            ids["C1"]: {"p_alive": 0.5, "days_since_last": 400},
            ids["C2"]: {"p_alive": 0.49, "days_since_last": 10},
            ids["C3"]: {"p_alive": None, "days_since_last": 10},  # this one customer's value
        },
        AS_OF,
    )

    kpi = web.client.get("/api/v1/reports/kpi", headers=web.as_role("viewer")).json()

    assert kpi["active"] == 2  # C1 by P(alive), C3 by a recent purchase; C2 is not
    assert kpi["customer_equity_minor"] == 3000


def _sign_in(web: Web) -> None:
    accounts.add_user(
        web.shop.engine, "mia@example.com", "correct horse battery", Role.VIEWER, AS_OF
    )
    web.client.post(
        "/login", data={"email": "mia@example.com", "password": "correct horse battery"}
    )


def test_dashboard_says_not_computed_why_and_what_the_figures_mean(web: Web) -> None:
    ids = unvalued_shop(web)
    _sign_in(web)

    overview = web.client.get("/").text
    customer = web.client.get(f"/customers/{ids['C1']}").text
    listing = web.client.get("/customers").text
    ukrainian = web.client.get(f"/customers/{ids['C1']}?lang=uk").text

    assert f"not computed: {REASON}" in overview
    assert "P(alive): the probability that a customer has not stopped buying for good." in overview
    assert "or a purchase in the last year where no model could be fitted" in overview
    assert "Lifetime value (12-month margin at 35%)" in overview
    assert f"not computed: {REASON}" in customer
    assert "Lifetime value (12-month margin at 35%)" in customer
    assert "not computed" in listing
    assert f"не обчислено: {REASON}" in ukrainian


def test_customer_page_shows_the_value_interval_as_parameter_uncertainty(web: Web) -> None:
    ids = shop(web)
    scores(
        web.shop.engine,
        {ids["C1"]: {"clv_minor": 90000, "clv_p10_minor": 60000, "clv_p90_minor": 120000}},
        AS_OF,
    )
    _sign_in(web)

    page = web.client.get(f"/customers/{ids['C1']}").text

    assert "80% interval (parameter uncertainty)" in page
    assert "€600.00" in page
    assert "€1,200.00" in page


def test_a_value_without_an_interval_says_why_in_the_readers_language(web: Web) -> None:
    # given a value with no interval (a limit answer, or a run scored without draws)
    ids = shop(web)
    scores(
        web.shop.engine,
        {ids["C1"]: {"clv_minor": 90000, "clv_p10_minor": None, "clv_p90_minor": None}},
        AS_OF,
    )
    _sign_in(web)

    # when the customer page is read in English and in Ukrainian
    page = web.client.get(f"/customers/{ids['C1']}").text
    ukrainian = web.client.get(f"/customers/{ids['C1']}?lang=uk").text

    # then the page says why there is no interval instead of leaving a blank
    assert "No 80% interval: the model answered at a limit of its parameters" in page
    assert "Без 80% інтервалу: модель дала відповідь на межі своїх параметрів" in ukrainian
    assert "80% interval (parameter uncertainty)" not in page
