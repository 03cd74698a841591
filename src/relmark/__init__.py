"""relmark: relationship marketing, from the first sale onwards.

The flow is the architecture: ingest → identify → differentiate → interact → report,
all over one store. This module exposes the few entry points meant for library users.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from relmark.errors import InvalidInput, RelmarkError

if TYPE_CHECKING:
    from relmark.config import Settings, get_settings

__version__ = "0.1.0"

__all__ = ["InvalidInput", "RelmarkError", "Settings", "__version__", "get_settings"]

# Settings need pydantic-settings (a tenth of a second): loaded on first use, so that
# importing any relmark module (and every `relmark` command) does not pay for it.
_LAZY = {"Settings", "get_settings"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from relmark import config

        return getattr(config, name)
    raise AttributeError(f"module 'relmark' has no attribute {name!r}")
