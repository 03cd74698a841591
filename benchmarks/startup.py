"""Start-up time of `relmark` commands, each in a fresh process, against the floors.

Floors: a bare `python -c pass`; a bare Typer app of the same shape as relmark's (same
commands and groups, two options each) printing its help and running one command; importing
SQLAlchemy (which `relmark status` needs to open the store). With `--before SRC`, a second
source tree (e.g. the main branch's `src`) runs the same relmark commands in the same rounds,
so the before/after ratio is taken under the same load.

    python benchmarks/startup.py [--runs 15] [--before /work/main/src]

Every case runs once per round, rounds interleave the cases; the figures are the best and the
median over the rounds, of the wall-clock time and of the CPU time (user + system) of the
child process. On a shared machine the CPU time is the steadier figure.

Python's bytecode cache is on for every case, as for an installed relmark (pip compiles the
package), kept in a temporary folder (PYTHONPYCACHEPREFIX) so that no source tree is written
to. One more case shows `relmark --help` as it runs in an environment with
PYTHONDONTWRITEBYTECODE=1 and no compiled sources: relmark's own modules are compiled on
every start; and one with Typer's plain help (TYPER_USE_RICH=0), which skips Rich's
panels and the Markdown parser Typer loads with them.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"
CDNOW = HERE.parent / "tests" / "data" / "cdnow" / "CDNOW_sample.txt"


@dataclass
class Case:
    name: str
    argv: list[str]
    env: dict[str, str]
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def run(self) -> None:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        result = subprocess.run(self.argv, env=self.env, capture_output=True, text=True)
        self.wall.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if result.returncode != 0:
            raise SystemExit(f"{self.name} failed:\n{result.stderr}")


def bare_typer_app(path: Path) -> Path:
    """A Typer app with relmark's shape (commands, groups, subcommands) and nothing else."""
    sys.path.insert(0, str(SRC))
    from relmark.interfaces.cli import app

    lines = [
        "from typing import Annotated",
        "import typer",
        "app = typer.Typer(no_args_is_help=True, add_completion=False,"
        " pretty_exceptions_enable=False)",
        "DB = Annotated[str | None, typer.Option('--db', help='Store URL.')]",
        "JSON = Annotated[bool, typer.Option('--json', help='Print JSON.')]",
    ]

    def command(owner: str, name: str, number: int) -> None:
        lines.append(f"@{owner}.command({name!r})")
        lines.append(f"def c{number}(db: DB = None, as_json: JSON = False) -> None:")
        lines.append(f"    '''Command {name}.'''")
        lines.append("    print(db, as_json)")

    count = 0
    for info in app.registered_commands:
        count += 1
        command("app", info.name or info.callback.__name__.replace("_", "-"), count)
    for group in app.registered_groups:
        owner = f"g_{group.name}".replace("-", "_")
        lines.append(f"{owner} = typer.Typer(help='Group {group.name}.')")
        lines.append(f"app.add_typer({owner}, name={group.name!r})")
        for info in group.typer_instance.registered_commands:
            count += 1
            command(owner, info.name or info.callback.__name__.replace("_", "-"), count)
    lines.append("app()")
    path.write_text("\n".join(lines) + "\n")
    sys.path.remove(str(SRC))
    return path


def child_env(cache: Path, **extra: str) -> dict[str, str]:
    """The environment of a measured process: bytecode cached under `cache`."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, "PYTHONPYCACHEPREFIX": str(cache), **extra}


def relmark_cases(label: str, src: Path, store: str, cache: Path) -> list[Case]:
    env = child_env(cache, PYTHONPATH=str(src))
    relmark = [sys.executable, "-m", "relmark"]
    subprocess.run([*relmark, "init", "--db", store], env=env, check=True, capture_output=True)
    clv = [
        "clv",
        "fit",
        "--transactions",
        str(CDNOW),
        "--format",
        "cdnow",
        "--calibration-end",
        "1997-09-30",
    ]
    return [
        Case(f"{label}relmark --help", [*relmark, "--help"], env),
        Case(f"{label}relmark status", [*relmark, "status", "--db", store], env),
        Case(
            f"{label}relmark status (store named by RELMARK_DATABASE_URL: reads the settings)",
            [*relmark, "status"],
            {**env, "RELMARK_DATABASE_URL": store},
        ),
        Case(f"{label}relmark clv fit --help", [*relmark, "clv", "fit", "--help"], env),
        Case(f"{label}relmark clv fit (CDNOW, BG/NBD)", [*relmark, *clv], env),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--before", type=Path, help="A second relmark source tree to compare.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        bare = bare_typer_app(folder / "bare_typer.py")
        cache = folder / "pycache"
        env = child_env(cache)
        uncompiled = {**os.environ, "PYTHONPATH": str(SRC), "PYTHONDONTWRITEBYTECODE": "1"}
        cases = [
            Case("python -c pass", [sys.executable, "-c", "pass"], env),
            Case("bare Typer app --help", [sys.executable, str(bare), "--help"], env),
            Case(
                "bare Typer app, one command",
                [sys.executable, str(bare), "status", "--json"],
                env,
            ),
            Case("python -c 'import sqlalchemy'", [sys.executable, "-c", "import sqlalchemy"], env),
            *relmark_cases("", SRC, f"sqlite:///{folder / 'after.db'}", cache),
            Case(
                "relmark --help, plain help (TYPER_USE_RICH=0: no Rich panels)",
                [sys.executable, "-m", "relmark", "--help"],
                child_env(cache, PYTHONPATH=str(SRC), TYPER_USE_RICH="0"),
            ),
            Case(
                "relmark --help, sources not compiled (PYTHONDONTWRITEBYTECODE=1)",
                [sys.executable, "-m", "relmark", "--help"],
                uncompiled,
            ),
        ]
        if args.before:
            before_db = f"sqlite:///{folder / 'before.db'}"
            cases += relmark_cases("before: ", args.before, before_db, cache)
        for case in cases:  # warm the file cache and the bytecode caches
            case.run()
            case.wall.clear()
            case.cpu.clear()
        for _ in range(args.runs):
            for case in cases:
                case.run()
    print(
        f"{args.runs} runs each, Python {sys.version.split()[0]}, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    print("| command | wall best | wall median | CPU best | CPU median |")
    print("|---|---|---|---|---|")
    for case in cases:
        print(
            f"| {case.name} | {min(case.wall):.3f} s | {statistics.median(case.wall):.3f} s "
            f"| {min(case.cpu):.3f} s | {statistics.median(case.cpu):.3f} s |"
        )
    by_name = {case.name: case for case in cases}
    for case in cases:
        before = by_name.get(f"before: {case.name}")
        if before:
            print(
                f"{case.name}: {statistics.median(before.wall) / statistics.median(case.wall):.1f}"
                f"x faster than before (wall medians), "
                f"{statistics.median(before.cpu) / statistics.median(case.cpu):.1f}x (CPU)"
            )


if __name__ == "__main__":
    main()
