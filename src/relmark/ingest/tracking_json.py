"""JSON from strangers, read with bounds: the tracking endpoint is public to anyone holding a
write key, and a key sits in every shop's web page.

Python's `json` turns a 5,000-digit integer into a ValueError, 5,000 nested brackets into a
RecursionError and `NaN` into a float no database stores. Here numbers are checked as text
before any conversion, the tree's depth and strings are checked once, and every refusal says
where in the body (`batch[0].properties.total`) and why.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from relmark.errors import InvalidInput, Problem
from relmark.ingest.limits import INT64_MAX, INT64_MIN

#: Segment's own payloads are 3-4 levels deep; properties rarely add more than a few.
MAX_DEPTH = 32
#: A JSON number longer than this is refused unread (a float needs at most 24 characters).
MAX_NUMBER_CHARACTERS = 40
MAX_SHOWN = 20


@dataclass(frozen=True)
class Refused:
    """A number the parser kept as text because converting it is unsafe or unstorable."""

    text: str
    reason: str


def _integer(text: str) -> int | Refused:
    digits = len(text.lstrip("-"))
    if digits > 19:
        return Refused(text, f"a {digits}-digit integer is beyond 64-bit")
    value = int(text)
    if not INT64_MIN <= value <= INT64_MAX:
        return Refused(text, "integer is beyond 64-bit")
    return value


def _float(text: str) -> float | Refused:
    if len(text) > MAX_NUMBER_CHARACTERS:
        return Refused(text, f"number written with more than {MAX_NUMBER_CHARACTERS} characters")
    value = float(text)
    if value in (float("inf"), float("-inf")):
        return Refused(text, "number is beyond the range of a 64-bit float")
    return value


def _constant(name: str) -> Refused:
    return Refused(name, f"{name} is not a JSON number")


def loads(body: bytes) -> Any:
    """The JSON value of `body`; InvalidInput naming each place that cannot be stored.

    Cheap checks (numbers refused while parsing, a `\\u0000` or surrogate escape, the depth of
    containers) decide whether the tree needs the slower walk that names places: a good
    500 KB batch costs about twice `json.loads`.
    """
    refused: list[Refused] = []

    def kept(value: Any) -> Any:
        if isinstance(value, Refused):
            refused.append(value)
        return value

    try:
        text = body.decode(json.detect_encoding(body))
        tree = json.loads(
            text,
            parse_int=lambda t: kept(_integer(t)),
            parse_float=lambda t: kept(_float(t)),
            parse_constant=lambda t: kept(_constant(t)),
        )
    except RecursionError:
        raise InvalidInput.single("body", f"nested deeper than {MAX_DEPTH} levels") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput.single("body", f"not JSON: {exc}") from None
    if refused or _ESCAPES.search(text) or _deepest(tree) > MAX_DEPTH:
        problems = list(_problems(tree))
        if problems:
            raise InvalidInput(problems[:MAX_SHOWN], total=len(problems), shown=MAX_SHOWN)
    return tree


def _deepest(tree: Any) -> int:
    """How many levels containers nest (counting stops past MAX_DEPTH), a level at a time."""
    level = [tree] if type(tree) is dict or type(tree) is list else []
    depth = 0
    while level and depth <= MAX_DEPTH:
        depth += 1
        below: list[Any] = []
        for value in level:
            children = value.values() if type(value) is dict else value
            below += [c for c in children if type(c) is dict or type(c) is list]
        level = below
    return depth


#: Escapes that may stand for text no store keeps: NUL, and surrogates (paired ones are fine).
_ESCAPES = re.compile(r"\\u(0000|[dD][89a-fA-F])")


def _unstorable(text: str) -> str | None:
    """Why no database can keep `text` (PostgreSQL refuses NUL; UTF-8 has no lone surrogate)."""
    if "\x00" in text:
        return "contains a NUL character"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"contains an unpaired surrogate (U+{ord(text[exc.start]):04X})"
    return None


def _problems(tree: Any) -> Any:
    """Each place that is too deep, a refused number, or unstorable text, walking iteratively
    (the tree may be as deep as the parser allowed)."""
    pending: list[tuple[Any, str, int]] = [(tree, "", 0)]
    while pending:
        value, path, depth = pending.pop()
        where = path or "body"
        if isinstance(value, Refused):
            yield Problem(where, f"{value.reason} ({_short(value.text)})")
        elif isinstance(value, str) and (problem := _unstorable(value)):
            yield Problem(where, problem)
        elif isinstance(value, dict | list):
            if depth >= MAX_DEPTH:
                yield Problem(where, f"nested deeper than {MAX_DEPTH} levels")
                continue
            if isinstance(value, dict):
                items = list(value.items())
                for key, _ in items:
                    if problem := _unstorable(key):
                        yield Problem(where, f"a key {problem}")
                children = [(v, f"{path}.{_key(k)}" if path else _key(k)) for k, v in items]
            else:
                children = [(v, f"{path}[{i}]") for i, v in enumerate(value)]
            pending.extend((child, place, depth + 1) for child, place in reversed(children))


def _key(key: str) -> str:
    """A key as it may appear in a reply: control characters shown as '?'."""
    return "".join("?" if ord(ch) < 32 or ord(ch) == 127 else ch for ch in key[:100])


def _short(text: str) -> str:
    return text if len(text) <= 24 else f"{text[:10]}…{len(text)} characters"
