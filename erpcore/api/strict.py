"""Request bodies parsed strictly: a JSON object naming a key twice is refused, not silently merged.

`{"quantity": 1, "quantity": 1000}` means 1000 to Python's json module and 1 to some proxies and
validators in front of us; a request that two parsers read differently is refused with 422, naming the key.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

DUPLICATE = "duplicate key "


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) == len(pairs):
        return found
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            raise _Duplicate(key)
        seen.add(key)
    return found  # pragma: no cover  (a shorter dict always has a repeated key)


class _Duplicate(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def loads(body: bytes | str) -> Any:
    """`json.loads` refusing duplicate keys with a `JSONDecodeError` at the repeated key."""
    text = body.decode() if isinstance(body, bytes) else body
    try:
        return json.loads(text, object_pairs_hook=_unique)
    except _Duplicate as dup:
        key, pos = _first_repeat(text) or (dup.key, 0)
        raise json.JSONDecodeError(f"{DUPLICATE}{json.dumps(key)}", text, pos) from None


def _first_repeat(text: str) -> tuple[str, int] | None:
    """The first key given twice in one object, and where it is given again (text valid JSON up to there).

    Keys are compared decoded, within their own object only: `{"a": {"b": 1}, "b": 2}` repeats nothing.
    """
    open_keys: list[set[str] | None] = []  # per open container: its keys so far (None: an array)
    expect_key, i = False, 0
    try:
        while i < len(text):
            char = text[i]
            if char == '"':
                end = _string_end(text, i)
                keys = open_keys[-1] if open_keys else None
                if expect_key and keys is not None:
                    key = json.loads(text[i:end])
                    if key in keys:
                        return key, i
                    keys.add(key)
                    expect_key = False
                i = end
                continue
            if char in "{[":
                open_keys.append(set() if char == "{" else None)
                expect_key = char == "{"
            elif char in "}]":
                open_keys.pop()
                expect_key = False
            elif char == ",":
                expect_key = bool(open_keys) and open_keys[-1] is not None
            i += 1
    except (IndexError, ValueError):
        return None
    return None


def _string_end(text: str, start: int) -> int:
    """The index just past the JSON string opening at `start`."""
    i = start + 1
    while text[i] != '"':
        i += 2 if text[i] == "\\" else 1
    return i + 1


class StrictJsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = loads(await self.body())
        return self._json


class StrictJsonRoute(APIRoute):
    """An API route reading its JSON body with `loads`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def strict(request: Request) -> Response:
            return await handle(StrictJsonRequest(request.scope, request.receive))

        return strict
