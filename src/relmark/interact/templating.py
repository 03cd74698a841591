"""Message templates: sandboxed Jinja2, one TOML file per template with a table per language.

A template language entry has a `subject`, a plain-text `body` (paragraphs separated by blank
lines) and optionally a `button` label. The HTML part is the body's paragraphs in the shared
`_layout.html` (auto-escaped); the text part uses `_layout.txt`. Language is chosen by
fallback (`ms-MY → ms → en`); money and dates are formatted by Babel for the customer's locale.
Undefined variables are errors, never blanks.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_currency, format_percent, get_currency_precision
from jinja2 import StrictUndefined, Template, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from relmark.errors import InvalidInput

LANGUAGES = ("en", "ms", "kk", "tl", "uk", "sl")
DEFAULT_LANGUAGE = "en"
SHIPPED = resources.files("relmark.interact") / "templates"
#: Babel names Tagalog by its standard form, Filipino.
BABEL_ALIASES = {"tl": "fil"}
#: Tags customers arrive with that mean a language we have under another code.
LANGUAGE_ALIASES = {
    "fil": "tl",
    "tgl": "tl",
    "msa": "ms",
    "may": "ms",
    "kaz": "kk",
    "ukr": "uk",
    "slv": "sl",
    "eng": "en",
}


@dataclass(frozen=True)
class Rendered:
    language: str
    subject: str
    text: str
    html: str


def language_chain(language: str | None) -> list[str]:
    """`ms-MY` → [`ms-MY`, `ms`, `en`]: the tags to try, most specific first."""
    tag = (language or "").strip().replace("_", "-").lower()
    chain = []
    parts = [p for p in tag.split("-") if p]
    if parts and parts[0] in LANGUAGE_ALIASES:
        parts[0] = LANGUAGE_ALIASES[parts[0]]
    for end in range(len(parts), 0, -1):
        chain.append("-".join(parts[:end]))
    if DEFAULT_LANGUAGE not in chain:
        chain.append(DEFAULT_LANGUAGE)
    return chain


def babel_locale(language: str, country: str | None = None) -> Locale:
    """The Babel locale for a template language, with the customer's country when Babel
    knows the pair (en + MY → en_MY), else the language alone."""
    base = BABEL_ALIASES.get(language, language)
    for candidate in ([f"{base}_{country.upper()}"] if country else []) + [base]:
        try:
            return Locale.parse(candidate)
        except (UnknownLocaleError, ValueError):
            continue
    return Locale.parse("en")


def money(amount_minor: int, currency: str, locale: Locale) -> str:
    units = Decimal(amount_minor).scaleb(-get_currency_precision(currency))
    return format_currency(units, currency, locale=locale)


def offer_value(offer: dict[str, Any], locale: Locale) -> str:
    """What an offer is worth, as the customer reads it: "15 %", "12,5 %", "5,00 €" or the
    gift. A percentage keeps up to two decimals (the locale's pattern would round 12.5 to
    "12 %", less than the shop honours), without trailing zeros."""
    if offer.get("percent_off") is not None:
        percent = Decimal(str(offer["percent_off"])).quantize(Decimal("0.01")).normalize()
        return format_percent(percent / 100, locale=locale, decimal_quantization=False)
    if offer.get("amount_minor") is not None and offer.get("currency"):
        return money(int(offer["amount_minor"]), str(offer["currency"]), locale)
    return str(offer.get("gift") or "")


def long_date(value: date | datetime, locale: Locale) -> str:
    return format_date(value, format="long", locale=locale)


class TemplateSet:
    """The templates of a folder (shipped ones by default), parsed once."""

    def __init__(self, folder: Path | None = None) -> None:
        root = folder or SHIPPED
        self.where = str(root)
        self.templates: dict[str, dict[str, dict[str, str]]] = {}
        for entry in root.iterdir():
            if entry.name.endswith(".toml") and not entry.name.startswith("_"):
                self.templates[entry.name.removesuffix(".toml")] = _read(entry)
        self.common = _read(root / "_common.toml")
        self.env = _environment(autoescape=False)
        self.html_env = _environment(autoescape=True)
        self.layout_text = self.env.from_string((root / "_layout.txt").read_text("utf-8"))
        self.layout_html = self.html_env.from_string((root / "_layout.html").read_text("utf-8"))

    def names(self) -> list[str]:
        return sorted(self.templates)

    def choose_language(self, template: str, language: str | None) -> str:
        variants = self.templates[template]
        return next((tag for tag in language_chain(language) if tag in variants), DEFAULT_LANGUAGE)

    def render(
        self,
        template: str,
        language: str | None,
        variables: dict[str, Any],
        *,
        country: str | None = None,
    ) -> Rendered:
        """Subject, text and HTML of `template` for a customer speaking `language`."""
        if template not in self.templates:
            raise InvalidInput.single(self.where, f"no template named {template!r}")
        chosen = self.choose_language(template, language)
        entry = self.templates[template][chosen]
        common = self.common.get(chosen) or self.common[DEFAULT_LANGUAGE]
        locale = babel_locale(chosen.split("-")[0], country)
        scope = {
            **variables,
            "money": lambda minor, currency: money(minor, currency, locale),
            "long_date": lambda value: long_date(value, locale),
            "percent": lambda value: format_percent(Decimal(str(value)) / 100, locale=locale),
            "offer_value": lambda offer: offer_value(offer, locale),
        }
        place = f"template {template!r} [{chosen}]"
        subject = _render(self.env, entry["subject"], scope, place, "subject").strip()
        body = _render(self.env, entry["body"], scope, place, "body")
        paragraphs = [p.strip() for p in body.split("\n\n") if p.strip()]
        button = _render(self.env, entry.get("button", ""), scope, place, "button").strip()
        footer = {
            key: _render(self.env, value, scope, place, f"_common.{key}")
            for key, value in common.items()
        }
        layout = {
            "subject": subject,
            "paragraphs": paragraphs,
            "button": button,
            "footer": footer,
            "lang": chosen,
            **variables,
        }
        text = self.layout_text.render(layout)
        html = self.layout_html.render(layout)
        return Rendered(chosen, subject, text, html)


def _environment(*, autoescape: bool) -> SandboxedEnvironment:
    return SandboxedEnvironment(
        autoescape=autoescape, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True
    )


def _render(
    env: SandboxedEnvironment, source: str, scope: dict[str, Any], place: str, part: str
) -> str:
    try:
        return _compiled(env, source).render(scope)
    except TemplateError as exc:
        raise InvalidInput.single(place, f"{part}: {exc}") from None


@cache
def _compiled(env: SandboxedEnvironment, source: str) -> Template:
    """Templates compile once per process; rendering is what every message pays."""
    return env.from_string(source)


def _read(path: Any) -> dict[str, dict[str, str]]:
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput.single(str(path), f"not valid TOML: {exc}") from None
    return data


@cache
def shipped() -> TemplateSet:
    return TemplateSet()
