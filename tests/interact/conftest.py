"""A small shop for interact tests, loaded through the real importer, and test playbooks."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Engine, select, text

from relmark.config import Settings
from relmark.demo.offers import enable_offers
from relmark.interaction import Interaction
from relmark.store.models import Message

from ..helpers import run_import, write_csv

SECRET = "test-secret-that-is-long-enough"

CUSTOMERS = [
    "customer_id",
    "email",
    "phone",
    "first_name",
    "language",
    "country",
    "timezone",
    "birthday",
    "customer_since",
    "email_consent",
]


def book(name: str, **fields: Any) -> str:
    """A playbook's TOML, with test defaults: no control group, e-mail."""
    trigger = fields.pop("trigger", {"on": "order", "delay_days": 3})
    audience = fields.pop("audience", None)
    data = {
        "name": name,
        "title": name,
        "purpose": "marketing",
        "template": "thank_you",
        "control_share": 0.0,
        **fields,
    }
    lines = [f"{k} = {_toml(v)}" for k, v in data.items()]
    lines.append("[trigger]")
    lines += [f"{k} = {_toml(v)}" for k, v in trigger.items()]
    if audience:
        lines.append("[audience]")
        lines += [f"{k} = {_toml(v)}" for k, v in audience.items()]
    return "\n".join(lines) + "\n"


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    return str(value)


@dataclass
class Shop:
    engine: Engine
    folder: Path

    def customers(self, rows: list[list[Any]]) -> None:
        run_import(self.engine, "customers", write_csv(self.folder, "c.csv", CUSTOMERS, rows))

    def products(self, rows: list[list[Any]]) -> None:
        header = ["sku", "name", "category", "howto_url"]
        run_import(self.engine, "products", write_csv(self.folder, "p.csv", header, rows))

    def orders(self, rows: list[list[Any]], name: str = "o.csv") -> None:
        header = ["order_id", "customer_id", "ordered_at", "currency", "status", "sku"]
        header += ["quantity", "unit_price"]
        run_import(self.engine, "orders", write_csv(self.folder, name, header, rows))

    def id_of(self, external_id: str) -> int:
        with self.engine.connect() as connection:
            return int(
                connection.execute(
                    text("SELECT customer_id FROM source_records WHERE external_id = :e"),
                    {"e": external_id},
                ).scalar_one()
            )

    def interaction(self, *playbooks: str, offers_on: bool = False, **settings: Any) -> Interaction:
        """The interact seam over these playbooks. `offers_on`: the shop has configured its
        offers, so playbooks with one are switched on in the store (as `relmark playbooks
        enable` does); without it they stay off, as in any new store."""
        folder = self.folder / f"books{len(list(self.folder.glob('books*')))}"
        folder.mkdir()
        for i, text_ in enumerate(playbooks):
            (folder / f"{i}.toml").write_text(text_, encoding="utf-8")
        values = {"secret_key": SECRET, "shop_name": "Brew & Co", **settings}
        relmark = Interaction(self.engine, Settings(**values), playbooks_dir=folder)
        if offers_on:
            enable_offers(relmark, datetime.now(UTC))
        return relmark

    def messages(self, where: str = "1 = 1") -> list[dict[str, Any]]:
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(Message)
                .where(text(where))
                .order_by(Message.customer_id, Message.playbook, Message.id)
            )
            return [dict(r) for r in rows.mappings()]


@pytest.fixture
def shop(engine: Engine, tmp_path: Path) -> Shop:
    return Shop(engine, tmp_path)


def scores(engine: Engine, values: dict[int, dict[str, Any]], at: datetime) -> None:
    """A score run with chosen values (the planner reads them; fitting is tested elsewhere)."""
    with engine.begin() as connection:
        run_id = connection.execute(
            text(
                "INSERT INTO score_runs (as_of, created_at, model, params, settings, currency, "
                "input_fingerprint, n_customers) VALUES (:at, :at, 'bgnbd', '{}', '{}', 'EUR', "
                "'x', :n) RETURNING id"
            ),
            {
                "at": at.replace(tzinfo=None) if engine.dialect.name == "sqlite" else at,
                "n": len(values),
            },
        ).scalar_one()
        for customer_id, v in values.items():
            row = {
                "orders": 3,
                "revenue_minor": 10000,
                "days_since_last": 10,
                "frequency": 2,
                "recency": 10.0,
                "age": 20.0,
                "r": 3,
                "f": 3,
                "m": 3,
                "segment": "loyal",
                "explanation": "",
                "p_alive": 0.9,
                "expected_purchases": 1.0,
                "expected_spend_minor": 100,
                "clv_minor": 1000,
                "clv_p10_minor": None,
                "clv_p90_minor": None,
                "gross_margin_minor": 100,
                "cost_to_serve_minor": 0,
                "profit_minor": 100,
                "profit_tier": "B",
                "below_standard": False,
                **v,
            }
            columns = ", ".join(row)
            marks = ", ".join(f":{k}" for k in row)
            connection.execute(
                text(
                    f"INSERT INTO customer_scores (run_id, customer_id, {columns}) "
                    f"VALUES (:run_id, :customer_id, {marks})"
                ),
                {"run_id": run_id, "customer_id": customer_id, **row},
            )


class Inbox:
    """A real SMTP server on a free local port that keeps what it receives."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self.refuse: dict[str, str] = {}

    async def handle_RCPT(self, server, session, envelope, address, options):  # noqa: ANN001, ANN201, N802
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201, N802
        self.messages.append(envelope.content)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler = Inbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()
