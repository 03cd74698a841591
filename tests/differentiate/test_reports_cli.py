"""`relmark report migration` and `relmark report whale` on a scored demo store."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from relmark.interfaces.cli import app

runner = CliRunner()


def test_migration_and_whale_reports(tmp_path) -> None:
    db = f"sqlite:///{tmp_path / 's.db'}"
    demo = ["demo", "--customers", "400", "--as-of", "2026-06-30", "--db", db, "--no-serve"]
    assert runner.invoke(app, [*demo, "--mail-dir", str(tmp_path / "m")]).exit_code == 0
    early = runner.invoke(app, ["score", "--as-of", "2026-03-31", "--db", db])
    assert early.exit_code == 0, early.output

    migration = runner.invoke(app, ["report", "migration", "--db", db, "--json"])
    assert migration.exit_code == 0, migration.output
    data = json.loads(migration.stdout)
    # the demo scored twice (half a year back, for its earlier sends, and at its end): 2, 3
    assert (data["from_run"], data["to_run"]) == (2, 3)
    moved = sum(v for row in data["rows"] for k, v in row.items() if k != "from")
    scored_later = runner.invoke(app, ["customers", "--db", db, "--json", "--limit", "100000"])
    assert moved >= len(json.loads(scored_later.stdout))

    whale = runner.invoke(app, ["report", "whale", "--db", db, "--json", "--points", "5"])
    points = json.loads(whale.stdout)["points"]
    assert abs(points[-1]["customer_share"] - 1.0) < 1e-9
    assert abs(points[-1]["profit_share"] - 1.0) < 1e-9
    assert max(p["profit_share"] for p in points) >= points[0]["profit_share"]

    bad = runner.invoke(app, ["report", "migration", "--from", "9", "--db", db])
    assert bad.exit_code == 1
    assert "no score run 9" in bad.output
