"""What the valuation's figures mean, in one place: every screen labels them the same way.

P(alive) is the purchase model's probability that a customer has not stopped buying for
good; "active" counts the customers with P(alive) of at least one half, or, when no model
could be fitted, those who bought within the last year. Lifetime value is the discounted gross
margin of the purchases expected over the run's horizon at its margin rate; its interval is the
10th-90th percentile over the model parameters' uncertainty (not over what a customer may do).
"""

from __future__ import annotations

from typing import Any

#: A customer is active with P(alive) at least this ...
ACTIVE_P_ALIVE = 0.5
#: ... or, without a model, with a purchase within this many days.
ACTIVE_DAYS = 365

P_ALIVE_MEANING = (
    "P(alive): the probability that the customer has not stopped buying for good, "
    "estimated by the purchase model from how often and how recently they bought"
)
ACTIVE_MEANING = (
    f"active: P(alive) of at least {ACTIVE_P_ALIVE:.0%}, or, when no model could be fitted, "
    f"a purchase within the last {ACTIVE_DAYS} days"
)
INTERVAL_MEANING = (
    "the 80% interval (10th-90th percentile) covers the uncertainty of the model's "
    "parameters, not what one customer may do"
)


def value_terms(settings: dict[str, Any] | None) -> tuple[int, float]:
    """(horizon in months, margin rate) of a run's stored settings."""
    settings = settings or {}
    margin = (settings.get("costs") or {}).get("default_margin_rate", 0.35)
    return int(settings.get("horizon_months", 12)), float(margin)


def value_label(settings: dict[str, Any] | None) -> str:
    """What the run's lifetime value is: e.g. '12-month margin value at 35% margin'."""
    months, margin = value_terms(settings)
    return f"{months}-month margin value at {margin:.0%} margin"


def value_meaning(settings: dict[str, Any] | None) -> str:
    months, margin = value_terms(settings)
    return (
        f"lifetime value: the discounted gross margin of the purchases expected in the next "
        f"{months} months, at {margin:.0%} margin where an order has no cost; {INTERVAL_MEANING}"
    )


def not_computed(reason: str | None) -> str:
    return f"not computed: {reason or 'no value for this customer'}"
