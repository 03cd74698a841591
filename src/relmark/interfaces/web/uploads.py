"""Uploaded files to disk, the same way for the API and the dashboard: a safe name, a byte
cap checked while copying, and memory that stays at one chunk whatever the file's size."""

from __future__ import annotations

from pathlib import Path

from fastapi import HTTPException, Request
from starlette.datastructures import UploadFile

#: The largest import file accepted, through the API and the dashboard alike.
MAX_UPLOAD = 200 * 1024 * 1024
#: A multipart body carries a little more than the file: its headers and the other fields.
MAX_UPLOAD_BODY = MAX_UPLOAD + 64 * 1024
CHUNK = 1 << 20


def too_large() -> HTTPException:
    return HTTPException(413, f"files above {MAX_UPLOAD >> 20} MiB are refused")


def refuse_declared_excess(request: Request) -> None:
    """413 before anything is read when the client declares a body beyond the cap."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_UPLOAD_BODY:
        raise too_large()


def safe_name(filename: str | None) -> str:
    """The file's own name without folders; `.`, `..`, empty or control characters: 400.

    The importer reads the format from the suffix, so the name is kept, not replaced."""
    name = Path((filename or "upload.csv").replace("\\", "/")).name
    if name in {"", ".", ".."} or any(ord(c) < 32 or c == "\x7f" for c in name):
        raise HTTPException(400, "the uploaded file needs a name such as customers.csv")
    return name[-200:]


async def save(upload: UploadFile, folder: Path) -> Path:
    """Copy `upload` into `folder` chunk by chunk; 413 past MAX_UPLOAD."""
    path = folder / safe_name(upload.filename)
    size = 0
    with path.open("wb") as handle:
        while chunk := await upload.read(CHUNK):
            size += len(chunk)
            if size > MAX_UPLOAD:
                raise too_large()
            handle.write(chunk)
    return path
