"""Start-up: `relmark --help` and `relmark status` load no heavy library; each command loads
what it uses. The modules a command imports are checked, not its time (that is measured by
benchmarks/startup.py): a time limit would fail on a busy machine and pass a regression on a
fast one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import relmark

CDNOW = Path(__file__).parent / "data" / "cdnow" / "CDNOW_sample.txt"

# Loading any one of these costs from 0.05 s (Babel) to over a second (SciPy, Splink):
# none is needed to list the commands or count a store's rows.
HEAVY = (
    "aiosmtpd",
    "alembic",
    "argon2",
    "babel",
    "duckdb",
    "fastapi",
    "httpx",
    "jinja2",
    "mako",
    "numpy",
    "pandas",
    "phonenumbers",
    "polars",
    "pyarrow",
    "pydantic",
    "pydantic_settings",
    "pyspark",
    "rapidfuzz",
    "scipy",
    "sklearn",
    "splink",
    "starlette",
    "uvicorn",
)

# Runs the CLI as `python -m relmark` does, then writes every module loaded to a file.
RUN_AND_LIST = """
import json, runpy, sys
listing = sys.argv[1]
sys.argv = ["relmark", *sys.argv[2:]]
code = 0
try:
    runpy.run_module("relmark", run_name="__main__", alter_sys=True)
except SystemExit as exc:
    code = exc.code or 0
with open(listing, "w") as f:
    json.dump(sorted(sys.modules), f)
sys.exit(code)
"""


def run_listing(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    listing = tmp_path / "modules.json"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("RELMARK_")},
        "PYTHONPATH": str(Path(relmark.__file__).parents[1]),
        "COLUMNS": "200",
        **(env or {}),
    }
    result = subprocess.run(
        [sys.executable, "-c", RUN_AND_LIST, str(listing), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return result, set(json.loads(listing.read_text()))


def loaded(modules: set[str], packages: tuple[str, ...]) -> list[str]:
    return sorted({m.split(".")[0] for m in modules} & set(packages))


def test_help_lists_every_command_without_loading_libraries(tmp_path: Path) -> None:
    from relmark.interfaces.cli import app

    result, modules = run_listing(tmp_path, "--help")

    assert loaded(modules, (*HEAVY, "sqlalchemy")) == []
    assert not [m for m in modules if m.startswith(("relmark.store", "relmark.differentiate"))]
    names = [c.name or c.callback.__name__ for c in app.registered_commands if c.callback]
    names += [g.name for g in app.registered_groups if g.name]
    assert len(names) > 20
    for name in names:
        assert f" {name} " in result.stdout, name


def test_status_of_a_current_store_loads_not_even_sqlalchemy(tmp_path: Path) -> None:
    # given a store at the current schema revision, with one import recorded
    db = f"sqlite:///{tmp_path / 'store.db'}"
    run_listing(tmp_path, "init", "--db", db)

    # when its rows are counted
    result, modules = run_listing(tmp_path, "status", "--db", db, "--json")

    # then the database driver answered alone
    assert json.loads(result.stdout)["customers"] == 0
    assert loaded(modules, (*HEAVY, "sqlalchemy", "pydantic_settings")) == []


def test_status_of_a_missing_store_refuses_it_until_init(tmp_path: Path) -> None:
    # given no store yet, named through the environment as users do
    path = tmp_path / "new.db"
    env = {"RELMARK_DATABASE_URL": f"sqlite:///{path}"}
    clean = {k: v for k, v in os.environ.items() if not k.startswith("RELMARK_")}

    # when status runs, then it takes the full path, which refuses a store that is not there
    # (only init and demo create one: a typo must not answer from a new, empty store)
    missing = subprocess.run(
        [sys.executable, "-m", "relmark", "status", "--json"],
        capture_output=True,
        text=True,
        env={**clean, **env},
        cwd=tmp_path,
        timeout=300,
    )
    assert missing.returncode == 1
    assert f"no store at {path}" in missing.stderr
    assert not path.exists()

    run_listing(tmp_path, "init", env=env)
    result, _ = run_listing(tmp_path, "status", "--json", env=env)
    assert json.loads(result.stdout)["audit_log"] == 0


def test_a_subcommand_help_loads_nothing_heavy(tmp_path: Path) -> None:
    result, modules = run_listing(tmp_path, "clv", "fit", "--help")

    assert "--calibration-end" in result.stdout
    assert loaded(modules, (*HEAVY, "sqlalchemy")) == []


@pytest.mark.slow
def test_clv_fit_loads_neither_scipy_nor_the_store_web_or_identity(tmp_path: Path) -> None:
    args = ["clv", "fit", "--transactions", str(CDNOW), "--format", "cdnow"]
    result, modules = run_listing(tmp_path, *args, "--calibration-end", "1997-09-30", "--json")

    assert json.loads(result.stdout)["model"] == "bgnbd"
    assert "polars" in {m.split(".")[0] for m in modules}
    unused = ("alembic", "sqlalchemy", "splink", "duckdb", "fastapi", "uvicorn", "pyspark")
    assert loaded(modules, (*unused, "pydantic_settings")) == []
    # BG/NBD's likelihood needs no special function and Newton converged: SciPy (0.2 s to
    # import) is not loaded at all
    assert loaded(modules, ("scipy",)) == []


@pytest.mark.parametrize(
    ("command", "unused"),
    [
        (["currency", "show"], ("scipy", "splink", "jinja2", "argon2", "alembic", "fastapi")),
        (["users", "list"], ("argon2", "polars", "scipy", "alembic", "fastapi", "uvicorn")),
        (["playbooks", "list"], ("scipy", "httpx", "splink", "alembic", "fastapi", "aiosmtpd")),
    ],
)
def test_store_commands_load_only_what_they_use(
    tmp_path: Path, command: list[str], unused: tuple[str, ...]
) -> None:
    db = f"sqlite:///{tmp_path / 'store.db'}"
    run_listing(tmp_path, "init", "--db", db)

    _, modules = run_listing(tmp_path, *command, "--db", db)

    assert loaded(modules, unused) == []


def test_the_package_still_exports_its_settings() -> None:
    from relmark import Settings, get_settings
    from relmark.config import Settings as defined

    assert Settings is defined
    assert isinstance(get_settings(), Settings)
    assert all(hasattr(relmark, name) for name in relmark.__all__)
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        relmark.nothing  # noqa: B018
