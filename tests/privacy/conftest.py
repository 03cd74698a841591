"""The interact tests' small shop and SMTP inbox, reused: erasure runs on what they build."""

from __future__ import annotations

from ..interact.conftest import inbox, shop

__all__ = ["inbox", "shop"]
