"""Where notifications go: one ABC, a webhook, an existing Alertmanager, and an in-memory fake."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

import httpx


class DeliveryFailed(Exception):
    """The receiver did not take the body; the worker retries with back-off."""


class Notifier(ABC):
    """Contract: `send(body)` delivers one JSON body or raises `DeliveryFailed` with the reason.

    It is called from the delivery worker's thread only, never from the evaluator, may block up to
    its own timeout, and must be safe to call again with the same body (receivers deduplicate).
    """

    name: str = "notifier"

    @abstractmethod
    def send(self, body: Any) -> None: ...

    def close(self) -> None:  # noqa: B027 - an optional hook: most notifiers hold nothing
        """Release connections (default: nothing to release)."""


class WebhookNotifier(Notifier):
    """POSTs Alertmanager's webhook body (version 4) to `url`."""

    def __init__(self, url: str, timeout: float = 5.0, name: str = "webhook") -> None:
        self.url = url
        self.name = name
        self.client = httpx.Client(timeout=timeout)

    def send(self, body: Any) -> None:
        _post(self.client, self.url, body)

    def close(self) -> None:
        self.client.close()


class AlertmanagerNotifier(Notifier):
    """Hands alerts to an existing Alertmanager (`POST {url}/api/v2/alerts`), which then notifies."""

    def __init__(self, url: str, timeout: float = 5.0, name: str = "alertmanager") -> None:
        self.url = url.rstrip("/") + "/api/v2/alerts"
        self.name = name
        self.client = httpx.Client(timeout=timeout)

    def send(self, body: Any) -> None:
        _post(self.client, self.url, body)

    def close(self) -> None:
        self.client.close()


def _post(client: httpx.Client, url: str, body: Any) -> None:
    try:
        response = client.post(url, json=body)
    except httpx.HTTPError as exc:
        raise DeliveryFailed(f"{url}: {exc.__class__.__name__}: {exc}") from None
    if response.status_code >= 300:
        raise DeliveryFailed(f"{url}: HTTP {response.status_code}: {response.text[:200]}")


class MemoryNotifier(Notifier):
    """The in-memory fake: records what it received; `down = True` makes it refuse like a dead receiver."""

    def __init__(self, name: str = "memory") -> None:
        self.name = name
        self.down = False
        self.received: list[Any] = []
        self.refused = 0
        self.arrived = threading.Event()

    def send(self, body: Any) -> None:
        if self.down:
            self.refused += 1
            raise DeliveryFailed(f"{self.name} is down")
        self.received.append(body)
        self.arrived.set()


NOTIFIERS: dict[str, Callable[[str, float], Notifier]] = {
    "webhook": WebhookNotifier,
    "alertmanager": AlertmanagerNotifier,
    "memory": lambda url, timeout: MemoryNotifier(),
}
"""Receiver kinds by name, as `[monitor].receivers[].kind` names them."""


def make_notifier(kind: str, url: str = "", timeout: float = 5.0) -> Notifier:
    """The notifier for a configured receiver kind (a key of `NOTIFIERS`)."""
    factory = NOTIFIERS.get(kind)
    if factory is None:
        raise ValueError(f"unknown receiver kind {kind!r} ({', '.join(NOTIFIERS)})")
    return factory(url, timeout)
