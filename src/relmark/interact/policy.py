"""The contact policy: how much pressure a customer may get, and when not to disturb.

Kept with the store (one JSON value), edited with `relmark policy set` or the web settings
page, validated here so that a typo never turns a cap off.
"""

from __future__ import annotations

from datetime import time
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from relmark.errors import InvalidInput, Problem

POLICY_KEY = "contact-policy"


class ContactPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    max_per_7_days: Annotated[int, Field(ge=0, le=50)] = 2
    max_per_30_days: Annotated[int, Field(ge=0, le=200)] = 6
    min_hours_between: Annotated[int, Field(ge=0, le=24 * 30)] = 48
    quiet_start: time = time(21, 0)
    quiet_end: time = time(8, 0)
    capped_purposes: tuple[str, ...] = ("marketing", "service")
    """Purposes that count against the budget; transactional messages never do."""
    below_standard_costs: tuple[str, ...] = ("low",)
    """Treatment costs allowed for customers below the profitability standard."""
    below_standard_channels: tuple[str, ...] = ("email",)
    daily_budget: Annotated[int, Field(ge=1)] | None = None
    """Most capped messages one plan may send; when short, priority then CLV decide."""

    @model_validator(mode="after")
    def _consistent(self) -> ContactPolicy:
        if "transactional" in self.capped_purposes:
            raise ValueError("transactional messages are exempt from caps by definition")
        if self.max_per_30_days < self.max_per_7_days:
            raise ValueError("max_per_30_days is below max_per_7_days")
        return self

    @property
    def quiet(self) -> bool:
        return self.quiet_start != self.quiet_end


def policy_from(value: Any, where: str = "contact policy") -> ContactPolicy:
    try:
        return ContactPolicy.model_validate(value or {})
    except ValidationError as exc:
        raise InvalidInput(
            [
                Problem(
                    where,
                    e["msg"].removeprefix("Value error, "),
                    column=".".join(map(str, e["loc"])) or None,
                )
                for e in exc.errors()
            ]
        ) from None
