"""`relmark privacy …`: a customer's data rights (erase, export, rectify, purge). The
commands live in their own modules, which register on `privacy_app`."""

# Annotations stay evaluated (no __future__ import): see cli_base.

import typer

from relmark.interfaces.cli_base import app

privacy_app = typer.Typer(
    help="A customer's data rights: erase, export, rectify, purge.", no_args_is_help=True
)
app.add_typer(privacy_app, name="privacy")
