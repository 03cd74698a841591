"""The loyalty programme as an editable TOML file, checked like playbooks: every problem is
reported with the file and the key.

The shipped file (programme.toml beside this module) is a sensible default; a store points
RELMARK_LOYALTY_FILE at its own copy to change it. Nothing is earned until the store
switches the programme on (`relmark loyalty enable`): a new store promises no points it did
not set up.
"""

from __future__ import annotations

import tomllib
from datetime import date
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from babel.numbers import get_currency_precision, is_currency
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from relmark.errors import InvalidInput, Problem

SHIPPED = resources.files("relmark.interact.loyalty") / "programme.toml"
ENABLED_KEY = "loyalty.enabled"
Points = Annotated[int, Field(ge=0, le=10**9)]
Key = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TierLevel(Strict):
    name: Key
    min: Annotated[int, Field(ge=0)]
    """Points earned (or spend in whole units of the programme's currency) in the window."""


class Tiers(Strict):
    basis: Literal["points", "spend"] = "points"
    window_months: Annotated[int, Field(ge=1, le=60)] = 12
    levels: list[TierLevel] = Field(default_factory=list)

    @field_validator("levels")
    @classmethod
    def _ascending(cls, levels: list[TierLevel]) -> list[TierLevel]:
        names = [level.name for level in levels]
        if len(set(names)) != len(names):
            raise ValueError(f"tier names must differ: {', '.join(names)}")
        mins = [level.min for level in levels]
        if mins != sorted(mins) or len(set(mins)) != len(mins):
            raise ValueError("tiers go from the lowest to the highest minimum, each higher")
        return levels


class Reward(Strict):
    """What a number of points buys: an amount or a percentage off, or a gift."""

    key: Key
    title: Annotated[str, Field(min_length=1, max_length=200)]
    points: Annotated[int, Field(ge=1, le=10**9)]
    amount: Annotated[Decimal, Field(gt=0, le=10**9)] | None = None
    percent_off: Annotated[Decimal, Field(gt=0, le=100)] | None = None
    gift: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    valid_days: Annotated[int, Field(ge=1, le=3650)] = 90

    @model_validator(mode="after")
    def _gives_one_thing(self) -> Reward:
        given = [n for n in ("amount", "percent_off", "gift") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError(
                "a reward gives exactly one of amount, percent_off or gift"
                + (f" (this one: {', '.join(given)})" if given else "")
            )
        return self


class Programme(Strict):
    name: Annotated[str, Field(min_length=1, max_length=100)] = "Rewards"
    currency: str
    points_per_unit: Annotated[Decimal, Field(ge=0, le=10**6)] = Decimal(1)
    points_per_order: Points = 0
    birthday_points: Points = 0
    referral_points: Points = 0
    expiry_months: Annotated[int, Field(ge=1, le=120)] | None = 24
    """None (the key left out) means points never expire."""
    point_value: Annotated[Decimal, Field(ge=0, le=10**6)]
    starts: date | None = None
    """Orders before this day earn nothing (default: every order counts)."""
    per_currency: dict[str, Annotated[Decimal, Field(ge=0, le=10**6)]] = Field(default_factory=dict)
    tiers: Tiers = Field(default_factory=Tiers)
    rewards: list[Reward] = Field(default_factory=list)

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        if not is_currency(value.upper()):
            raise ValueError(f"{value!r} is not an ISO 4217 currency code")
        return value.upper()

    @field_validator("per_currency")
    @classmethod
    def _currencies(cls, value: dict[str, Decimal]) -> dict[str, Decimal]:
        bad = [c for c in value if not is_currency(c.upper())]
        if bad:
            raise ValueError(f"{bad[0]!r} is not an ISO 4217 currency code")
        return {c.upper(): v for c, v in value.items()}

    @field_validator("rewards")
    @classmethod
    def _unique_rewards(cls, rewards: list[Reward]) -> list[Reward]:
        keys = [r.key for r in rewards]
        twice = sorted({k for k in keys if keys.count(k) > 1})
        if twice:
            raise ValueError(f"reward key {twice[0]!r} is used twice")
        return rewards

    @property
    def digits(self) -> int:
        return int(get_currency_precision(self.currency))

    def reward(self, key: str) -> Reward:
        for reward in self.rewards:
            if reward.key == key:
                return reward
        known = ", ".join(r.key for r in self.rewards) or "none"
        raise InvalidInput.single("REWARD", f"no reward {key!r} in the catalogue (known: {known})")

    def tier_of(self, qualifying: int) -> str | None:
        found = None
        for level in self.tiers.levels:
            if qualifying >= level.min:
                found = level.name
        return found


def parse_programme(text: str, where: str) -> Programme:
    """The programme in TOML `text`; every problem as `where: key: message`."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput.single(where, f"not valid TOML: {exc}") from None
    try:
        return Programme.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput([_problem(where, e) for e in exc.errors()]) from None


def _problem(where: str, error: Any) -> Problem:
    key = ".".join(str(p) for p in error["loc"]) or "(file)"
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown key (a typo?)"
    return Problem(where, message, column=key)


def load_programme(path: Path | None = None) -> Programme:
    """The programme in `path`, or the shipped one."""
    if path is None:
        return parse_programme(SHIPPED.read_text(encoding="utf-8"), "shipped loyalty programme")
    if not path.is_file():
        raise InvalidInput.single(str(path), "no such loyalty programme file")
    return parse_programme(path.read_text(encoding="utf-8"), str(path))


def shipped_text() -> str:
    return SHIPPED.read_text(encoding="utf-8")
