"""Splink and DuckDB talk to the console (warnings about untrained levels, progress); a
command's output is the user's. Route what they say to Python logging at debug level."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

log = logging.getLogger("relmark.identify.splink")


class _ToDebug(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        log.debug("%s: %s", record.name, record.getMessage())


@contextmanager
def splink_to_debug() -> Iterator[None]:
    """Within the block, Splink's log records and Python warnings are logged at debug on
    `relmark.identify.splink` and printed nowhere; the loggers are restored afterwards."""
    splink_logger = logging.getLogger("splink")
    saved = (splink_logger.handlers[:], splink_logger.propagate, splink_logger.level)
    handler = _ToDebug()
    splink_logger.handlers = [handler]
    splink_logger.propagate = False
    splink_logger.setLevel(logging.INFO)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        finally:
            splink_logger.handlers, splink_logger.propagate = saved[0], saved[1]
            splink_logger.setLevel(saved[2])
            for warning in caught:
                log.debug("%s: %s", warning.category.__name__, warning.message)
