"""The dashboard's outbox: each count drills down to its messages, filtered and paged, with
the reason in plain words in the reader's language; wrong filters are said on the page."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import pytest

from relmark import accounts
from relmark.accounts import Role
from relmark.interfaces.web import outbox_pages

from ..interact.outbox_seed import NEWEST_FIRST, seed
from .conftest import Web


def sign_in(web: Web) -> None:
    accounts.add_user(
        web.shop.engine, "vi@example.com", "correct horse battery", Role.VIEWER, datetime.now(UTC)
    )
    web.client.post("/login", data={"email": "vi@example.com", "password": "correct horse battery"})


def rows(page: str) -> list[str]:
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [html.unescape(r) for r in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def count_links(page: str) -> dict[tuple[str, str, str], str]:
    """(playbook, status, reason code) → the link of its count."""
    found = {}
    for row in rows(page):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        code = re.search(r"<code>(.*?)</code>", cells[2])
        href = re.search(r'href="([^"]+)"', cells[3]).group(1)  # type: ignore[union-attr]
        found[(cells[0], cells[1], code.group(1) if code else "")] = href
    return found


def listed(web: Web, page: str, data: dict) -> list[str]:
    """The seeded messages a list page shows, by their customer and playbook cells."""
    shown = []
    names = {v: k for k, v in data["customers"].items()}
    for row in rows(page):
        customer = re.search(r'href="/customers/(\d+)"', row)
        if customer is None:
            continue
        shown.append((names[int(customer.group(1))], re.findall(r"<td>(.*?)</td>", row)[1]))
    return shown


def test_signed_out_is_sent_to_sign_in(web: Web) -> None:
    assert web.client.get("/outbox/messages").headers["location"] == "/login"


def test_each_count_drills_down_to_its_messages(web: Web) -> None:
    seed(web.shop)
    sign_in(web)
    counts = web.client.get("/outbox").text
    links = count_links(counts)
    assert len(links) == 7  # every (playbook, status, reason) group has its link
    expired = web.client.get(html.unescape(links[("birthday", "Held", "expired")]))
    assert expired.status_code == 200
    [row] = rows(expired.text)
    assert "Айгерим" in row
    assert "cy@example.kz" in row
    assert "The occasion passed while relmark was not running; too late to send now." in row
    sent = web.client.get(html.unescape(links[("thank-you", "Sent", "")])).text  # no reason
    [row] = rows(sent)
    assert "Ana" in row
    assert "ana.novak@example.si" in row
    everything = web.client.get("/outbox/messages").text
    assert len(rows(everything)) == len(NEWEST_FIRST)
    assert "Messages 1–7 of 7" in everything
    lost = re.search(r'href="([^"]+)">Lost to downtime', counts).group(1)  # type: ignore[union-attr]
    assert len(rows(web.client.get(html.unescape(lost)).text)) == 2


def test_filters_from_the_form(web: Web) -> None:
    data = seed(web.shop)
    sign_in(web)
    c2 = data["customers"]["C2"]
    by_customer = web.client.get(f"/outbox/messages?customer={c2}").text
    assert [r[0] for r in listed(web, by_customer, data)] == ["C2", "C2", "C2"]
    by_mail = web.client.get("/outbox/messages?email=BO@example.my&status=failed").text
    [row] = rows(by_mail)
    assert "550 mailbox unavailable" in row
    window = web.client.get("/outbox/messages?due_from=2026-05-04&due_to=2026-05-06").text
    assert len(rows(window)) == 3  # days include the whole of their last day
    sent = web.client.get("/outbox/messages?sent_from=2026-05-03&sent_to=2026-05-03").text
    assert len(rows(sent)) == 1
    any_reason = web.client.get("/outbox/messages?playbook=thank-you&reason=").text
    assert len(rows(any_reason)) == 3  # an empty box filters nothing
    no_reason = web.client.get("/outbox/messages?playbook=thank-you&reason=-").text
    assert len(rows(no_reason)) == 1  # "-": the sent one, which has no reason


def test_pages_keep_the_filters(web: Web, monkeypatch: pytest.MonkeyPatch) -> None:
    seed(web.shop)
    sign_in(web)
    monkeypatch.setattr(outbox_pages, "PER_PAGE", 2)
    first = web.client.get("/outbox/messages?playbook=thank-you").text
    assert len(rows(first)) == 2
    assert "Messages 1–2 of 3" in first
    following = html.unescape(re.search(r'href="([^"]+)" rel="next"', first).group(1))  # type: ignore[union-attr]
    assert "playbook=thank-you" in following
    second = web.client.get(following).text
    assert len(rows(second)) == 1
    assert "Messages 3–3 of 3" in second
    assert 'rel="next"' not in second
    assert 'rel="prev"' in second


def test_the_reason_in_the_readers_language(web: Web) -> None:
    seed(web.shop)
    sign_in(web)
    page = web.client.get("/outbox/messages?reason=cap_7d&lang=uk").text
    [row] = rows(page)
    assert "Клієнт уже отримує найбільше повідомлень, дозволених за 7 днів." in row
    assert "<code>cap_7d</code>" in row  # the code stays beside the words
    assert "Затримано" in row
    counts = web.client.get("/outbox?lang=sl").text
    assert "Premaknjeno na konec tihih ur stranke." in counts


def test_wrong_filters_are_said_on_the_page(web: Web) -> None:
    seed(web.shop)
    sign_in(web)
    cases = {
        "due_from=yesterday": "Due from: not a date (YYYY-MM-DD)",
        "customer=abc": "Customer id: not a customer id",
        "customer=99999999999": "Customer id: not a customer id",
        "status=lost": "Status: unknown value",
        "sent_from=2026-05-05&sent_to=2026-05-01": "Sent from is after Sent until",
        "due_to=9999-12-31": None,  # the end of time is a date like any other
        "page=10**30": None,
    }
    for query, message in cases.items():
        answer = web.client.get(f"/outbox/messages?{query}")
        assert answer.status_code == 200, query
        if message is None:
            assert 'role="alert"' not in answer.text, query
            continue
        assert message in html.unescape(answer.text), query
        assert rows(answer.text) == ['<td colspan="8">—</td>'], query


def test_every_outbox_word_is_translated() -> None:
    """The reasons, the statuses and the page's own words, in all five catalogues."""
    from importlib import resources

    from babel.messages.pofile import read_po

    from relmark.message_reasons import REASON_WORDS

    web = resources.files("relmark.interfaces.web")
    sources = [(web / "outbox_pages.py").read_text("utf-8")]
    sources += [
        (web / "templates" / n).read_text("utf-8") for n in ("outbox.html", "outbox_messages.html")
    ]
    used = {m[1] for s in sources for m in re.findall(r"""_\((["'])((?:(?!\1).)+)\1""", s)}
    msgids = used | set(REASON_WORDS.values()) | set(outbox_pages.STATUS_LABELS.values())
    assert len(msgids) > 40
    for language in ("ms", "kk", "tl", "uk", "sl"):
        with (web / "locales" / f"{language}.po").open("rb") as handle:
            catalog = read_po(handle)
        missing = sorted(m for m in msgids if not (catalog.get(m) and catalog.get(m).string))
        assert missing == [], (language, missing)
