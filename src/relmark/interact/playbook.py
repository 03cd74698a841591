"""Playbooks: who gets which message when, declared in TOML files a marketer can copy and edit.

A playbook names a trigger (an order, a first purchase of a product with a how-to, a date such
as a birthday, or the latest scores), a delay, one or more audiences (a customer qualifies when
any of them matches), a channel, a template, a priority, a purpose and a control-group share.
Files are validated as a whole: every problem is reported with the file and the field.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Collection
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from relmark.enums import RFM_SEGMENTS as SEGMENTS
from relmark.errors import InvalidInput, Problem

SHIPPED = resources.files("relmark.interact") / "playbooks"


class Purpose(StrEnum):
    """Why a message is sent; decides the consent it needs and whether caps apply."""

    MARKETING = "marketing"  # needs granted marketing consent; counts against the budget
    SERVICE = "service"  # about something the customer bought; stops on opt-out; counts
    TRANSACTIONAL = "transactional"  # receipts and the like: exempt from caps and consent


class TriggerKind(StrEnum):
    ORDER = "order"  # a completed order, `delay_days` later
    FIRST_PURCHASE_WITH_HOWTO = "first_purchase_with_howto"  # first time a product is bought
    BIRTHDAY = "birthday"  # on the day, in the customer's timezone
    ANNIVERSARY = "anniversary"  # of the customer's first purchase / sign-up
    SCORE = "score"  # whenever the audience conditions hold on the latest scores
    TIER_CHANGED = "tier_changed"  # a loyalty tier change (to `to_tier`), `delay_days` later


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


#: How late a message may go out when `late_until` is not set: an event's message two days
#: after it fell due (the old `expires_days` default), a date's only on the day.
DEFAULT_LATE_DAYS = {"event": 2, "date": 0}


class Trigger(Strict):
    on: TriggerKind
    delay_days: Annotated[int, Field(ge=0, le=365)] = 0
    late_until: Annotated[int, Field(ge=0, le=60)] | None = None
    """How many days after its occasion fell due a message may still go out (after an outage
    or a late plan); later it is held as `expired` (a thank-you three weeks late is worse
    than none). For dates, 0 means on the local day only. Unset: 2 for events, 0 for dates."""
    local_hour: Annotated[int, Field(ge=0, le=23)] = 9
    """For date triggers: the hour of the day, in the customer's timezone, to send at."""
    to_tier: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")] | None = None
    """For tier_changed: only changes into this tier ("welcome to gold"); unset: any."""

    @model_validator(mode="after")
    def _to_tier_only_for_tier_changes(self) -> Trigger:
        if self.to_tier is not None and self.on is not TriggerKind.TIER_CHANGED:
            raise ValueError('to_tier belongs to on = "tier_changed"')
        return self

    @model_validator(mode="before")
    @classmethod
    def _renamed_expires_days(cls, data: Any) -> Any:
        """`expires_days` meant the same number of days: old files keep working."""
        if isinstance(data, dict) and "expires_days" in data:
            if "late_until" in data:
                raise ValueError(
                    "expires_days was renamed late_until: keep only late_until "
                    f"(late_until = {data['late_until']})"
                )
            data = {**data, "late_until": data["expires_days"]}
            del data["expires_days"]
        return data

    @property
    def is_date(self) -> bool:
        return self.on in (TriggerKind.BIRTHDAY, TriggerKind.ANNIVERSARY)

    @property
    def late_days(self) -> int:
        """`late_until`, or the default for this kind of trigger."""
        if self.late_until is not None:
            return self.late_until
        return DEFAULT_LATE_DAYS["date" if self.is_date else "event"]


class Audience(Strict):
    """Conditions that must all hold; an unset condition does not filter."""

    segments: list[str] | None = None
    exclude_segments: list[str] | None = None
    min_p_alive: Annotated[float, Field(ge=0, le=1)] | None = None
    max_p_alive: Annotated[float, Field(ge=0, le=1)] | None = None
    clv_top_share: Annotated[float, Field(gt=0, le=1)] | None = None
    """Only customers whose CLV is in this top share of all scored customers."""
    revenue_top_share: Annotated[float, Field(gt=0, le=1)] | None = None
    """Only customers whose past revenue is in this top share of all scored customers."""
    min_orders: Annotated[int, Field(ge=1)] | None = None
    categories: list[str] | None = None
    """Bought at least one product in one of these categories."""
    languages: list[str] | None = None
    partners: list[str] | None = None
    """Bought through one of these partners (external ids)."""
    promoter: bool | None = None
    """Rated us 9-10 (of 10) in a satisfaction check."""
    tiers: list[str] | None = None
    """Loyalty members in one of these tiers (as the programme file names them)."""

    @field_validator("segments", "exclude_segments")
    @classmethod
    def _known_segments(cls, value: list[str] | None) -> list[str] | None:
        unknown = sorted(set(value or ()) - set(SEGMENTS))
        if unknown:
            raise ValueError(f"unknown segment {unknown[0]!r}; known: {', '.join(SEGMENTS)}")
        return value

    @model_validator(mode="after")
    def _p_alive_range(self) -> Audience:
        if (
            self.min_p_alive is not None
            and self.max_p_alive is not None
            and self.min_p_alive > self.max_p_alive
        ):
            raise ValueError("min_p_alive is above max_p_alive: nobody can match")
        return self

    @property
    def needs_scores(self) -> bool:
        return any(
            v is not None
            for v in (
                self.segments,
                self.exclude_segments,
                self.min_p_alive,
                self.max_p_alive,
                self.clv_top_share,
                self.revenue_top_share,
                self.min_orders,
            )
        )


class OfferKind(StrEnum):
    """What a playbook's message promises (the store's offer kinds a playbook can make)."""

    DISCOUNT = "discount"
    GIFT = "gift"
    REFERRAL_REWARD = "referral_reward"


class OfferSpec(Strict):
    """The offer a playbook's messages carry: each sent message issues one, with a code of
    its own, so what a mail promises is a record the shop can check and honour."""

    kind: OfferKind
    percent_off: Annotated[float, Field(gt=0, le=100)] | None = None
    amount_minor: Annotated[int, Field(gt=0, le=10**12)] | None = None
    """A fixed amount off, in the currency's minor units (cents)."""
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] | None = None
    gift: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    """What the gift is: a key of the gift catalogue (checked where the catalogue is known)."""
    valid_days: Annotated[int, Field(ge=1, le=3650)] = 30
    """Counted from the day the message is sent, to the end of that day in the customer's
    timezone (the date the mail names)."""
    min_order_minor: Annotated[int, Field(ge=0, le=10**12)] | None = None
    max_uses: Annotated[int, Field(ge=1, le=1_000_000)] = 1
    code_prefix: Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9]{0,11}$")] = "RM"

    @model_validator(mode="before")
    @classmethod
    def _renamed_discount_percent(cls, data: Any) -> Any:
        """`discount_percent` (the free-form offer of old files) is a discount's percent_off."""
        if isinstance(data, dict) and "discount_percent" in data:
            if "percent_off" in data:
                raise ValueError("discount_percent was renamed percent_off: keep only percent_off")
            data = {**data, "percent_off": data["discount_percent"]}
            del data["discount_percent"]
            data.setdefault("kind", OfferKind.DISCOUNT.value)
        return data

    @model_validator(mode="after")
    def _one_value(self) -> OfferSpec:
        money = self.amount_minor is not None
        if self.kind is OfferKind.GIFT:
            if self.gift is None:
                raise ValueError('a gift offer names its gift (gift = "…")')
            if self.percent_off is not None or money:
                raise ValueError("a gift offer has no percent_off or amount_minor")
        elif (self.percent_off is None) == (not money):
            raise ValueError(
                f"a {self.kind.value} offer needs either percent_off or amount_minor with "
                "currency (not both)"
            )
        if money != (self.currency is not None) and self.kind is not OfferKind.GIFT:
            raise ValueError("amount_minor and currency go together")
        if self.min_order_minor is not None and self.currency is None:
            raise ValueError("min_order_minor needs the currency it is counted in")
        return self

    @property
    def issued_at_send(self) -> bool:
        """A referral reward is earned later (when the friend orders), not by this mail."""
        return self.kind is not OfferKind.REFERRAL_REWARD

    def for_template(self) -> dict[str, Any]:
        """What templates see as `offer` (with the old name of percent_off kept for
        templates written before it was renamed)."""
        values = self.model_dump(mode="json")
        values["discount_percent"] = self.percent_off
        return values


class Playbook(Strict):
    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
    title: str
    description: str = ""
    purpose: Purpose
    channel: Literal["email", "webhook"] = "email"
    template: Annotated[str, Field(pattern=r"^[a-z0-9_]{1,64}$")]
    priority: Annotated[int, Field(ge=0, le=100)] = 50
    cost: Literal["low", "high"] = "low"
    """High-cost touches (gifts, discounts) are withheld from customers below the
    profitability standard."""
    control_share: Annotated[float, Field(ge=0, le=0.9)] = 0.1
    repeat_after_days: Annotated[int, Field(ge=0, le=3650)] = 0
    """At most one message of this playbook per customer within this many days."""
    offer: OfferSpec | None = None
    """What its messages promise; each sent message issues one offer with its own code."""
    enabled: bool = True
    trigger: Trigger
    audience: list[Audience] = Field(default_factory=lambda: [Audience()])

    @field_validator("audience", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, dict) else value

    @model_validator(mode="after")
    def _score_trigger_has_conditions(self) -> Playbook:
        if self.trigger.on is TriggerKind.SCORE:
            if not all(a.needs_scores or a.promoter for a in self.audience):
                raise ValueError(
                    "a score trigger needs score conditions in every audience "
                    "(segments, p_alive, clv_top_share or min_orders), else it targets everyone"
                )
            if self.repeat_after_days == 0:
                raise ValueError("a score trigger needs repeat_after_days (how often at most)")
        return self

    @property
    def needs_scores(self) -> bool:
        return any(a.needs_scores for a in self.audience)

    @property
    def promises_value(self) -> bool:
        """It promises money or goods (a gift, a discount, a reward): the shop must set the
        offer up before the first one goes out, so it never starts on by itself."""
        return self.cost == "high" or self.offer is not None


#: Why a playbook that promises money or goods is off in a store nobody switched it on in.
OFFER_FIRST = "configure the offer first"
DISABLED_HERE = "disabled in this store"
DISABLED_IN_FILE = "disabled in its file"


def playbook_state(book: Playbook, stored: bool | None) -> tuple[bool, str | None]:
    """Whether `book` runs in a store, and if not why. `stored` is the store's own switch
    (None: nobody switched it there). A switch in the store wins; without one a playbook
    runs as its file says, except one that promises value, which waits for an explicit
    `relmark playbooks enable` (a new store never sends an offer the shop has not made)."""
    if stored is not None:
        return stored, None if stored else DISABLED_HERE
    if not book.enabled:
        return False, DISABLED_IN_FILE
    if book.promises_value:
        return False, OFFER_FIRST
    return True, None


def parse_playbook(text: str, where: str) -> Playbook:
    """One playbook from TOML text; every problem reported as `where: field: message`."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput.single(where, f"not valid TOML: {exc}") from None
    try:
        return Playbook.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput([_problem(where, e) for e in exc.errors()]) from None


def _problem(where: str, error: Any) -> Problem:
    field = ".".join(str(p) for p in error["loc"]) or "(file)"
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown field (a typo?)"
    return Problem(where, message, column=field)


def playbook_row(book: Playbook, stored: bool | None) -> dict[str, Any]:
    """What `playbooks list`, the API and the dashboard show about a playbook."""
    enabled, reason = playbook_state(book, stored)
    return {
        "name": book.name,
        "title": book.title,
        "trigger": book.trigger.on.value,
        "purpose": book.purpose.value,
        "channel": book.channel,
        "priority": book.priority,
        "cost": book.cost,
        "control_share": book.control_share,
        "offer": book.offer.model_dump(mode="json", exclude_none=True) if book.offer else {},
        "enabled": enabled,
        "reason": reason,
    }


def load_playbooks(
    folder: Path | None = None, gift_keys: Callable[[], Collection[str]] | None = None
) -> list[Playbook]:
    """The playbooks of `folder` (every *.toml), or the shipped ones; names must be unique.
    With `gift_keys` (the gift catalogue's keys, asked for only when a gift offer is met), a
    gift offer must name one: otherwise its cost is never known and the pick list cannot
    name it."""
    if folder is not None and not folder.is_dir():
        raise InvalidInput.single(str(folder), "no such folder of playbooks")
    entries = sorted(
        (p for p in (folder or SHIPPED).iterdir() if p.name.endswith(".toml")),
        key=lambda p: p.name,
    )
    problems: list[Problem] = []
    books: dict[str, Playbook] = {}
    known: Collection[str] | None = None
    for entry in entries:
        where = str(entry) if folder else f"shipped playbook {entry.name}"
        try:
            book = parse_playbook(entry.read_text(encoding="utf-8"), where)
        except InvalidInput as exc:
            problems.extend(exc.problems)
            continue
        if book.name in books:
            problems.append(Problem(where, f"playbook name {book.name!r} is used twice"))
        gift = book.offer.gift if book.offer and book.offer.kind == OfferKind.GIFT else None
        if gift is not None and gift_keys is not None:
            known = gift_keys() if known is None else known  # read once, and only if needed
            if gift not in known:
                message = (
                    f"{gift!r} is not in the gift catalogue (RELMARK_GIFTS_DIR or the shipped "
                    f"gifts.toml); known: {', '.join(sorted(known)) or 'none'}"
                )
                problems.append(Problem(where, message, column="offer.gift"))
        books[book.name] = book
    if problems:
        raise InvalidInput(problems)
    return list(books.values())


def shipped_files() -> dict[str, str]:
    """File name → text of every shipped playbook (for `relmark playbooks copy`)."""
    return {
        p.name: p.read_text(encoding="utf-8") for p in SHIPPED.iterdir() if p.name.endswith(".toml")
    }
