"""The `relmark offers …` command group, created once so every module adding an offers
command (export, webhooks, issuing and redeeming) registers on the same group."""

# Annotations stay evaluated (no __future__ import): see cli_base.

import typer

from relmark.interfaces.cli_base import app

offers_app = typer.Typer(
    help="Offers (discount codes, gifts) the sent messages promised: redeem, show, list, "
    "void, expire, export for the shop, webhooks.",
    no_args_is_help=True,
)
app.add_typer(offers_app, name="offers")
