"""A local SMTP server that files every message it receives as an .eml file.

The demo sends through it when no real SMTP server is configured, so the whole path (SMTP
conversation included) runs, and the messages can be opened in any mail program.
"""

from __future__ import annotations

import socket
from pathlib import Path
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller


class _Filer:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.count += 1
        (self.folder / f"{self.count:06d}.eml").write_bytes(envelope.content)
        return "250 OK"


class MailSink:
    """`with MailSink(folder) as sink:` → an SMTP server on 127.0.0.1:`sink.port`."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.eml"):
            old.unlink()
        self.folder = folder
        self.handler = _Filer(folder)
        self.port = _free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    @property
    def received(self) -> int:
        return self.handler.count

    def __enter__(self) -> MailSink:
        self.controller.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.controller.stop()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
