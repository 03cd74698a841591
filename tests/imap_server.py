"""A small IMAP4rev1 server for tests, over real TCP: enough of RFC 3501 for imaplib's
CAPABILITY, LOGIN, SELECT, UID SEARCH UNSEEN, UID FETCH (BODY.PEEK[] / BODY[] / RFC822),
UID STORE ±FLAGS and LOGOUT. One mailbox, kept in memory, served from its own thread."""

from __future__ import annotations

import asyncio
import re
import threading
from dataclasses import dataclass, field

ATOM = re.compile(rb'"((?:[^"\\]|\\.)*)"|(\([^)]*\))|(\S+)')


@dataclass
class Mail:
    uid: int
    raw: bytes
    flags: set[str] = field(default_factory=set)


class ImapServer:
    """Serves `mails` in the folder `folder` to `user` with `password`."""

    def __init__(self, user: str = "unsub@brew.example", password: str = 'pw 1"x') -> None:
        self.user, self.password = user, password
        self.folder = "INBOX"
        self.mails: list[Mail] = []
        self.commands: list[str] = []
        self._next_uid = 1
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.port = 0

    # --- the test's side --------------------------------------------------------------------

    def deliver(self, raw: bytes, flags: set[str] | None = None) -> int:
        mail = Mail(self._next_uid, raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
        mail.flags |= flags or set()
        self._next_uid += 1
        self.mails.append(mail)
        return mail.uid

    def seen(self) -> list[bool]:
        return ["\\Seen" in m.flags for m in self.mails]

    def __enter__(self) -> ImapServer:
        self._thread.start()
        assert self._ready.wait(10), "the IMAP test server did not start"
        return self

    def __exit__(self, *_: object) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    # --- the server -------------------------------------------------------------------------

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._serve())

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        server = await asyncio.start_server(self._session, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        async with server:
            await self._stop.wait()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        state = {"auth": False, "selected": False}
        writer.write(b"* OK [CAPABILITY IMAP4rev1] relmark test IMAP ready\r\n")
        try:
            while line := await reader.readline():
                self.commands.append(line.decode(errors="replace").rstrip())
                words = [
                    (q.replace(b'\\"', b'"').replace(b"\\\\", b"\\") if q else (p or a))
                    for q, p, a in ATOM.findall(line.rstrip(b"\r\n"))
                ]
                if len(words) < 2:
                    writer.write(b"* BAD no tag\r\n")
                    continue
                tag, command, args = words[0], words[1].upper(), words[2:]
                if command == b"LOGOUT":
                    writer.write(b"* BYE bye\r\n" + tag + b" OK LOGOUT done\r\n")
                    await writer.drain()
                    break
                writer.write(self._answer(tag, command, args, state))
                await writer.drain()
        finally:
            writer.close()

    def _answer(self, tag: bytes, command: bytes, args: list[bytes], state: dict) -> bytes:
        if command == b"CAPABILITY":
            return b"* CAPABILITY IMAP4rev1\r\n" + tag + b" OK done\r\n"
        if command == b"NOOP":
            return tag + b" OK done\r\n"
        if command == b"LOGIN":
            if (
                len(args) == 2
                and args[0].decode() == self.user
                and args[1].decode() == self.password
            ):
                state["auth"] = True
                return tag + b" OK LOGIN done\r\n"
            return tag + b" NO [AUTHENTICATIONFAILED] wrong user or password\r\n"
        if not state["auth"]:
            return tag + b" NO log in first\r\n"
        if command in (b"SELECT", b"EXAMINE"):
            if not args or args[0].decode() != self.folder:
                return tag + b" NO no such mailbox\r\n"
            state["selected"] = True
            return (
                (
                    f"* {len(self.mails)} EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY 7] ok\r\n"
                    f"* OK [UIDNEXT {self._next_uid}] ok\r\n* FLAGS (\\Seen \\Deleted)\r\n"
                ).encode()
                + tag
                + b" OK [READ-WRITE] SELECT done\r\n"
            )
        if not state["selected"] or command != b"UID" or not args:
            return tag + b" BAD not supported here\r\n"
        sub, rest = args[0].upper(), args[1:]
        if sub == b"SEARCH":
            if [r.upper() for r in rest] != [b"UNSEEN"]:
                return tag + b" BAD only UNSEEN\r\n"
            uids = " ".join(str(m.uid) for m in self.mails if "\\Seen" not in m.flags)
            return f"* SEARCH {uids}".rstrip().encode() + b"\r\n" + tag + b" OK SEARCH done\r\n"
        if sub == b"FETCH" and len(rest) == 2:
            return self._fetch(tag, rest[0], rest[1].upper())
        if sub == b"STORE" and len(rest) == 3:
            return self._store(tag, rest[0], rest[1].upper(), rest[2])
        return tag + b" BAD unknown UID command\r\n"

    def _find(self, uid: bytes) -> tuple[int, Mail] | None:
        for number, mail in enumerate(self.mails, start=1):
            if str(mail.uid).encode() == uid:
                return number, mail
        return None

    def _fetch(self, tag: bytes, uid: bytes, item: bytes) -> bytes:
        found = self._find(uid)
        if found is None:
            return tag + b" OK FETCH done (no such message)\r\n"
        number, mail = found
        item = item.strip(b"()")
        if item == b"BODY.PEEK[]":
            name = b"BODY[]"
        elif item in (b"BODY[]", b"RFC822"):
            name = item
            mail.flags.add("\\Seen")
        else:
            return tag + b" BAD only BODY.PEEK[], BODY[] or RFC822\r\n"
        head = f"* {number} FETCH (UID {mail.uid} ".encode() + name
        return (
            head
            + f" {{{len(mail.raw)}}}\r\n".encode()
            + mail.raw
            + b")\r\n"
            + tag
            + b" OK done\r\n"
        )

    def _store(self, tag: bytes, uid: bytes, how: bytes, flags: bytes) -> bytes:
        found = self._find(uid)
        if found is None:
            return tag + b" OK STORE done\r\n"
        number, mail = found
        names = set(flags.strip(b"()").decode().split())
        if how.startswith(b"+FLAGS"):
            mail.flags |= names
        elif how.startswith(b"-FLAGS"):
            mail.flags -= names
        else:
            mail.flags = names
        shown = " ".join(sorted(mail.flags))
        return (
            f"* {number} FETCH (UID {mail.uid} FLAGS ({shown}))\r\n".encode()
            + tag
            + b" OK done\r\n"
        )
