"""The gift catalogue: what each gift offer's key means to the warehouse (a name in every
language) and to finance (its cost). Shipped in `interact/gifts/gifts.toml`; a store's own
folder (RELMARK_GIFTS_DIR) replaces it, as a playbooks folder replaces the shipped playbooks.
Checked as a whole: every problem is reported with the file and the field.
"""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from relmark.errors import InvalidInput, Problem
from relmark.interact.templating import LANGUAGES

SHIPPED = resources.files("relmark.interact") / "gifts" / "gifts.toml"
FILE_NAME = "gifts.toml"


class Gift(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: dict[str, Annotated[str, Field(min_length=1, max_length=200)]]
    cost_minor: Annotated[int, Field(ge=0, le=10**12)]
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    stock: Annotated[int, Field(ge=0, le=10**9)] | None = None

    @field_validator("name")
    @classmethod
    def _languages(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(LANGUAGES))
        if unknown:
            raise ValueError(f"unknown language {unknown[0]!r}; known: {', '.join(LANGUAGES)}")
        if "en" not in value:
            raise ValueError("needs an English name (en), the fallback for every language")
        return value

    def name_in(self, language: str | None) -> str:
        return self.name.get(language or "en") or self.name["en"]


class Catalogue(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    gifts: dict[Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")], Gift] = Field(
        default_factory=dict
    )


def parse_catalogue(text: str, where: str) -> dict[str, Gift]:
    """Gifts by key from TOML text; every problem as `where: field: message`."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput.single(where, f"not valid TOML: {exc}") from None
    try:
        return dict(Catalogue.model_validate(data).gifts)
    except ValidationError as exc:
        raise InvalidInput([_problem(where, e) for e in exc.errors()]) from None


def _problem(where: str, error: Any) -> Problem:
    location = [str(p) for p in error["loc"] if p != "[key]"]
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown field (a typo?)"
    elif error["type"] == "string_pattern_mismatch" and len(location) == 2:
        message = "a gift key is lower-case letters, digits and dashes (like tote-bag)"
    elif error["type"] == "string_pattern_mismatch" and location[-1:] == ["currency"]:
        message = "a three-letter currency code in capitals (like EUR)"
    return Problem(where, message, column=".".join(location) or "(file)")


def load_gifts(folder: Path | None = None) -> dict[str, Gift]:
    """The catalogue of `folder`/gifts.toml, or the shipped one."""
    if folder is None:
        return parse_catalogue(SHIPPED.read_text(encoding="utf-8"), f"shipped {FILE_NAME}")
    path = folder / FILE_NAME
    if not path.is_file():
        raise InvalidInput.single(str(path), "no gift catalogue here (RELMARK_GIFTS_DIR)")
    return parse_catalogue(path.read_text(encoding="utf-8"), str(path))
