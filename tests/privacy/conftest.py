"""The interact tests' small shop and SMTP inbox, and the web tests' running app, reused:
erasure runs on what they build."""

from __future__ import annotations

from ..interact.conftest import inbox, shop
from ..web.conftest import web

__all__ = ["inbox", "shop", "web"]
