"""One typed settings object, read from the environment (prefix RELMARK_).

Built by a function, never at import time, so that tests and commands can override it.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """What relmark needs to know about its surroundings."""

    model_config = SettingsConfigDict(env_prefix="RELMARK_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///relmark.db",
        description="SQLAlchemy URL of the store; SQLite file in the current folder by default.",
    )
    currency: str = Field(
        default="USD", description="Currency assumed for amounts that come without one."
    )
    timezone: str = Field(
        default="UTC", description="Zone assumed for timestamps that come without an offset."
    )

    @field_validator("currency")
    @classmethod
    def _upper_currency(cls, value: str) -> str:
        return value.strip().upper()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings from the environment, read once per process."""
    return Settings()
