"""What every route reads from the application: the interact seam, built once per app."""

from __future__ import annotations

from fastapi import Request

from relmark.interaction import Interaction


def interaction(request: Request) -> Interaction:
    return request.app.state.interaction  # type: ignore[no-any-return]
