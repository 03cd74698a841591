"""The flow is the architecture: stages never import interfaces, the store imports no stage."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "relmark"
STAGES = ("ingest", "identify", "differentiate", "interact", "report")


def imports_of(package: str) -> set[tuple[str, str]]:
    """(module file, imported relmark module) for every import inside `package`."""
    found = set()
    for path in (PACKAGE / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            found |= {(path.name, n) for n in names if n.startswith("relmark.")}
    return found


@pytest.mark.parametrize("package", ["store", *STAGES])
def test_domain_code_never_imports_an_interface(package: str) -> None:
    if not (PACKAGE / package).exists():
        pytest.skip(f"relmark.{package} does not exist yet")
    bad = {(f, m) for f, m in imports_of(package) if m.startswith("relmark.interfaces")}
    assert bad == set()


def test_store_imports_no_stage_and_stages_not_each_other() -> None:
    store = {m for _, m in imports_of("store")}
    assert not {m for m in store if m.split(".")[1] in (*STAGES, "demo")}
    for stage in STAGES:
        if not (PACKAGE / stage).exists():
            continue
        others = {m for _, m in imports_of(stage) if m.split(".")[1] in STAGES}
        assert {m for m in others if m.split(".")[1] != stage} == set(), stage


def test_postgres_switched_on_but_unreachable_fails_the_run() -> None:
    env = {**os.environ, "RELMARK_TEST_POSTGRES_URL": "postgresql://nobody@127.0.0.1:1/none"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            str(Path(__file__).with_name("test_store_migrations.py")),
            "-k",
            "postgresql",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=PACKAGE.parents[1],
    )
    assert result.returncode != 0
    assert "1 error" in result.stdout or "1 failed" in result.stdout
