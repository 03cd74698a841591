"""The web interface's languages: gettext catalogues (.po) read at start-up with Babel.

Catalogues live in `locales/LANG.po`; `python -m relmark.interfaces.web.i18n` lists strings
that templates use but a catalogue lacks (the test suite fails on any).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from importlib import resources
from io import BytesIO

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from relmark.interact.templating import LANGUAGES, language_chain

LOCALES = resources.files("relmark.interfaces.web") / "locales"


@cache
def translations(language: str) -> NullTranslations:
    if language == "en":
        return NullTranslations()
    with (LOCALES / f"{language}.po").open("rb") as handle:
        catalog = read_po(handle, locale=language if language != "tl" else "fil")
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer)


def choose(language: str | None) -> str:
    """The UI language for a customer or browser language tag (falls back to English)."""
    return next((tag for tag in language_chain(language) if tag in LANGUAGES), "en")


def gettext_for(language: str) -> Callable[..., str]:
    catalog = translations(language)

    def gettext(message: str, **values: object) -> str:
        text = catalog.gettext(message)
        return text % values if values else text

    return gettext
