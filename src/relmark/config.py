"""One typed settings object, read from the environment (prefix RELMARK_).

Built by a function, never at import time, so that tests and commands can override it.
The shop's own values (name, URLs, sender, Reply-To, currency, zone, logo) may also be kept
in the store; `relmark.shop_settings` gives the effective ones (environment first).
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from relmark.defaults import DEFAULT_DATABASE_URL, DEFAULT_TIMEZONE


class Settings(BaseSettings):
    """What relmark needs to know about its surroundings."""

    model_config = SettingsConfigDict(env_prefix="RELMARK_", extra="ignore")

    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        description="SQLAlchemy URL of the store; SQLite file in the current folder by default.",
    )
    currency: str = Field(
        default="USD", description="Currency assumed for amounts that come without one."
    )
    timezone: str = Field(
        default=DEFAULT_TIMEZONE,
        description="Zone assumed for timestamps that come without an offset.",
    )

    shop_name: str = Field(default="relmark demo shop", description="Signs every message.")
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Where relmark's web server is reachable: links in messages point here.",
    )
    shop_url: str | None = Field(
        default=None, description="The shop's own site (win-back and referral links)."
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Signs unsubscribe and tracking links; default: a secret kept in the store.",
    )
    playbooks_dir: Path | None = Field(
        default=None, description="Folder of playbook files; default: the shipped playbooks."
    )
    loyalty_file: Path | None = Field(
        default=None,
        description="The loyalty programme's TOML file; default: the shipped programme.",
    )
    templates_dir: Path | None = Field(
        default=None, description="Folder of message templates; default: the shipped ones."
    )
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "relmark <noreply@relmark.invalid>"
    reply_to: str | None = Field(
        default=None, description="Reply-To of sent mail, when replies go elsewhere than From."
    )
    logo_url: str | None = Field(
        default=None, description="Image shown at the top of every HTML message."
    )
    smtp_starttls: bool = False
    smtp_timeout: float = 30.0
    webhook_url: str | None = Field(
        default=None, description="Messages of the webhook channel (SMS and others) go here."
    )
    webhook_secret: SecretStr | None = Field(
        default=None, description="HMAC-SHA256 key for the webhook signature header."
    )
    offers_webhook_url: str | None = Field(
        default=None,
        description="The shop's endpoint for offer events (offer.issued, offer.redeemed, "
        "offer.expired, offer.voided), so its checkout knows the codes; unset, none are sent.",
    )
    offers_webhook_secret: SecretStr | None = Field(
        default=None,
        description="HMAC-SHA256 key signing offer events; default RELMARK_WEBHOOK_SECRET.",
    )
    gifts_dir: Path | None = Field(
        default=None,
        description="Folder holding the store's own gifts.toml; default: the shipped catalogue.",
    )

    imap_host: str | None = Field(
        default=None,
        description="The unsubscribe mailbox's IMAP server. Set, messages carry a mailto: "
        "unsubscribe beside the https one-click link and `relmark unsubscribe-mailbox poll` "
        "(and the engine) honour the mail it receives; unset, only the https link.",
    )
    imap_port: int | None = Field(
        default=None, description="Default 993 with tls=ssl, else 143.", ge=1, le=65535
    )
    imap_user: str | None = None
    imap_password: SecretStr | None = None
    imap_mailbox: str = Field(default="INBOX", description="The folder unsubscribe mail lands in.")
    imap_tls: Literal["ssl", "starttls", "none"] = Field(
        default="ssl", description="ssl (IMAPS), starttls, or none (a local test server only)."
    )
    imap_timeout: float = 30.0
    imap_address: str | None = Field(
        default=None,
        description="The address delivered to that mailbox, used in the mailto: "
        "(default: RELMARK_IMAP_USER when it is an e-mail address).",
    )

    outbox_prune_after_days: int = Field(
        default=90,
        ge=1,
        le=36500,
        description="Held outbox candidates older than this are pruned (their counts are "
        "kept per plan run); `relmark outbox-prune` and the engine use it.",
    )
    referral_return_window_days: int = Field(
        default=30,
        ge=0,
        le=3650,
        description="A referral is rewarded once the referee's order is this many days old "
        "(it can no longer be returned); `relmark referrals reward` and the engine use it.",
    )
    referral_reward_valid_days: int = Field(
        default=180,
        ge=1,
        le=3650,
        description="How long the referrer's reward code stays valid after it is issued.",
    )

    trusted_proxies: str = Field(
        default="",
        description="Comma-separated addresses or networks of the reverse proxies in front of "
        "relmark (e.g. 127.0.0.1,10.0.0.0/8): only from them is X-Forwarded-For believed, "
        "for the sign-in limits. Default: none, the connecting address counts.",
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _valid_networks(cls, value: str) -> str:
        for part in filter(None, (p.strip() for p in value.split(","))):
            ipaddress.ip_network(part, strict=False)  # ValueError: a clear settings error
        return value

    def unsubscribe_mailto(self) -> str | None:
        """The address a mailto: unsubscribe goes to, or None when no mailbox is read:
        a mailto nobody reads would be a promise relmark does not keep."""
        if not self.imap_host:
            return None
        address = self.imap_address or self.imap_user or ""
        return address if "@" in address else None

    def trusted_proxy_networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        parts = (p.strip() for p in self.trusted_proxies.split(","))
        return [ipaddress.ip_network(p, strict=False) for p in parts if p]

    @field_validator("currency")
    @classmethod
    def _upper_currency(cls, value: str) -> str:
        return value.strip().upper()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings from the environment, read once per process."""
    return Settings()
