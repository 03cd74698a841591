"""`relmark serve`, `relmark users`, `relmark keys`: the web server and who may use it."""

# Annotations stay evaluated (no __future__ import): see cli_base.

import sys
from datetime import UTC, datetime
from typing import Annotated

import typer

from relmark.errors import InvalidInput
from relmark.interfaces.cli_base import (
    DbOption,
    JsonOption,
    app,
    friendly,
    open_store,
    out,
    print_json,
    print_rows,
    store_url,
)

users_app = typer.Typer(help="Dashboard users and their roles.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys (shown once, stored hashed).", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(keys_app, name="keys")


def read_password(prompt: str = "Password") -> str:
    """Prompted (hidden, twice) on a terminal, else the first line of stdin."""
    if sys.stdin.isatty():
        return str(typer.prompt(prompt, hide_input=True, confirmation_prompt=True))
    return sys.stdin.readline().rstrip("\r\n")


@users_app.command("add")
@friendly
def users_add(
    email: str,
    role: Annotated[str, typer.Option(help="admin, marketer, analyst or viewer.")] = "viewer",
    db: DbOption = None,
) -> None:
    """Add a user; the password is prompted for (or read from the first line of stdin)."""
    from relmark import accounts

    try:
        chosen = accounts.Role(role)
    except ValueError:
        raise InvalidInput.single(
            "--role", f"{role!r} is not admin/marketer/analyst/viewer"
        ) from None
    user_id = accounts.add_user(open_store(db), email, read_password(), chosen, datetime.now(UTC))
    out.print(f"user {user_id} {email.strip().lower()} ({chosen}) added")


@users_app.command("list")
@friendly
def users_list(db: DbOption = None, as_json: JsonOption = False) -> None:
    from relmark.store import accounts as account_store

    engine = open_store(db)
    with engine.connect() as connection:
        rows = account_store.users(connection)
    print_rows(
        rows,
        as_json,
        {
            "id": lambda r: str(r["id"]),
            "email": lambda r: r["email"],
            "role": lambda r: r["role"],
            "since": lambda r: str(r["created_at"])[:10],
            "disabled": lambda r: str(r["disabled_at"] or "")[:19],
        },
    )


@users_app.command("disable")
@friendly
def users_disable(email: str, db: DbOption = None) -> None:
    """Disable a user: they cannot sign in, and every session of theirs ends now."""
    from relmark import accounts
    from relmark.store.audit import Actor

    ended = accounts.set_disabled(open_store(db), email, True, Actor.cli(), datetime.now(UTC))
    out.print(f"user {email.strip().lower()} disabled; {ended} session(s) ended")


@users_app.command("enable")
@friendly
def users_enable(email: str, db: DbOption = None) -> None:
    """Let a disabled user sign in again."""
    from relmark import accounts
    from relmark.store.audit import Actor

    accounts.set_disabled(open_store(db), email, False, Actor.cli(), datetime.now(UTC))
    out.print(f"user {email.strip().lower()} enabled")


@users_app.command("logout")
@friendly
def users_logout(email: str, db: DbOption = None) -> None:
    """End every session of a user (they must sign in again); the account stays enabled."""
    from relmark import accounts
    from relmark.store.audit import Actor

    ended = accounts.end_user_sessions(open_store(db), email, Actor.cli(), datetime.now(UTC))
    out.print(f"{ended} session(s) of {email.strip().lower()} ended")


@keys_app.command("create")
@friendly
def keys_create(
    role: Annotated[str, typer.Option(help="admin, marketer, analyst, viewer or ingest.")],
    name: Annotated[str, typer.Option(help="What the key is for.")] = "api key",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create a key and print it once (only its hash is kept)."""
    from relmark import accounts

    try:
        chosen = accounts.Role(role)
    except ValueError:
        raise InvalidInput.single("--role", f"{role!r} is not a role") from None
    key_id, key = accounts.create_key(open_store(db), chosen, name, datetime.now(UTC))
    if as_json:
        print_json({"id": key_id, "key": key, "role": chosen.value, "name": name})
        return
    out.print(f"key {key_id} ({chosen}, {name}); copy it now, it is not shown again:")
    sys.stdout.write(key + "\n")


@keys_app.command("list")
@friendly
def keys_list(db: DbOption = None, as_json: JsonOption = False) -> None:
    from relmark.store import accounts as account_store

    engine = open_store(db)
    with engine.connect() as connection:
        rows = account_store.keys(connection)
    print_rows(
        rows,
        as_json,
        {
            "id": lambda r: str(r["id"]),
            "name": lambda r: r["name"],
            "starts with": lambda r: r["prefix"] + "…",
            "role": lambda r: r["role"],
            "revoked": lambda r: str(r["revoked_at"] or ""),
        },
    )


@keys_app.command("revoke")
@friendly
def keys_revoke(key_id: int, db: DbOption = None) -> None:
    from relmark.store import accounts as account_store

    engine = open_store(db)
    with engine.begin() as connection:
        done = account_store.revoke_key(connection, key_id, datetime.now(UTC))
    if not done:
        raise InvalidInput.single("key", f"no active key with id {key_id}")
    out.print(f"key {key_id} revoked")


@app.command()
@friendly
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Processes (one per core serves most).")
    ] = 1,
    db: DbOption = None,
    engine: Annotated[
        bool,
        typer.Option(
            "--engine",
            help="Also run the engine (`relmark run`) in this process: a one-process set-up.",
        ),
    ] = False,
) -> None:
    """Serve the dashboard, the REST API and the tracking endpoint (uvicorn)."""
    import os

    import uvicorn

    from relmark.config import get_settings

    url = store_url(db)
    open_store(url)  # fail here, clearly, if the store is missing or old
    os.environ["RELMARK_DATABASE_URL"] = url  # the workers read their settings afresh
    get_settings.cache_clear()
    beside = _engine_beside(url) if engine else None
    out.print(f"relmark on http://{host}:{port}/  (API: /api/v1, tracking: /v1/batch)")
    try:
        _serve(uvicorn, host, port, workers)
    finally:
        if beside is not None:  # uvicorn has stopped (SIGTERM, Ctrl-C): the engine follows
            runner, thread = beside
            runner.stop.set()
            thread.join()


def _engine_beside(url: str):  # noqa: ANN202 ((Runner, Thread), imported lazily)
    """Start the engine in a thread of this process; uvicorn keeps the signals, and its
    shutdown stops the engine after the message in flight."""
    import signal
    import threading

    from relmark.engine import Runner
    from relmark.interfaces.interact_cli import interaction

    runner = Runner(interaction(url))
    runner.start()  # refusals (another engine on a SQLite store) end `serve` here, clearly

    def stop(signum: int, _frame: object) -> None:
        runner.stop.set()

    # uvicorn restores these after its shutdown and re-raises the signal it caught: ours
    # then stops the engine after the message in flight, and the process exits 0.
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    thread = threading.Thread(target=runner.loop, name="relmark-engine", daemon=True)
    thread.start()
    return runner, thread


def _serve(uvicorn, host: str, port: int, workers: int) -> None:  # noqa: ANN001
    uvicorn.run(
        "relmark.interfaces.web.app:app_from_settings",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        # X-Forwarded-For is the app's to judge, against RELMARK_TRUSTED_PROXIES: uvicorn
        # would otherwise believe it from any loopback client
        proxy_headers=False,
    )
