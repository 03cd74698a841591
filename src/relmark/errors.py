"""A few exceptions with context; each says what was being done and why it failed."""

from __future__ import annotations

from dataclasses import dataclass, field


class RelmarkError(Exception):
    """Base of every error relmark raises on purpose (a user can act on its message)."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one place in an input: `FILE:LINE: column 'c': message`."""

    where: str
    message: str
    line: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        place = self.where if self.line is None else f"{self.where}:{self.line}"
        column = f" column '{self.column}':" if self.column else ""
        return f"{place}:{column} {self.message}"


@dataclass
class InvalidInput(RelmarkError):
    """The input cannot be used as it is; nothing was changed."""

    problems: list[Problem] = field(default_factory=list)
    total: int | None = None
    shown: int = 20

    def __post_init__(self) -> None:
        super().__init__(self.render())

    @classmethod
    def single(cls, where: str, message: str, line: int | None = None) -> InvalidInput:
        return cls([Problem(where, message, line)])

    @property
    def count(self) -> int:
        return self.total if self.total is not None else len(self.problems)

    def render(self) -> str:
        lines = [str(p) for p in self.problems[: self.shown]]
        if self.count > len(lines):
            lines.append(f"... and {self.count - len(lines)} more problems ({self.count} in all)")
        return "\n".join(lines)


class StoreError(RelmarkError):
    """The store cannot be opened or is not at the schema this relmark expects."""
