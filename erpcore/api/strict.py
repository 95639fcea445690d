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
        token = json.dumps(dup.key)
        pos = text.find(token, text.find(token) + 1)
        raise json.JSONDecodeError(f"{DUPLICATE}{token}", text, max(pos, 0)) from None


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
