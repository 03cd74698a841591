"""A safe first run: offers wait to be set up, a dry run and a test send change nothing in the
outbox, loud warnings for links to this machine and a made-up sender, quiet hours at send time
(with --as-of too). Real stores on both backends, a real SMTP server, .eml files parsed back
with the standard library."""

from __future__ import annotations

import email
import json
from datetime import UTC, datetime, timedelta
from email import policy
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from relmark.interact.compose import Branding
from relmark.interact.delivery import SendOptions
from relmark.interact.playbook import OFFER_FIRST
from relmark.interact.tokens import LinkKind, Signer
from relmark.interfaces.cli import app
from relmark.send_warnings import send_warnings

from .conftest import SECRET, Inbox, Shop, book

runner = CliRunner()
AS_OF = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
PROMO = book(
    "promo",
    template="winback",
    offer={"discount_percent": 10, "code_prefix": "P"},
    trigger={"on": "order", "delay_days": 1},
)
GIFT = book("gift", cost="high", trigger={"on": "order", "delay_days": 1})
THANKS = book("thanks", purpose="service", trigger={"on": "order", "delay_days": 1})
SHIPPED_OFFERS = {"at-risk-discount", "birthday", "referral", "vip-gift", "win-back"}


def people(
    shop: Shop, n: int = 2, zone: str = "Europe/Ljubljana", ordered: str = "2026-05-31T09:00:00Z"
) -> None:
    shop.customers(
        [
            [f"C{i}", f"c{i}@example.si", "", f"Ime{i}", "sl", "SI", zone, "", "", "yes"]
            for i in range(n)
        ]
    )
    shop.products([["TEA", "Zeleni čaj", "tea", ""]])
    shop.orders(
        [[f"O{i}", f"C{i}", ordered, "EUR", "completed", "TEA", 1, "4.20"] for i in range(n)]
    )


def outbox_state(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        return [
            tuple(r)
            for r in connection.execute(
                text(
                    "SELECT id, status, reason, attempts, sent_at, next_attempt_at, due_at "
                    "FROM messages ORDER BY id"
                )
            )
        ]


def cli_store(shop: Shop, *playbooks: str) -> list[str]:
    folder = shop.folder / "cli-books"
    folder.mkdir()
    for i, text_ in enumerate(playbooks):
        (folder / f"{i}.toml").write_text(text_, encoding="utf-8")
    url = shop.engine.url.render_as_string(hide_password=False)
    return ["--db", url, "--playbooks", str(folder)]


@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Settings come from the environment for the CLI; cleared before and after."""
    from relmark.config import get_settings

    monkeypatch.setenv("RELMARK_SECRET_KEY", SECRET)

    def apply(**values: str) -> None:
        for key, value in values.items():
            monkeypatch.setenv(f"RELMARK_{key.upper()}", value)
        get_settings.cache_clear()

    apply()
    yield apply
    get_settings.cache_clear()


# --- offers start disabled --------------------------------------------------------------------


def test_offer_playbooks_start_disabled_until_enabled_in_this_store(shop: Shop) -> None:
    people(shop, 1)
    relmark = shop.interaction(PROMO, GIFT, THANKS)
    listed = {p["name"]: (p["enabled"], p["reason"]) for p in relmark.playbook_list()}
    assert listed == {
        "promo": (False, OFFER_FIRST),
        "gift": (False, OFFER_FIRST),
        "thanks": (True, None),
    }

    first = relmark.plan(AS_OF, AS_OF)
    assert set(first.by_playbook) == {"thanks"}
    why = relmark.explain(shop.id_of("C0"), "promo", AS_OF, AS_OF)
    assert why["if_planned_now"] == [{"status": None, "reason": f"playbook off: {OFFER_FIRST}"}]

    relmark.enable("promo", True, AS_OF)
    again = relmark.plan(AS_OF, AS_OF)
    assert set(again.by_playbook) == {"promo"}  # thanks was decided by the first plan
    assert {m["playbook"] for m in shop.messages()} == {"thanks", "promo"}
    with shop.engine.connect() as connection:
        actions = connection.execute(
            text("SELECT action FROM audit_log WHERE action LIKE 'playbook.%'")
        ).scalars()
        assert list(actions) == ["playbook.enable"]

    relmark.enable("promo", False, AS_OF)
    listed = {p["name"]: p["reason"] for p in relmark.playbook_list()}
    assert listed["promo"] == "disabled in this store"
    assert listed["gift"] == OFFER_FIRST


def test_shipped_offers_wait_in_a_new_store_and_the_list_says_why(
    sqlite_engine: Engine, tmp_path: Path, settings_env: Any
) -> None:
    db = ["--db", str(sqlite_engine.url)]
    listed = runner.invoke(app, ["playbooks", "list", *db, "--json"])
    assert listed.exit_code == 0, listed.output
    rows = {r["name"]: r for r in json.loads(listed.stdout)}
    waiting = {name for name, r in rows.items() if r["reason"] == OFFER_FIRST}
    assert waiting == SHIPPED_OFFERS
    assert not any(rows[name]["enabled"] for name in SHIPPED_OFFERS)
    assert all(r["enabled"] for name, r in rows.items() if name not in SHIPPED_OFFERS)

    table = runner.invoke(app, ["playbooks", "list", *db])
    assert "configure" in table.output  # the reason (wrapped in a narrow terminal)

    assert runner.invoke(app, ["playbooks", "enable", "birthday", *db]).exit_code == 0
    rows = {
        r["name"]: r
        for r in json.loads(runner.invoke(app, ["playbooks", "list", *db, "--json"]).stdout)
    }
    assert (rows["birthday"]["enabled"], rows["birthday"]["reason"]) == (True, None)


# --- dry run ----------------------------------------------------------------------------------


def test_dry_run_writes_what_smtp_would_send_and_changes_nothing(
    shop: Shop, tmp_path: Path, settings_env: Any
) -> None:
    people(shop, 3)
    common = cli_store(shop, PROMO, THANKS)
    assert runner.invoke(app, ["playbooks", "enable", "promo", *common]).exit_code == 0
    shop.interaction(PROMO, THANKS).set_policy({"min_hours_between": 0}, AS_OF)
    planned = runner.invoke(app, ["plan", "--as-of", "2026-06-01T12:00:00Z", *common])
    assert planned.exit_code == 0, planned.output
    before = outbox_state(shop.engine)
    assert sum(1 for row in before if row[1] == "planned") == 6  # no SMTP server configured

    folder = tmp_path / "dry"
    as_of = ["--as-of", "2026-06-02T12:00:00Z"]
    written = runner.invoke(app, ["send", "--dry-run", *as_of, "--out", str(folder), *common])
    assert written.exit_code == 0, written.output
    files = sorted(folder.glob("*.eml"))
    assert len(files) == 6
    stored = {m["id"]: m for m in shop.messages()}
    for path in files:
        mail = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        message = stored[int(path.name.split("-")[0])]
        assert mail["Message-ID"] == message["rfc_message_id"]
        assert mail["X-Relmark-Playbook"] == message["playbook"] == path.stem.split("-", 1)[1]
        assert mail["To"].endswith("@example.si")
        assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert "Ime" in mail.get_body(("plain",)).get_content()
        assert b"\r\n" in path.read_bytes()  # what goes over SMTP: CRLF line ends

    shown = runner.invoke(app, ["send", "--dry-run", *as_of, "--limit", "2", *common])
    assert shown.exit_code == 0, shown.output
    assert shown.output.count("Subject: ") == 2
    assert "2 messages shown, 4 more due" in shown.output
    assert "nothing was sent or changed" in shown.output
    data = json.loads(
        runner.invoke(app, ["send", "--dry-run", *as_of, "--limit", "1", *common, "--json"]).stdout
    )
    [one] = data["would_send"]
    assert (one["to"], data["more"]) == ("c0@example.si", 5)
    assert one["first_lines"]
    assert one["subject"]

    assert outbox_state(shop.engine) == before  # nothing claimed, counted or moved

    refused = runner.invoke(app, ["send", "--out", str(folder), *as_of, *common])
    assert refused.exit_code != 0
    assert "--out" in refused.output
    assert outbox_state(shop.engine) == before


# --- test send --------------------------------------------------------------------------------


def test_test_send_mails_one_marked_sample_per_enabled_playbook_and_touches_no_customer(
    shop: Shop, inbox: tuple[Inbox, int], settings_env: Any
) -> None:
    server, port = inbox
    people(shop, 1)
    birthday_offer = book(
        "bday",
        template="birthday",
        offer={"discount_percent": 10, "code_prefix": "BDAY"},
        trigger={"on": "birthday"},
    )
    common = cli_store(shop, THANKS, birthday_offer, GIFT)
    assert runner.invoke(app, ["playbooks", "enable", "bday", *common]).exit_code == 0
    planned = runner.invoke(app, ["plan", "--as-of", "2026-06-01T12:00:00Z", *common])
    assert planned.exit_code == 0, planned.output
    before = outbox_state(shop.engine)
    [real] = shop.messages()
    assert real["playbook"] == "thanks"
    unset = runner.invoke(app, ["send", "--test-to", "ops@brew.example", *common])
    assert unset.exit_code != 0
    assert "RELMARK_SMTP_HOST" in unset.output
    settings_env(smtp_host="127.0.0.1", smtp_port=str(port))

    result = runner.invoke(app, ["send", "--test-to", "ops@brew.example", *common, "--json"])

    assert result.exit_code == 0, result.output
    sent = {r["playbook"]: r for r in json.loads(result.stdout)["sent"]}
    assert set(sent) == {"thanks", "bday"}  # the gift is not enabled: no sample
    assert sent["thanks"]["from_customer"] == real["customer_id"]
    assert sent["bday"]["from_customer"] is None  # nobody has a birthday planned: made up
    mails = [email.message_from_bytes(raw, policy=policy.default) for raw in server.messages]
    assert len(mails) == 2
    for mail in mails:
        assert mail["To"] == "ops@brew.example"
        assert mail["Subject"].startswith("[TEST] ")
        assert mail["Message-ID"] != real["rfc_message_id"]
        unsubscribe = mail["List-Unsubscribe"].split(",")[0].strip(" <>")
        claim = Signer(SECRET).verify(LinkKind.UNSUBSCRIBE, unsubscribe.rsplit("/", 1)[1])
        assert (claim.message_id, claim.customer_id) == (0, 0)  # no customer's links
    thanks = next(m for m in mails if m["X-Relmark-Playbook"] == "thanks")
    assert "Ime0" in thanks.get_body(("plain",)).get_content()
    assert outbox_state(shop.engine) == before
    with shop.engine.connect() as connection:
        audited = connection.execute(
            text("SELECT customer_id FROM audit_log WHERE action = 'message.test_send'")
        ).scalars()
        assert list(audited) == [real["customer_id"]]

    bad = runner.invoke(app, ["send", "--test-to", "not an address", *common])
    assert bad.exit_code != 0
    assert "--test-to" in bad.output


# --- warnings ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8000", "http://localhost/", "http://[::1]:8000", "https://127.8.0.1"]
)
def test_links_to_this_machine_and_the_default_sender_are_warned_about(url: str) -> None:
    warnings = send_warnings(
        Branding("Shop", url, "https://shop.example", "relmark <noreply@relmark.invalid>")
    )
    assert len(warnings) == 2
    assert url in warnings[0]
    assert "this machine" in warnings[0]
    assert "noreply@relmark.invalid" in warnings[1]
    fine = Branding("Shop", "https://crm.shop.example", "https://shop.example", "hi@shop.example")
    assert send_warnings(fine) == []
    assert send_warnings(Branding("Shop", "https://crm.shop.example", "https://x.example", ""))


def test_send_warns_on_stderr_before_sending(
    shop: Shop, inbox: tuple[Inbox, int], settings_env: Any
) -> None:
    _, port = inbox
    people(shop, 1, zone="UTC")
    common = cli_store(shop, THANKS)
    settings_env(smtp_host="127.0.0.1", smtp_port=str(port))
    result = runner.invoke(app, ["send", "--as-of", "2026-06-01T12:00:00Z", *common])
    assert result.exit_code == 0, result.output
    assert "WARNING: links in messages point at http://127.0.0.1:8000" in result.stderr
    assert "noreply@relmark.invalid" in result.stderr
    assert "WARNING" not in result.stdout

    settings_env(public_url="https://crm.brew.example", smtp_from="Brew <hello@brew.example>")
    quiet = runner.invoke(app, ["send", "--as-of", "2026-06-01T12:00:00Z", *common])
    assert quiet.exit_code == 0, quiet.output
    assert "WARNING" not in quiet.stderr


# --- quiet hours at send time -----------------------------------------------------------------


def test_quiet_hours_hold_for_an_as_of_send_and_send_says_until_when(
    shop: Shop, inbox: tuple[Inbox, int], settings_env: Any
) -> None:
    server, port = inbox
    people(shop, 2)  # Ljubljana: UTC+2 in June; quiet 21:00-08:00 local
    relmark = shop.interaction(THANKS, smtp_host="127.0.0.1", smtp_port=port)
    relmark.set_policy({"min_hours_between": 0}, AS_OF)
    relmark.plan(AS_OF, AS_OF)
    assert [m["status"] for m in shop.messages()] == ["planned", "planned"]
    night = datetime(2026, 6, 1, 22, 30, tzinfo=UTC)  # 00:30 in Ljubljana

    held = relmark.send(SendOptions(as_of=lambda: night))

    assert (held.sent, held.quiet) == (0, 2)
    assert held.quiet_until == datetime(2026, 6, 2, 6, 0, tzinfo=UTC)  # 08:00 local
    assert server.messages == []
    assert [m["status"] for m in shop.messages()] == ["planned", "planned"]

    common = cli_store(shop, THANKS)
    settings_env(smtp_host="127.0.0.1", smtp_port=str(port), timezone="Europe/Ljubljana")
    said = runner.invoke(app, ["send", "--as-of", "2026-06-01T22:30:00Z", *common])
    assert said.exit_code == 0, said.output
    assert "sent 0" in said.stdout
    assert "2 waiting for quiet hours to end" in said.stdout
    assert "2026-06-02 08:00 (Europe/Ljubljana)" in said.stdout
    data = json.loads(
        runner.invoke(app, ["send", "--as-of", "2026-06-01T22:30:00Z", *common, "--json"]).stdout
    )
    assert (data["waiting_for_quiet_hours"], data["quiet_hours_until"]) == (
        2,
        "2026-06-02T08:00+02:00",
    )

    morning = relmark.send(SendOptions(as_of=lambda: night + timedelta(hours=8)))
    assert (morning.sent, morning.quiet) == (2, 0)


def test_send_counts_messages_the_planner_moved_past_quiet_hours(
    shop: Shop, settings_env: Any, inbox: tuple[Inbox, int]
) -> None:
    _, port = inbox
    people(shop, 1, ordered="2026-06-01T19:30:00Z")  # 21:30 in Ljubljana: quiet
    now = book("now", purpose="service", trigger={"on": "order"})
    evening = datetime(2026, 6, 1, 20, 0, tzinfo=UTC)
    shop.interaction(now).plan(evening, evening)
    [message] = shop.messages()
    assert (message["status"], message["reason"]) == ("planned", "quiet_hours_deferred")

    common = cli_store(shop, now)
    settings_env(smtp_host="127.0.0.1", smtp_port=str(port), timezone="Europe/Ljubljana")
    said = runner.invoke(app, ["send", "--as-of", "2026-06-01T20:00:00Z", *common])

    assert said.exit_code == 0, said.output
    assert "sent 0" in said.stdout
    assert "1 waiting for quiet hours to end" in said.stdout
    assert "the first may go at 2026-06-02 08:00 (Europe/Ljubljana)" in said.stdout


def test_a_dry_run_writes_webhook_messages_as_the_json_that_would_be_posted(
    shop: Shop, tmp_path: Path, settings_env: Any
) -> None:
    shop.customers(
        [
            [
                "W1",
                "w1@example.si",
                "+386 31 200001",
                "Ime",
                "sl",
                "SI",
                "Europe/Ljubljana",
                "",
                "",
                "",
            ]
        ]
    )
    shop.products([["TEA", "Tea", "tea", ""]])
    shop.orders([["O1", "W1", "2026-05-31T09:00:00Z", "EUR", "completed", "TEA", 1, "4"]])
    sms = book(
        "sms", purpose="service", channel="webhook", trigger={"on": "order", "delay_days": 1}
    )
    common = cli_store(shop, sms)
    assert runner.invoke(app, ["plan", "--as-of", "2026-06-01T12:00:00Z", *common]).exit_code == 0
    before = outbox_state(shop.engine)

    folder = tmp_path / "dry"
    result = runner.invoke(
        app, ["send", "--dry-run", "--as-of", "2026-06-02T12:00:00Z", "--out", str(folder), *common]
    )

    assert result.exit_code == 0, result.output
    assert "dry run: 1 message shown, 0 more due" in result.output
    [path] = folder.glob("*.json")
    payload = json.loads(path.read_text(encoding="utf-8"))
    [message] = shop.messages()
    assert payload["message_id"] == message["rfc_message_id"]
    assert payload["personal_data"] is False  # no consent to sharing: ids only, as a send would
    assert "+38631200001" not in path.read_text(encoding="utf-8")
    assert outbox_state(shop.engine) == before
