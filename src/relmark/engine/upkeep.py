"""The engine's upkeep jobs: loose ends no one should have to remember to run.

- `identify-new`: records that arrived without being matched (an import or API call that
  skipped the identity step; tracking matches its own in the request) join their person;
- `unsubscribe-mailbox`: replies to the `mailto:` unsubscribe address are honoured, when a
  mailbox is configured (without one, messages carry only the https link);
- `prune-outbox`: held candidates older than the configured age leave the outbox, their
  counts kept per plan run;
- `offers-webhook`: offer events (issued, redeemed, expired, voided) to the shop's webhook,
  when one is configured.
- `expire-offers`: offers past their date stop working (and reservations of messages that
  will never go are voided), so a checkout asking the store gets the truth.
- `referral-rewards`: referrals past the return window are rewarded, broken ones rejected.
- `loyalty`: where the programme is on, points are posted, expired, reversed and tiers set
  (`relmark loyalty post`; idempotent, so an hourly run costs little).
"""

from __future__ import annotations

import socket
from datetime import timedelta

from relmark.engine.jobs import Job, JobContext, every


def identify_new(context: JobContext) -> str:
    from relmark import pipeline

    report = pipeline.identify_new(context.interaction.engine, now=context.now)
    return (
        f"identity: {report.records_keyed} record(s) keyed, {len(report.merges)} merge(s), "
        f"{report.queued_for_review} for review"
    )


def unsubscribe_mailbox(context: JobContext) -> str:
    if not context.interaction.settings.imap_host:
        return "no unsubscribe mailbox configured"
    from relmark import unsubscribe_mailbox as mailbox

    report = mailbox.poll(context.interaction, context.now)
    return (
        f"mailbox: {report.read} read, {report.unsubscribed} unsubscribed, "
        f"{report.already} already, {len(report.ignored)} ignored"
    )


def prune_outbox(context: JobContext) -> str:
    from relmark.outbox_pruning import prune_outbox as prune
    from relmark.store.audit import Actor

    report = prune(context.interaction, context.now, actor=Actor("engine", socket.gethostname()))
    return f"pruned {report.pruned} held candidate(s) older than {report.older_than_days} days"


def offers_webhook(context: JobContext) -> str:
    from relmark.interact.offer_webhook import deliver_from_settings

    return deliver_from_settings(context.interaction.engine, context.interaction.settings).summary()


def expire_offers(context: JobContext) -> str:
    from relmark.store import offers

    with context.interaction.engine.begin() as connection:
        done = offers.expire(connection, context.as_of)  # the clock sends issue them by
    return f"offers: {done.expired} expired, {done.voided} unsent reservation(s) voided"


def referral_rewards(context: JobContext) -> str:
    from relmark.interact.referrals import reward_referrals
    from relmark.store.audit import Actor

    interaction = context.interaction
    report = reward_referrals(
        interaction.engine,
        interaction.playbooks(),
        interaction.effective(),
        context.as_of,
        Actor("engine", socket.gethostname()),
    )
    return report.summary()


def loyalty(context: JobContext) -> str:
    from relmark.interact.loyalty import is_enabled, load_programme, run_posting

    engine = context.interaction.engine
    with engine.connect() as connection:
        if not is_enabled(connection):
            return "loyalty programme off"
    programme = load_programme(context.interaction.settings.loyalty_file)
    report = run_posting(engine, programme, context.as_of)
    return (
        f"loyalty: {report.points_earned} point(s) from {report.orders_posted} order(s), "
        f"{report.expired_points} expired, "
        f"{report.points_reversed} taken back, {report.tier_changes} tier change(s)"
    )


def upkeep_jobs() -> list[Job]:
    return [
        Job("identify-new", every(timedelta(minutes=5)), identify_new),
        Job("unsubscribe-mailbox", every(timedelta(minutes=5)), unsubscribe_mailbox),
        Job("prune-outbox", every(timedelta(days=1)), prune_outbox, run_at_first_start=False),
        Job("offers-webhook", every(timedelta(minutes=1)), offers_webhook),
        Job("expire-offers", every(timedelta(hours=1)), expire_offers),
        Job("referral-rewards", every(timedelta(hours=6)), referral_rewards),
        Job("loyalty", every(timedelta(hours=1)), loyalty),
    ]
