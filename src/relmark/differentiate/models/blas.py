"""One BLAS thread while a model is fitted.

The fits are sums of vector products over at most a few hundred thousand rows: OpenBLAS
splits even a dot product of 15,000 numbers over its threads, and on a busy machine (more
runnable processes than cores) the threads wait for each other: measured here, a dot product
took 755 µs with OpenBLAS's default threads against 8 µs with one, and a BG/NBD fit on 20,000
customers 0.5-2.8 s against 0.05 s. Setting OPENBLAS_NUM_THREADS works only before numpy is
imported; this sets the thread count of the OpenBLAS libraries already loaded (found in
/proc/self/maps, as threadpoolctl does) for the duration of a fit, and restores it. Where
that is not possible (another BLAS, another OS) it does nothing.
"""

from __future__ import annotations

import ctypes
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

_SYMBOLS = (
    ("scipy_openblas_get_num_threads64_", "scipy_openblas_set_num_threads64_"),
    ("scipy_openblas_get_num_threads", "scipy_openblas_set_num_threads"),
    ("openblas_get_num_threads64_", "openblas_set_num_threads64_"),
    ("openblas_get_num_threads", "openblas_set_num_threads"),
)


def _controls() -> tuple[tuple[Any, Any], ...]:
    """(get, set) thread-count functions of every OpenBLAS loaded in this process now."""
    maps = Path("/proc/self/maps")
    try:
        paths = frozenset(
            line.split()[-1]
            for line in maps.read_text().splitlines()
            if "openblas" in line.lower() and ".so" in line
        )
    except OSError:
        return ()
    return _load(paths)


@cache
def _load(paths: frozenset[str]) -> tuple[tuple[Any, Any], ...]:
    found = []
    for path in sorted(paths):
        try:
            library = ctypes.CDLL(path)
        except OSError:
            continue
        for getter, setter in _SYMBOLS:
            if hasattr(library, getter) and hasattr(library, setter):
                found.append((getattr(library, getter), getattr(library, setter)))
                break
    return tuple(found)


@contextmanager
def one_thread() -> Iterator[None]:
    """Run the block with every loaded OpenBLAS on one thread, then restore the counts."""
    import numpy  # noqa: F401  (loads numpy's OpenBLAS, so that it is found)

    # SciPy's own OpenBLAS is found if SciPy is loaded; a fit that needs none of SciPy (BG/NBD)
    # does not load it just for this (0.2 s), and one that loads it later (a fallback) runs
    # those steps with SciPy's default threads
    controls = _controls()
    before = [get() for get, _ in controls]
    for _, set_threads in controls:
        set_threads(1)
    try:
        yield
    finally:
        for (_, set_threads), count in zip(controls, before, strict=True):
            set_threads(count)
