"""The delivery loop's view of the shop's settings: re-read from the store while it runs."""

from __future__ import annotations

import time
from collections.abc import Callable

from relmark.interact.compose import Branding
from relmark.interact.delivery import Sender

#: How old the shop's settings a running `send --loop` uses may be, in seconds.
SHOP_SETTINGS_TTL = 2.0


class LiveSender(Sender):
    """A Sender whose branding (From, Reply-To, shop name, logo…) follows the shop's settings
    in the store, re-read every SHOP_SETTINGS_TTL seconds: a long `relmark send --loop`
    takes up a `relmark settings set` without a restart."""

    source: Callable[[], Branding] | None = None
    _read_at = 0.0

    @property  # type: ignore[override]
    def branding(self) -> Branding:
        if self.source is not None and time.monotonic() - self._read_at >= SHOP_SETTINGS_TTL:
            self._branding, self._read_at = self.source(), time.monotonic()
        return self._branding

    @branding.setter
    def branding(self, value: Branding) -> None:
        self._branding = value
        self._read_at = time.monotonic()
