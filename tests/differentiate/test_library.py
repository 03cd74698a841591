"""The Python library the README promises: every name it lists imports from
`relmark.differentiate`, and importing the package or a light module does not load SciPy."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

import relmark
import relmark.differentiate as differentiate

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_library() -> tuple[list[str], list[str]]:
    """(names, methods) from the README's paragraph on the library: the backticked names,
    and the backticked methods in its parentheses."""
    text = " ".join(README.read_text(encoding="utf-8").split())
    match = re.search(
        r"The models are also a Python library \(`relmark\.differentiate`\):(.*?);", text
    )
    assert match, "the README no longer describes the library in the expected sentence"
    listing = match.group(1)
    methods = re.findall(r"`(\w+)`", " ".join(re.findall(r"\(([^)]*)\)", listing)))
    names = re.findall(r"`(\w+)`", re.sub(r"\([^)]*\)", "", listing))
    return names, methods


def test_the_readme_lists_what_the_library_exports() -> None:
    names, methods = readme_library()

    assert len(names) >= 10
    assert set(names) <= set(differentiate.__all__)
    assert set(differentiate.__all__) == set(differentiate._SOURCES)
    classes = [differentiate.BetaGeo, differentiate.ParetoNBD, differentiate.ModifiedBetaGeo]
    for method in methods:
        assert any(hasattr(c, method) for c in [*classes, differentiate.GammaGamma]), method
    for cls in [*classes, differentiate.GammaGamma]:
        assert callable(cls.fit)


@pytest.mark.parametrize("name", differentiate.__all__)
def test_every_exported_name_imports(name: str) -> None:
    namespace: dict[str, object] = {}
    exec(f"from relmark.differentiate import {name}", namespace)

    defined_in = importlib.import_module(f"relmark.differentiate.{differentiate._SOURCES[name]}")
    assert namespace[name] is getattr(defined_in, name)


def test_unknown_names_fail_and_submodules_still_import() -> None:
    with pytest.raises(ImportError, match="no_such_thing"):
        exec("from relmark.differentiate import no_such_thing", {})

    from relmark.differentiate import distributed  # the README's Spark example

    assert callable(distributed.summarise)
    assert callable(distributed.fit)
    assert callable(distributed.score)
    from relmark.differentiate.clv import ValueSettings

    assert ValueSettings is differentiate.ValueSettings


def test_scipy_loads_only_when_a_special_function_is_called() -> None:
    code = (
        "import sys, relmark.differentiate, relmark.differentiate.summary, "
        "relmark.differentiate.rfm; "
        "assert 'scipy' not in sys.modules, 'scipy loaded'; "
        "from relmark.differentiate import rfm_summary, BetaGeo; "
        "assert 'scipy' not in sys.modules, 'scipy loaded by the models'; "
        "import numpy as np; model = BetaGeo(); "
        "model.fit(np.array([0., 2, 5, 1]), np.array([0., 20, 30, 9]), "
        "np.array([40., 38, 35, 30])); "
        "model.expected_purchases(10, [1.0], [5.0], [30.0]); "
        "assert 'scipy.special' in sys.modules, 'predictions need the special functions'"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(Path(relmark.__file__).parents[1]), "PATH": ""},
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
