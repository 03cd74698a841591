"""The dashboard's loyalty pages (issue 14): the member card, offers and referrals on the
customer 360, and /loyalty with the rewards catalogue and the liability for finance. The
figures shown must equal the store's (SQLite and PostgreSQL), in the reader's language."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import Engine, text

from relmark import accounts, gift_picking
from relmark.accounts import Role
from relmark.interact.loyalty import grant, liability_report, load_programme, redeem, run_posting
from relmark.interfaces.web.pages import Formats
from relmark.store.audit import Actor
from relmark.store.loyalty_ledger import ledger_sum

from ..gift_shop import gift_shop
from ..loyalty.seed import add_customer, add_order, enable
from .conftest import Web

STAFF = Actor("user", "test@shop.example")
PASSWORD = "correct horse battery"


def sign_in(web: Web, role: Role) -> None:
    email = f"{role.value}@shop.example"
    accounts.add_user(web.shop.engine, email, PASSWORD, role, datetime.now(UTC))
    web.client.post("/login", data={"email": email, "password": PASSWORD})


def months_later(moment: datetime, months: int) -> datetime:
    return pl.Series([moment]).dt.offset_by(f"{months}mo")[0]  # type: ignore[no-any-return]


def member(engine: Engine) -> tuple[int, datetime]:
    """A member who earned 90 points (an order), was granted 1,000 and spent 800 on the
    tote bag: the FIFO debit used the order's points first, so 290 granted points are left,
    all expiring 24 months after the grant."""
    programme = load_programme()
    enable(engine)
    anna = add_customer(engine)
    now = datetime.now(UTC)
    add_order(engine, anna, 9000, now - timedelta(days=3), currency="USD")
    run_posting(engine, programme, now)
    granted_at = now + timedelta(seconds=1)
    grant(engine, programme, anna, 1000, "parcel arrived broken", granted_at, STAFF)
    redeem(engine, programme, anna, "tote-bag", now + timedelta(seconds=2), STAFF)
    return anna, granted_at


def shown_points(page: str, section: str) -> int:
    found = re.search(rf'id="{section}".*?data-points="(-?\d+)"', page, flags=re.S)
    assert found, f"no points shown in #{section}"
    return int(found.group(1))


def test_the_member_card_shows_the_ledger_in_words(web: Web) -> None:
    anna, granted_at = member(web.shop.engine)
    sign_in(web, Role.VIEWER)

    page = web.client.get(f"/customers/{anna}?lang=sl")

    assert page.status_code == 200, page.text
    text = page.text
    with web.shop.engine.connect() as connection:
        assert shown_points(text, "loyalty") == ledger_sum(connection, anna) == 290
    sl = Formats("sl")
    assert "Kartica člana" in text
    assert sl.amount("2.90", "USD") in text  # 290 points at 0.01 USD
    assert "bronze" in text  # 90 points earned (a grant is no earning): the lowest tier
    assert sl.day(months_later(granted_at, 24)) in text  # the next expiry day…
    assert re.search(r">290</div><div class=\"note\">Točke, ki potečejo", text)  # …and how many
    assert "Zasluženo za naročilo o1" in text
    assert "Ročno dodeljeno: parcel arrived broken" in text
    assert "Unovčeno za A canvas tote bag with your next order" in text
    assert re.search(r"<code>PTS-[A-Z0-9-]+</code>", text)  # the reward's offer code
    # the offer the reward issued, with its kind and status in Slovenian
    assert "Nagrada za točke" in text
    assert "Izdano" in text


def test_empty_blocks_say_why(web: Web) -> None:
    bo = add_customer(web.shop.engine)
    sign_in(web, Role.VIEWER)

    off = web.client.get(f"/customers/{bo}?lang=uk").text
    enable(web.shop.engine)
    on = web.client.get(f"/customers/{bo}?lang=uk").text

    assert "Програму лояльності вимкнено" in off
    assert 'data-points="' not in off
    assert "Пропозицій ще немає" in off
    assert "Реферального коду ще немає" in off
    assert "Ще не рекомендував жодного друга." in off
    assert "Програму лояльності вимкнено" not in on
    assert shown_points(on, "loyalty") == 0
    assert "Балів ще немає" in on
    assert "Жодні бали не мають згоріти." in on


def test_a_gift_offer_says_which_order_it_went_out_with(web: Web) -> None:
    ids = gift_shop(web.shop.engine)
    gift_picking.fulfil(web.shop.engine, "GIFT-AAAA2222", "1002", datetime.now(UTC), STAFF)
    sign_in(web, Role.VIEWER)

    page = web.client.get(f"/customers/{ids['ana']}?lang=en").text
    bo = web.client.get(f"/customers/{ids['bo']}?lang=en").text

    assert "GIFT-AAAA2222" in page
    assert "BACK-FFFF7777" in page
    assert "Sent with order 1002 on" in page
    assert "Not sent yet" in bo


def test_the_referral_code_link_and_friends_show(web: Web) -> None:
    from .test_referrals_web import ana_with_code, order, send

    ana, code = ana_with_code(web)
    send(web, order("user-5", "W-5", coupon=code))  # a new customer's first order, her code
    with web.shop.engine.connect() as connection:
        friend = connection.execute(
            text("SELECT referee_id FROM referrals WHERE referrer_id = :a"), {"a": ana}
        ).scalar_one()
    sign_in(web, Role.VIEWER)

    page = web.client.get(f"/customers/{ana}?lang=ms").text
    theirs = web.client.get(f"/customers/{friend}?lang=ms").text

    assert f"<code>{code}</code>" in page
    assert f"{web.settings.public_url.rstrip('/')}/?ref={code}</code>" in page
    assert "Kod rujukan" in page
    assert f'<a href="/customers/{friend}">{friend}</a>' in page
    assert "W-5" in page
    assert "Belum merujuk" not in page
    assert f'Dirujuk oleh <a href="/customers/{ana}">{ana}</a> Ana' in theirs
    assert "Belum ada kod rujukan" in theirs  # viewing made no code for the friend


def test_the_liability_page_equals_the_store(web: Web) -> None:
    # given: Anna holds 290 live points; Bo's 100 points of 30 months ago matured, 40 were
    # spent before their expiry and 60 expired, so the breakage rate is 60 / 100
    anna, _granted = member(web.shop.engine)
    engine = web.shop.engine
    programme = load_programme()
    bo = add_customer(engine)
    now = datetime.now(UTC)
    add_order(engine, bo, 10000, months_later(now, -30), currency="USD")
    run_posting(engine, programme, months_later(now, -12))
    grant(engine, programme, bo, -40, "used at the till", months_later(now, -11), STAFF)
    run_posting(engine, programme, now)
    sign_in(web, Role.ANALYST)

    page = web.client.get("/loyalty?lang=kk")

    assert page.status_code == 200, page.text
    report = liability_report(engine, programme, datetime.now(UTC))
    assert report["outstanding_points"] == 290
    assert report["breakage"]["rate"] == pytest.approx(0.6)
    kk = Formats("kk")
    text = page.text
    assert shown_points(text, "liability") == report["outstanding_points"]
    assert kk.amount(report["value"], "USD") in text
    assert kk.percent(0.6) in text
    assert kk.amount(report["expected_liability"], "USD") in text
    assert "Сыйлықтар каталогы" in text
    assert "A canvas tote bag with your next order" in text
    assert kk.number(800) in text
    for row in report["by_month"]:  # every month of expiry, with its points
        assert f'<td class="num">{kk.number(row["points"])}</td>' in text
    assert Decimal(report["value"]) == Decimal("2.90")


def test_the_liability_page_needs_the_analyst_role(web: Web) -> None:
    signed_out = web.client.get("/loyalty")
    sign_in(web, Role.VIEWER)
    viewer = web.client.get("/loyalty")
    overview = web.client.get("/").text

    assert signed_out.status_code == 303
    assert viewer.status_code == 403
    assert 'href="/loyalty"' not in overview


def test_without_history_the_page_says_why_breakage_is_unknown(web: Web) -> None:
    sign_in(web, Role.ANALYST)
    page = web.client.get("/loyalty?lang=tl").text
    assert 'href="/loyalty"' in page
    assert 'data-points="0"' in page
    assert "Walang natitirang puntos." in page


def test_every_loyalty_word_is_translated() -> None:
    from importlib import resources

    from babel.messages.pofile import read_po

    from relmark.interfaces.web import member_blocks

    web = resources.files("relmark.interfaces.web")
    sources = [
        (web / "templates" / name).read_text("utf-8")
        for name in ("customer_member.html", "loyalty.html")
    ]
    sources.append((web / "member_blocks.py").read_text("utf-8"))
    used = {m[1] for s in sources for m in re.findall(r"""_\((["'])((?:(?!\1).)+)\1""", s)}
    labels = (
        member_blocks.OFFER_KIND_LABELS,
        member_blocks.OFFER_STATUS_LABELS,
        member_blocks.REFERRAL_STATUS_LABELS,
    )
    msgids = used | {v for table in labels for v in table.values()} | {"Loyalty"}
    assert len(msgids) > 50
    for language in ("ms", "kk", "tl", "uk", "sl"):
        with (web / "locales" / f"{language}.po").open("rb") as handle:
            catalog = read_po(handle)
        missing = sorted(m for m in msgids if not (catalog.get(m) and catalog.get(m).string))
        assert missing == [], (language, missing)


def test_a_broken_programme_file_is_named_not_a_500(web: Web, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from relmark.interfaces.web.app import create_app

    broken = tmp_path / "programme.toml"
    broken.write_text('currency = "USD"\npoint_value = 0.01\nexpiry_monts = 12\n', "utf-8")
    settings = web.settings.model_copy(update={"loyalty_file": broken})
    anna = add_customer(web.shop.engine)
    accounts.add_user(web.shop.engine, "an@shop.example", PASSWORD, Role.ANALYST, datetime.now(UTC))
    with TestClient(create_app(web.shop.engine, settings), follow_redirects=False) as client:
        client.post("/login", data={"email": "an@shop.example", "password": PASSWORD})
        card = client.get(f"/customers/{anna}?lang=uk")
        liability = client.get("/loyalty?lang=uk")

    for page in (card, liability):
        assert page.status_code == 200, page.text
        assert "У файлі програми лояльності є проблема" in page.text
        assert "unknown key (a typo?)" in page.text
