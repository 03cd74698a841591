"""Shipped templates: every language present and really translated, every one renders with the
variables relmark provides, nothing undefined, HTML escaped, formats per locale."""

from __future__ import annotations

import tomllib
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from relmark.errors import InvalidInput
from relmark.interact.templating import LANGUAGES, SHIPPED, TemplateSet, language_chain, shipped

TEMPLATES = sorted(
    p.name.removesuffix(".toml")
    for p in SHIPPED.iterdir()
    if p.name.endswith(".toml") and not p.name.startswith("_")
)
HOSTILE = '<script>alert("x")</script> & Co'


def variables(**overrides: object) -> dict[str, object]:
    """Everything compose() passes, for any template."""
    data: dict[str, object] = {
        "shop": "Brew & Co",
        "first_name": "Aigerim",
        "offer": {"kind": "discount", "percent_off": 15, "code_prefix": "BACK"},
        "code": "BACK-1A2B3C4D",
        "offer_until": date(2026, 7, 1),
        "ratings": [{"score": n, "url": f"https://r.example/{n}"} for n in range(11)],
        "links": {
            "cta": "https://t.example/c",
            "unsubscribe": "https://t.example/u",
            "pixel": "https://t.example/o.gif",
            "referral": "https://shop.example/?ref=abc",
        },
        "order": {
            "number": "W-1001",
            "date": date(2026, 3, 5),
            "amount_minor": 123456,
            "currency": "EUR",
            "products": ["Kettle", "Green tea"],
        },
        "product": {"name": "Kettle", "howto_url": "https://t.example/c2"},
        "since": date(2023, 3, 5),
        "since_year": 2023,
    }
    data.update(overrides)
    return data


def test_the_shipped_set_is_complete() -> None:
    assert set(TEMPLATES) >= {
        "thank_you",
        "satisfaction",
        "howto",
        "birthday",
        "anniversary",
        "winback",
        "vip_gift",
        "discount",
        "referral",
    }


@pytest.mark.parametrize("template", TEMPLATES)
def test_every_language_is_there_and_translated(template: str) -> None:
    data = tomllib.loads((Path(str(SHIPPED)) / f"{template}.toml").read_text("utf-8"))
    assert set(data) == set(LANGUAGES), f"{template}: languages {sorted(data)}"
    english = data["en"]
    for language in LANGUAGES:
        entry = data[language]
        assert entry.get("subject"), f"{template} [{language}]"
        assert entry.get("body"), f"{template} [{language}]"
        assert set(entry) == set(english), f"{template} [{language}] parts differ from English"
        if language != "en":
            assert entry["subject"] != english["subject"], f"{template} [{language}] copies en"
            assert entry["body"] != english["body"], f"{template} [{language}] copies en"


def test_common_parts_cover_every_language() -> None:
    data = tomllib.loads((Path(str(SHIPPED)) / "_common.toml").read_text("utf-8"))
    assert set(data) == set(LANGUAGES)
    assert all(set(data[lang]) == set(data["en"]) for lang in LANGUAGES)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("template", TEMPLATES)
def test_every_template_renders_in_every_language(template: str, language: str) -> None:
    rendered = shipped().render(template, language, variables())
    assert rendered.language == language
    assert rendered.subject
    assert "\n" not in rendered.subject
    assert "{{" not in rendered.text
    assert "{%" not in rendered.text
    assert "Aigerim" in rendered.text
    assert "https://t.example/u" in rendered.text  # the unsubscribe link is always there
    assert rendered.html.startswith("<!DOCTYPE html>")
    assert f'lang="{language}"' in rendered.html


def test_an_undefined_variable_is_an_error_not_a_blank() -> None:
    data = variables()
    del data["order"]
    with pytest.raises(InvalidInput, match="thank_you.*'order' is undefined"):
        shipped().render("thank_you", "en", data)


def test_html_escapes_what_customers_and_shops_typed() -> None:
    data = variables(first_name=HOSTILE, shop=HOSTILE)
    data["order"] = {**data["order"], "products": [HOSTILE]}  # type: ignore[dict-item]
    rendered = shipped().render("thank_you", "en", data)
    assert "<script>" not in rendered.html
    assert "&lt;script&gt;" in rendered.html
    assert HOSTILE in rendered.text  # plain text stays as typed


def test_sandbox_refuses_reaching_into_python() -> None:
    folder = Path(str(SHIPPED))
    evil = TemplateSet(folder)
    evil.templates["evil"] = {
        lang: {"subject": "{{ shop.__class__.__mro__[1].__subclasses__() }}", "body": "x"}
        for lang in LANGUAGES
    }
    with pytest.raises(InvalidInput, match="unsafe"):
        evil.render("evil", "en", variables())


@pytest.mark.parametrize(
    ("tag", "chain"),
    [
        ("ms-MY", ["ms-my", "ms", "en"]),
        ("ms_MY", ["ms-my", "ms", "en"]),
        ("fil-PH", ["tl-ph", "tl", "en"]),
        ("", ["en"]),
        (None, ["en"]),
        ("de-AT", ["de-at", "de", "en"]),
    ],
)
def test_language_fallback_chain(tag: str | None, chain: list[str]) -> None:
    assert language_chain(tag) == chain


def test_unknown_languages_fall_back_to_english() -> None:
    assert shipped().render("birthday", "de-AT", variables()).language == "en"
    assert shipped().render("birthday", "ms-MY", variables()).language == "ms"
    assert shipped().render("birthday", "fil-PH", variables()).language == "tl"


@pytest.mark.parametrize(
    ("language", "country", "money", "day"),
    [
        ("en", "GB", "€1,234.56", "5 March 2026"),
        ("ms", "MY", "€1,234.56", "5 Mac 2026"),
        ("kk", "KZ", "1\u00a0234,56\u00a0€", "2026\u202fж. 5 наурыз"),
        ("uk", "UA", "1\u00a0234,56\u00a0EUR", "5 березня 2026\u202fр."),
        ("sl", "SI", "1.234,56\u00a0€", "5. marec 2026"),
        ("tl", "PH", "€1,234.56", "Marso 5, 2026"),
    ],
)
def test_money_and_dates_follow_the_customers_locale(
    language: str, country: str, money: str, day: str
) -> None:
    rendered = shipped().render("thank_you", language, variables(), country=country)
    assert money in rendered.text
    assert day in rendered.text


def test_percent_is_formatted_per_locale() -> None:
    sl = shipped().render("winback", "sl", variables())
    en = shipped().render("winback", "en", variables())
    assert "15\u00a0%" in sl.text
    assert "15%" in en.text


@pytest.mark.parametrize(
    ("language", "percent", "shown"),
    [
        ("en", "12.5", "12.5%"),
        ("ms", "12.25", "12.25%"),
        ("kk", "12.5", "12,5%"),
        ("uk", "7.50", "7,5%"),
        ("sl", "12.5", "12,5\u00a0%"),
        ("tl", "15.00", "15%"),
    ],
)
def test_a_fractional_percent_is_shown_as_promised_not_rounded(
    language: str, percent: str, shown: str
) -> None:
    """12.5 % off must not read "12 %" (or "13 %"): the shop honours 12.5 at the till."""
    offer = {"kind": "discount", "percent_off": Decimal(percent), "code_prefix": "BACK"}
    rendered = shipped().render("winback", language, variables(offer=offer))
    assert shown in rendered.text


def test_a_template_missing_from_a_folder_is_reported() -> None:
    with pytest.raises(InvalidInput, match="no template named 'nope'"):
        shipped().render("nope", "en", variables())


def test_rendering_is_deterministic() -> None:
    first = shipped().render("satisfaction", "kk", variables())
    second = shipped().render("satisfaction", "kk", variables())
    assert first == second
    assert datetime  # keeps the import meaningful for type checkers
