"""relmark: relationship marketing, from the first sale onwards.

The flow is the architecture: ingest → identify → differentiate → interact → report,
all over one store. This module exposes the few entry points meant for library users.
"""

from relmark.config import Settings, get_settings
from relmark.errors import InvalidInput, RelmarkError

__version__ = "0.1.0"

__all__ = ["InvalidInput", "RelmarkError", "Settings", "__version__", "get_settings"]
