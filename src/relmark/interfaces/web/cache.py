"""A small per-process cache for figures that change only when the store does.

Keys start with the store's version (newest score run, order, customer, merge, consent and
customer-event ids: a handful of index lookups), so an import, a merge, a rename or a new
score run shows at once,
and a dashboard under load does not recompute a 100,000-customer chart per request.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy import Engine

from relmark.store.customers import store_version

T = TypeVar("T")


class FigureCache:
    def __init__(self, engine: Engine, size: int = 256) -> None:
        self.engine = engine
        self.size = size
        self.items: OrderedDict[Hashable, Any] = OrderedDict()
        self.lock = threading.Lock()

    def version(self) -> tuple[int, ...]:
        with self.engine.connect() as connection:
            return store_version(connection)

    def get(
        self, key: Hashable, compute: Callable[[], T], version: tuple[int, ...] | None = None
    ) -> T:
        full = (version or self.version(), key)
        with self.lock:
            if full in self.items:
                self.items.move_to_end(full)
                return self.items[full]  # type: ignore[no-any-return]
        value = compute()
        with self.lock:
            self.items[full] = value
            while len(self.items) > self.size:
                self.items.popitem(last=False)
        return value
