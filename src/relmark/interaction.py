"""The interact stage's seam for the interfaces: policy, plan, send, consent, explain, uplift.

Like `pipeline`, each function opens what it needs from the store, calls the stage, and
commits in one transaction; the CLI, the API and the web pages call only these.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
from babel.numbers import get_currency_precision
from sqlalchemy import Engine, select

from relmark import customer_links, double_opt_in, shop_settings
from relmark.config import Settings
from relmark.enums import ConsentStatus
from relmark.errors import InvalidInput, RelmarkError
from relmark.interact.compose import Branding
from relmark.interact.confirmation import CONFIRMATION
from relmark.interact.delivery import (
    SendOptions,
    SendReport,
    SmtpTransport,
    Transport,
    WebhookTransport,
)
from relmark.interact.planner import PlanOptions, PlanResult
from relmark.interact.planner import plan as plan_stage
from relmark.interact.playbook import Playbook, load_playbooks, playbook_row, playbook_state
from relmark.interact.policy import POLICY_KEY, ContactPolicy, policy_from
from relmark.interact.templating import TemplateSet, shipped
from relmark.interact.tokens import LinkClaim, LinkKind, Signer
from relmark.live_sender import LiveSender
from relmark.store import audit, consents, outbox
from relmark.store.audit import Actor
from relmark.store.db import bulk_transaction
from relmark.store.models import Customer
from relmark.store.restriction import set_restriction

NO_OCCASION = "no occasion: the trigger or audience does not apply"


@dataclass
class Interaction:
    """What every interact command needs: the store, the settings, the playbooks."""

    engine: Engine
    settings: Settings
    playbooks_dir: Path | None = None
    templates_dir: Path | None = None

    def playbooks(self) -> list[Playbook]:
        books = load_playbooks(self.playbooks_dir, gift_keys=self._gift_keys)
        known = set(self.templates().names())
        missing = [b for b in books if b.template not in known]
        if missing:
            raise InvalidInput.single(
                str(self.playbooks_dir or "shipped playbooks"),
                f"playbook {missing[0].name!r} names template {missing[0].template!r}, "
                f"which does not exist (known: {', '.join(sorted(known))})",
            )
        return books

    def _gift_keys(self) -> set[str]:
        from relmark.interact.gift_catalogue import load_gifts

        return set(load_gifts(self.settings.gifts_dir))

    def templates(self) -> TemplateSet:
        return TemplateSet(self.templates_dir) if self.templates_dir else shipped()

    def effective(self) -> Settings:
        """`settings` with the shop's values from the store (the environment still wins),
        read per operation: a `relmark settings set` applies to the next plan or send."""
        return shop_settings.effective_settings(self.engine, self.settings)

    def branding(self, settings: Settings | None = None) -> Branding:
        settings = settings or self.effective()
        return Branding(
            shop_name=settings.shop_name,
            public_url=settings.public_url,
            shop_url=settings.shop_url or settings.public_url,
            sender=settings.smtp_from,
            default_zone=settings.timezone,
            reply_to=settings.reply_to,
            logo_url=settings.logo_url,
            unsubscribe_mailto=settings.unsubscribe_mailto(),
        )

    def secret(self, now: datetime) -> str:
        if self.settings.secret_key is not None:
            return self.settings.secret_key.get_secret_value()
        with self.engine.begin() as connection:
            return outbox.signing_secret(connection, now)

    def signer(self, now: datetime) -> Signer:
        return Signer(self.secret(now))

    # --- policy ---------------------------------------------------------------------------

    def policy(self) -> ContactPolicy:
        with self.engine.connect() as connection:
            return policy_from(outbox.get_setting(connection, POLICY_KEY))

    def set_policy(
        self, changes: dict[str, Any], now: datetime, actor: Actor | None = None
    ) -> ContactPolicy:
        """Validate and save; the audit trail names the fields that changed (and who)."""
        current = self.policy().model_dump(mode="json")
        updated = policy_from({**current, **changes}, "policy change")
        saved = updated.model_dump(mode="json")
        with self.engine.begin() as connection:
            outbox.put_setting(connection, POLICY_KEY, saved, now)
            fields = sorted(k for k in saved if saved[k] != current.get(k))
            audit.record(
                connection, actor or Actor.cli(), "policy.change", detail={"fields": fields}
            )
        return updated

    # --- playbooks ------------------------------------------------------------------------

    def playbook_list(self) -> list[dict[str, Any]]:
        """Every playbook, whether it runs in this store and if not why."""
        with self.engine.connect() as connection:
            states = outbox.playbook_states(connection)
        return [playbook_row(b, states.get(b.name)) for b in self.playbooks()]

    def enabled_playbooks(self) -> list[Playbook]:
        """The playbooks that run in this store (see `playbook_state`)."""
        with self.engine.connect() as connection:
            states = outbox.playbook_states(connection)
        return [b for b in self.playbooks() if playbook_state(b, states.get(b.name))[0]]

    def _off(self, name: str) -> str | None:
        """Why a playbook does not run in this store ("playbook off: …"), None if it does."""
        row = next((r for r in self.playbook_list() if r["name"] == name), None)
        return f"playbook off: {row['reason']}" if row and not row["enabled"] else None

    def enable(self, name: str, enabled: bool, now: datetime, actor: Actor | None = None) -> None:
        if name not in {b.name for b in self.playbooks()}:
            raise InvalidInput.single("playbook", f"no playbook named {name!r}")
        with self.engine.begin() as connection:
            outbox.set_playbook_enabled(connection, name, enabled, now)
            action = "playbook.enable" if enabled else "playbook.disable"
            audit.record(connection, actor or Actor.cli(), action, detail={"playbook": name})

    # --- plan and send --------------------------------------------------------------------

    def plan(
        self,
        as_of: datetime,
        now: datetime,
        *,
        write: bool = True,
        only_customer: int | None = None,
        only_playbook: str | None = None,
        only_customers: Sequence[int] | None = None,
        ahead: timedelta = timedelta(0),
    ) -> PlanResult:
        """Decide every enabled playbook's occasions as of `as_of` (see PlanOptions for
        `only_customers` and `ahead`, which the engine uses for new arrivals)."""
        books = self.enabled_playbooks()
        if only_playbook is not None:
            if only_playbook not in {b.name for b in self.playbooks()}:
                raise InvalidInput.single("playbook", f"no playbook named {only_playbook!r}")
            books = [b for b in books if b.name == only_playbook]
        settings = self.effective()
        options = PlanOptions(
            as_of=as_of,
            now=now,
            playbooks=books,
            policy=self.policy(),
            default_zone=settings.timezone,
            mail_domain=self.branding(settings).mail_domain,
            only_customer=only_customer,
            only_customers=only_customers,
            ahead=ahead,
            scope=None if only_playbook is None else f"playbook:{only_playbook}",
        )
        with bulk_transaction(self.engine) as connection:
            if write and consents.double_opt_in(connection):
                # consents an import left pending get their confirmation first
                double_opt_in.queue(connection, now, options.mail_domain)
            result = plan_stage(connection, options, write=write)
            if not write:
                connection.rollback()
        return result

    def transports(self) -> dict[str, Transport]:
        settings = self.settings
        found: dict[str, Transport] = {}
        if settings.smtp_host:
            found["email"] = SmtpTransport(
                host=settings.smtp_host,
                port=settings.smtp_port,
                user=settings.smtp_user,
                password=settings.smtp_password.get_secret_value()
                if settings.smtp_password
                else None,
                starttls=settings.smtp_starttls,
                timeout=settings.smtp_timeout,
            )
        if settings.webhook_url:
            if settings.webhook_secret is None:
                raise RelmarkError("RELMARK_WEBHOOK_SECRET is needed to sign webhook messages")
            found["webhook"] = WebhookTransport(
                settings.webhook_url, settings.webhook_secret.get_secret_value()
            )
        return found

    def send(
        self,
        options: SendOptions,
        *,
        transports: dict[str, Transport] | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> SendReport:
        transports = self.transports() if transports is None else transports
        if not transports:
            raise RelmarkError(
                "no delivery configured: set RELMARK_SMTP_HOST (e-mail) or "
                "RELMARK_WEBHOOK_URL (webhook channel)"
            )
        return self.sender(transports, options.as_of()).run(options, progress)

    def sender(self, transports: dict[str, Transport], now: datetime) -> LiveSender:
        """The sender over this store's playbooks, templates, branding and quiet hours."""
        secret = self.secret(now)
        sender = LiveSender(
            engine=self.engine,
            playbooks={b.name: b for b in self.playbooks()} | {CONFIRMATION.name: CONFIRMATION},
            templates=self.templates(),
            branding=self.branding(),
            signer=Signer(secret),
            secret=secret,
            transports=transports,
            policy=self.policy(),
        )
        sender.source = self.branding  # From, Reply-To…: a long --loop follows a change
        return sender

    # --- consent, unsubscribe, restriction ------------------------------------------------

    def record_consent(
        self,
        customer_id: int,
        *,
        purpose: str,
        channel: str,
        status: ConsentStatus,
        source: str,
        proof: str,
        wording_version: str | None,
        now: datetime,
        actor: Actor | None = None,
        confirmed: bool = False,
    ) -> dict[str, Any]:
        """Record a statement made to relmark directly, with its proof and an audit entry
        (the CLI user unless another actor is named); a withdrawal holds unsent messages.
        With double opt-in on, an unconfirmed e-mail marketing grant is stored `pending`
        and a confirmation is queued (`relmark.double_opt_in`)."""
        actor = actor or Actor.cli()
        queued = 0
        with bulk_transaction(self.engine) as connection:
            _live_customer(connection, customer_id)
            outbox.lock_budget(connection, now)
            if (
                not confirmed
                and double_opt_in.applies(purpose, channel, status)
                and consents.double_opt_in(connection)
            ):
                if double_opt_in.current_status(connection, customer_id) == status.value:
                    return {"consent_id": None, "messages_held": 0, "status": status.value}
                status = ConsentStatus.PENDING
            consent_id = consents.record(
                connection,
                customer_id=customer_id,
                purpose=purpose,
                channel=channel,
                status=status,
                source=source,
                proof=proof,
                wording_version=wording_version,
                now=now,
            )
            held = 0
            if status is ConsentStatus.WITHDRAWN:
                held = outbox.hold_unsent(connection, customer_id, purpose, channel, "unsubscribed")
            audit.record(
                connection,
                actor,
                f"consent.{status.value}",
                customer_id=customer_id,
                detail={
                    "consent_id": consent_id,
                    "purpose": purpose,
                    "channel": channel,
                    "source": source,
                },
                at=now,
            )
            if status is ConsentStatus.PENDING:
                queued = double_opt_in.queue(
                    connection, now, self.branding().mail_domain, [customer_id]
                )
        return {
            "consent_id": consent_id,
            "messages_held": held,
            "status": status.value,
            "confirmations_queued": queued,
        }

    def double_opt_in(self) -> bool:
        with self.engine.connect() as connection:
            return consents.double_opt_in(connection)

    def set_double_opt_in(self, on: bool, now: datetime, actor: Actor | None = None) -> None:
        with self.engine.begin() as connection:
            double_opt_in.set_enabled(connection, on, now, actor or Actor.cli())

    def confirm(self, token: str, now: datetime, origin: str | None = None) -> dict[str, Any]:
        """A customer's click on a double opt-in link (see `relmark.double_opt_in`)."""
        return double_opt_in.confirm(self, token, now, origin)

    def unsubscribe(
        self, token: str, now: datetime, *, via: str = "link", origin: str | None = None
    ) -> dict[str, Any]:
        """Withdraw the consent a signed unsubscribe token names (see `customer_links`)."""
        return customer_links.unsubscribe(self, token, now, via=via, origin=origin)

    def linked_message(self, claim: LinkClaim) -> tuple[dict[str, Any], int]:
        """The message a link names and the live profile it acts on (merges followed)."""
        with self.engine.connect() as connection:
            return customer_links.linked_message(connection, claim)

    def track(self, kind: LinkKind, token: str, now: datetime) -> LinkClaim:
        """Record an open, click or rating from a signed link (see `customer_links`)."""
        return customer_links.track(self, kind, token, now)

    def restrict(
        self,
        customer_id: int,
        restricted: bool,
        now: datetime,
        *,
        actor: Actor | None = None,
        reason: str | None = None,
    ) -> dict[str, Any]:
        """Restrict processing (or lift it): every unsent message is held at once, under
        the planners' lock so no plan running now can add one; event and audit entry in
        the same transaction."""
        with bulk_transaction(self.engine) as connection:
            _live_customer(connection, customer_id)
            outbox.lock_budget(connection, now)
            return set_restriction(
                connection,
                customer_id,
                restricted,
                now,
                actor=actor or Actor.engine(),
                reason=reason,
            )

    # --- explain and report ---------------------------------------------------------------

    def explain(self, customer_id: int, playbook: str, as_of: datetime, now: datetime) -> dict:
        """Why this customer did (not) get this playbook: its outbox rows, and what a plan
        would decide now (a dry run that changes nothing)."""
        with self.engine.connect() as connection:
            _live_customer(connection, customer_id)
            rows = outbox.messages_of(connection, customer_id, playbook)
            policy = outbox.get_setting(connection, POLICY_KEY)
        dry = self.plan(as_of, now, write=False, only_customer=customer_id, only_playbook=playbook)
        would = dry.decided.select(
            [c for c in ("occasion", "due_at", "status", "reason", "detail") if c in dry.decided]
        ).to_dicts()
        return {
            "customer_id": customer_id,
            "playbook": playbook,
            "messages": [
                {
                    k: r[k]
                    for k in (
                        "id",
                        "occasion",
                        "status",
                        "reason",
                        "detail",
                        "due_at",
                        "sent_at",
                        "attempts",
                        "last_error",
                    )
                }
                for r in rows
            ],
            "if_planned_now": would
            or [
                {"status": "already decided", "reason": f"outbox holds {key}"}
                for key in dry.already_decided
            ]
            or [{"status": None, "reason": self._off(playbook) or NO_OCCASION}],
            "policy": policy_from(policy).model_dump(mode="json"),
        }

    def uplift(self, playbook: str | None = None, window_days: int = 7) -> dict[str, Any]:
        from relmark.interact import uplift as uplift_stats  # SciPy: only this report needs it
        from relmark.store.offer_costs import message_costs

        with self.engine.connect() as connection:
            messages, orders = outbox.uplift_inputs(connection, playbook)
            costs = message_costs(connection, playbook)
        settings = self.effective()
        currency = _main_currency(orders, settings.currency)
        orders = orders.filter(pl.col("currency") == currency)
        outcome = uplift_stats.outcomes(messages, orders, window_days)
        minor_units = 10 ** get_currency_precision(currency)
        rows = uplift_stats.summarise(outcome, minor_units)
        priced = uplift_stats.gifts_priced(costs, settings.gifts_dir)
        returns = uplift_stats.cost_and_return(outcome, priced, currency, minor_units)
        for row in rows:
            row |= returns.get(row["playbook"], {})
        return {"window_days": window_days, "currency": currency, "playbooks": rows}


def _main_currency(orders: pl.DataFrame, default: str) -> str:
    if orders.is_empty():
        return default
    return str(orders.group_by("currency").len().sort("len", descending=True)["currency"][0])


def _live_customer(connection: Any, customer_id: int) -> None:
    row = connection.execute(
        select(Customer.merged_into_id).where(Customer.id == customer_id)
    ).first()
    if row is None:
        raise InvalidInput.single("customer", f"no customer with id {customer_id}")
    if row[0] is not None:
        raise InvalidInput.single(
            "customer", f"customer {customer_id} was merged into {row[0]}: use that id"
        )
