"""`erpops outbox subscribe|unsubscribe|subscriptions|deliver|status|replay`: business events to webhooks."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any

import typer

from opskit import output
from opskit.exitcodes import ExitCode

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from erpcore.access import Actor
    from erpcore.crypto import Keyring

outbox_app = typer.Typer(help="Business events (order approved, goods received, ...) to subscribed webhooks, "
                              "signed, retried, at least once.\n\nExample: erpops outbox deliver --loop "
                              "--max-duration 300", no_args_is_help=True)


@contextmanager
def _database() -> Iterator[Engine]:
    """The configured database, checked migrated; its connections are closed when the command ends."""
    from erpcore.migrate import open_database

    engine = open_database()
    try:
        yield engine
    finally:
        engine.dispose()


def _keyring() -> Keyring:
    """The configured keys (none: secrets are stored plain until `erpops keys rotate` seals them)."""
    from erpcore.config import load_settings
    from erpcore.crypto import keyring

    return keyring(load_settings())


def _actor() -> Actor:
    """Who runs the command, on the audit trail (`ERPOPS_USER`, `ERPOPS_ROLE`)."""
    from erpcore.access import cli_actor

    return cli_actor()


def _subscription_view(row: dict[str, Any]) -> Any:
    return output.table("Outbox subscription", ["id", "topic pattern", "url", "secret"],
                        [(row["id"], row["topic_pattern"], row["url"], row["secret"])])


@outbox_app.command("subscribe")
def subscribe(
    topic_pattern: Annotated[str, typer.Argument(help="Topics to send: exact, or a pattern ('purchasing.*', '*').")],
    url: Annotated[str, typer.Argument(help="The webhook's http(s) URL.")],
    secret: Annotated[str | None, typer.Option(help="HMAC secret (16-200 chars); default: a random one, shown "
                                                     "once.", envvar="ERPOPS_OUTBOX_SECRET")] = None,
    as_json: bool = output.JsonFlag,
) -> None:
    """Subscribe a webhook to topics; prints the signing secret once.

    Example: erpops outbox subscribe 'purchasing.*' https://wms.example.com/hooks/erp
    """
    from erpcore.services import outbox

    with _database() as engine:
        made = outbox.subscribe(engine, _keyring(), topic_pattern, url, secret, _actor())
    output.render(made, as_json, _subscription_view)


@outbox_app.command("unsubscribe")
def unsubscribe(
    subscription_id: Annotated[int, typer.Argument(help="The subscription's id (`erpops outbox subscriptions`).")],
    as_json: bool = output.JsonFlag,
) -> None:
    """Remove a webhook subscription.

    Example: erpops outbox unsubscribe 3
    """
    from erpcore.services import outbox

    with _database() as engine:
        gone = outbox.unsubscribe(engine, subscription_id, _actor())
    output.render(gone, as_json, _subscription_view)


@outbox_app.command("subscriptions")
def subscriptions(as_json: bool = output.JsonFlag) -> None:
    """List webhook subscriptions (secrets masked).

    Example: erpops outbox subscriptions --json
    """
    from erpcore.services import outbox

    with _database() as engine:
        rows = outbox.subscriptions(engine)
    output.render(rows, as_json, lambda rs: output.table("Outbox subscriptions", ["id", "topic pattern", "url",
                                                                                  "created_at"],
                                                         [(r["id"], r["topic_pattern"], r["url"], r["created_at"])
                                                          for r in rs]))


@outbox_app.command("deliver")
def deliver(
    loop: Annotated[bool, typer.Option("--loop", help="Keep delivering until --max-duration or SIGTERM/SIGINT.")]
    = False,
    max_duration: Annotated[float, typer.Option(min=0.1, help="With --loop: stop after this many seconds.")]
    = 3600.0,
    as_json: bool = output.JsonFlag,
) -> None:
    """POST due outbox messages to their webhooks once (or in a loop); exit 1 when any went dead.

    SIGTERM or SIGINT lets the message in hand finish and be recorded, gives the rest back, and exits
    143 or 130. Several deliverers may run at once: each message goes to one of them at a time.

    Example: erpops outbox deliver --loop --max-duration 600 --json
    """
    import signal

    import httpx

    from erpcore.config import load_settings
    from erpcore.domain.delivery import MessageStatus
    from erpcore.services.delivery import Deliverer
    from opskit.signals import stop_requested

    settings = load_settings().outbox
    keys = _keyring()
    with _database() as engine, httpx.Client() as client, stop_requested() as stop:
        deliverer = Deliverer(engine, settings, client, keys)
        if loop:
            result = deliverer.run(max_duration, lambda: stop.requested, stop.wait)
        else:
            result = deliverer.deliver_due(lambda: stop.requested)
    totals = {status.value: result.count(status) for status in MessageStatus}
    output.render({"reason": result.reason, "totals": totals, "attempts": result.attempts}, as_json,
                  lambda r: output.table(
                      f"outbox deliver: {r['reason']}", ["id", "topic", "status", "attempts", "reason"],
                      [(a.message_id, a.topic, a.status, a.attempts, a.reason) for a in r["attempts"]]))
    if stop.requested:
        raise typer.Exit(ExitCode.INTERRUPTED if stop.signum == signal.SIGINT else ExitCode.TERMINATED)
    if result.count(MessageStatus.DEAD):
        raise typer.Exit(ExitCode.FAILED)


@outbox_app.command("status")
def status(as_json: bool = output.JsonFlag) -> None:
    """Messages pending, delivered and dead, the oldest pending one's age, and the latest dead ones.

    Example: erpops outbox status --json
    """
    from erpcore.services import outbox

    with _database() as engine:
        data = outbox.status(engine)
    output.render(data, as_json, _status_view)


def _status_view(data: dict[str, Any]) -> Any:
    counts = data["counts"]
    age = data["oldest_pending_age_s"]
    title = (f"outbox: {counts['pending']} pending, {counts['delivered']} delivered, {counts['dead']} dead; "
             f"oldest pending {'-' if age is None else f'{age:.0f}s'}")
    return output.table(title, ["id", "topic", "key", "attempts", "last error"],
                        [(d["id"], d["topic"], d["key"], d["attempts"], d["last_error"]) for d in data["dead"]])


@outbox_app.command("replay")
def replay(
    message_id: Annotated[int, typer.Argument(help="The message's id (dead ones: `erpops outbox status`).")],
    as_json: bool = output.JsonFlag,
) -> None:
    """Make a message (dead or delivered) due again for every subscription, with the same idempotency key.

    Example: erpops outbox replay 42
    """
    from erpcore.services import outbox

    with _database() as engine:
        row = outbox.replay(engine, message_id)
    output.render(row, as_json,
                  lambda r: f"outbox message {r['id']} ({r['topic']}) was {r['was']}, now {r['status']}")


def register(app: typer.Typer) -> None:
    app.add_typer(outbox_app, name="outbox")
