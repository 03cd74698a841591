"""`relmark settings`: the shop's name, addresses, URLs, currency, zone and logo, in the store.

What every message, the web server and the engine use: an environment variable (RELMARK_…)
wins over the store's value, which wins over the default (see `relmark.shop_settings`).
"""

# Annotations stay evaluated (no __future__ import): see cli_base.

from typing import Annotated

import typer

from relmark.errors import InvalidInput
from relmark.interfaces.cli_base import (
    DbOption,
    JsonOption,
    app,
    err,
    friendly,
    open_store,
    out,
    print_rows,
    read_only,
)

settings_app = typer.Typer(
    help="The shop's settings kept in the store (name, sender, URLs, currency, zone, logo).",
    no_args_is_help=True,
)
app.add_typer(settings_app, name="settings")


@settings_app.command("show")
@friendly
@read_only
def show(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Each setting's effective value and where it comes from (env, store or default)."""
    from relmark import shop_settings
    from relmark.config import get_settings

    values = shop_settings.effective(open_store(db), get_settings())
    rows = [
        {
            "key": v.key,
            "value": v.value,
            "source": v.source,
            "env": shop_settings.FIELDS[v.key].env,
            "stored": v.stored,
        }
        for v in values
    ]
    print_rows(
        rows,
        as_json,
        {
            "key": lambda r: r["key"],
            "value": lambda r: "" if r["value"] is None else r["value"],
            "source": lambda r: r["source"] if r["source"] != "env" else f"env ({r['env']})",
        },
        title="Shop settings",
    )


@settings_app.command("set")
@friendly
def set_command(
    pairs: Annotated[
        list[str], typer.Argument(help="KEY=VALUE pairs, e.g. shop_name='Kedai Ali'.")
    ],
    db: DbOption = None,
) -> None:
    """Save settings in the store; all are checked first, one bad value saves none."""
    from datetime import UTC, datetime

    from relmark import shop_settings

    changes: dict[str, str | None] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise InvalidInput.single(pair, "expected KEY=VALUE (e.g. currency=EUR)")
        changes[key.strip()] = value
    _check_keys(changes)
    engine = open_store(db)
    changed = shop_settings.change(engine, changes, datetime.now(UTC))
    _report(changed, list(changes))


@settings_app.command("unset")
@friendly
def unset(
    keys: Annotated[list[str], typer.Argument(help="Setting(s) to remove from the store.")],
    db: DbOption = None,
) -> None:
    """Remove settings from the store: each goes back to its default (or environment)."""
    from datetime import UTC, datetime

    from relmark import shop_settings

    changes: dict[str, str | None] = dict.fromkeys(keys)
    _check_keys(changes)
    changed = shop_settings.change(open_store(db), changes, datetime.now(UTC))
    _report(changed, keys)


def _check_keys(changes: dict[str, str | None]) -> None:
    """Refuse bad keys and values before the store is opened."""
    from relmark import shop_settings

    shop_settings.check(changes)


def _report(changed: list[str], asked: list[str]) -> None:
    import os

    from relmark import shop_settings

    out.print(f"{len(changed)} setting(s) changed" + (f": {', '.join(changed)}" if changed else ""))
    for key in asked:
        field = shop_settings.known(key)
        if os.environ.get(field.env) is not None:
            err.print(
                f"note: {field.env} is set in the environment and overrides the store's "
                f"{field.key}",
                markup=False,
            )
