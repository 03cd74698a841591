"""Customers' links over HTTP: unsubscribe (page and one-click), preferences, pixel, click,
rating; in the customer's language; forged links change nothing."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from relmark.interact.tokens import LinkClaim, LinkKind, Signer
from relmark.interfaces.web.i18n import translations

from ..interact.conftest import SECRET, book
from .conftest import Web

AS_OF = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def planned(web: Web, language: str = "kk") -> dict:
    web.shop.customers(
        [["C1", "a@example.kz", "", "Aigerim", language, "KZ", "Asia/Almaty", "", "", "yes"]]
    )
    web.shop.products([["TEA", "Tea", "tea", ""]])
    web.shop.orders([["O1", "C1", "2026-05-31T10:00:00Z", "EUR", "completed", "TEA", 1, "5"]])
    relmark = web.shop.interaction(
        book(
            "promo",
            template="winback",
            offer={"discount_percent": 5},
            trigger={"on": "order", "delay_days": 1},
        ),
        offers_on=True,
    )
    relmark.plan(AS_OF, AS_OF)
    return web.shop.messages()[0]


def token(message: dict, kind: LinkKind, **extra: object) -> str:
    claim = LinkClaim(kind, message["id"], message["customer_id"], message["purpose"], **extra)
    return Signer(SECRET).sign(claim)


def consent_status(web: Web) -> list[str]:
    with web.shop.engine.connect() as connection:
        return [r[0] for r in connection.execute(text("SELECT status FROM consents ORDER BY id"))]


def test_unsubscribe_asks_in_the_customers_language_then_takes_effect(web: Web) -> None:
    message = planned(web)
    link = f"/u/{token(message, LinkKind.UNSUBSCRIBE)}"
    page = web.client.get(link)
    assert page.status_code == 200
    assert 'lang="kk"' in page.text
    assert "Жазылымнан бас тарту" in page.text  # "Unsubscribe" in Kazakh
    assert consent_status(web) == ["granted"]  # a GET changes nothing (mail scanners)
    done = web.client.post(link)
    assert done.status_code == 200
    assert "Сіз жазылымнан бас тарттыңыз" in done.text
    assert consent_status(web) == ["granted", "withdrawn"]
    assert web.shop.messages()[0]["status"] == "held"


def test_one_click_unsubscribe_per_rfc_8058(web: Web) -> None:
    message = planned(web, "sl")
    response = web.client.post(
        f"/u/{token(message, LinkKind.UNSUBSCRIBE)}",
        content="List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200
    with web.shop.engine.connect() as connection:
        source = connection.execute(
            text("SELECT source FROM consents WHERE status = 'withdrawn'")
        ).scalar_one()
    assert source == "unsubscribe-one-click"


def test_forged_links_change_nothing(web: Web) -> None:
    message = planned(web)
    good = token(message, LinkKind.UNSUBSCRIBE)
    forged = Signer("some-other-secret-entirely").sign(
        LinkClaim(LinkKind.UNSUBSCRIBE, message["id"], message["customer_id"], "marketing")
    )
    for bad in (forged, good[:-3] + "abc", token(message, LinkKind.OPEN)):
        response = web.client.post(f"/u/{bad}")
        assert response.status_code == 400
    assert consent_status(web) == ["granted"]


def test_preference_centre_changes_consent_with_proof(web: Web) -> None:
    message = planned(web, "uk")
    link = f"/p/{token(message, LinkKind.UNSUBSCRIBE)}"
    page = web.client.get(link)
    assert "Ваші налаштування" in page.text
    assert 'name="marketing" value="1" checked' in page.text
    saved = web.client.post(link, data={"service": "1"})
    assert "Ваші налаштування збережено." in saved.text
    with web.shop.engine.connect() as connection:
        rows = connection.execute(
            text("SELECT purpose, status, source FROM consents ORDER BY id")
        ).all()
    assert rows[-1] == ("marketing", "withdrawn", "preference-centre")


def test_pixel_click_and_rating_are_recorded(web: Web) -> None:
    message = planned(web, "ms")
    pixel = web.client.get(f"/t/o/{token(message, LinkKind.OPEN)}.gif")
    assert pixel.headers["content-type"] == "image/gif"
    assert web.client.get("/t/o/forged.gif").headers["content-type"] == "image/gif"
    click = web.client.get(f"/t/c/{token(message, LinkKind.CLICK, url='https://shop.example/x')}")
    assert (click.status_code, click.headers["location"]) == (302, "https://shop.example/x")
    scheme = web.client.get(f"/t/c/{token(message, LinkKind.CLICK, url='javascript:alert(1)')}")
    assert scheme.status_code == 400
    rating_link = f"/t/r/{token(message, LinkKind.RATING, score=9)}"
    asked = web.client.get(rating_link)  # what a mail scanner's prefetch does: no rating
    assert "Penilaian anda: 9 daripada 10" in asked.text
    assert f'action="{rating_link}"' in asked.text
    assert web.client.get("/t/r/forged").status_code == 400
    rating = web.client.post(rating_link)
    assert "Terima kasih atas penilaian anda!" in rating.text
    assert web.client.post("/t/r/forged").status_code == 400
    with web.shop.engine.connect() as connection:
        kinds = [
            r[0] for r in connection.execute(text("SELECT kind FROM message_events ORDER BY id"))
        ]
    assert kinds == ["open", "click", "click", "rating"]  # the javascript: link was signed…
    # …so it is recorded, but never followed: only http(s) targets redirect.


def test_every_ui_string_is_translated() -> None:
    """Every string the templates and page code pass to _() has a non-empty translation in
    every catalogue (a translation may equal the English word: 'Status' is Malay too)."""
    import re
    from importlib import resources

    from babel.messages.pofile import read_po

    from relmark.interfaces.web.pages import SEGMENT_LABELS

    web = resources.files("relmark.interfaces.web")
    sources = [
        p.read_text("utf-8") for p in (web / "templates").iterdir() if p.name.endswith(".html")
    ]
    sources += [(web / name).read_text("utf-8") for name in ("links.py", "pages.py")]
    used = {m for s in sources for m in re.findall(r"""_\((["'])((?:(?!\1).)+)\1""", s)}
    msgids = {m[1] for m in used} | set(SEGMENT_LABELS.values())
    assert len(msgids) > 80
    for language in ("ms", "kk", "tl", "uk", "sl"):
        with (web / "locales" / f"{language}.po").open("rb") as handle:
            catalog = read_po(handle)
        missing = sorted(m for m in msgids if not (catalog.get(m) and catalog.get(m).string))
        assert missing == [], (language, missing)
        assert translations(language).gettext("Overview") != "Overview"


def test_templates_have_no_hard_coded_words() -> None:
    """Visible text in the web templates comes from _() or data, never typed in English."""
    import re
    from importlib import resources

    web = resources.files("relmark.interfaces.web")
    allowed = {"relmark", "—", "…", "·"}
    for page in (web / "templates").iterdir():
        if not page.name.endswith(".html"):
            continue
        text = re.sub(r"<(script|style)[^>]*>.*?</\1>", "", page.read_text("utf-8"), flags=re.S)
        text = re.sub(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", "", text, flags=re.S)
        words = [w.strip() for w in re.findall(r">([^<]+)<", text)]
        typed = [w for w in words if re.search(r"[A-Za-z]{2,}", w) and w not in allowed]
        assert typed == [], (page.name, typed)


def test_money_shows_each_currencys_own_decimals() -> None:
    from relmark.interfaces.web.pages import Formats

    english = Formats("en")
    assert english.money(123456, "USD") == "$1,234.56"
    assert english.money(1500, "JPY") == "¥1,500"
    assert english.money(1500, "KWD") == "KWD1.500"
    assert Formats("ms").money(990, "MYR") == "RM9.90"
