"""Wire a `Monitor` from settings: rules, sources, the sink, the delivery workers. Nothing at import."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine

from monitor.alert import Alert
from monitor.clock import Clock, SystemClock, parse_duration
from monitor.delivery import DeliveryWorker
from monitor.dispatcher import Dispatcher
from monitor.notifiers import Notifier, make_notifier
from monitor.rules import all_rules, load_rules
from monitor.service import AlertmanagerSink, EmbeddedSink, Monitor, Sink, Source, TickResult
from monitor.settings import MonitorSettings
from monitor.silences import SilenceStore
from monitor.sources import business_source, db_source, scrape_source, textfile_source


def build_monitor(settings: MonitorSettings, engine: Engine | None = None, clock: Clock | None = None,
                  scrape: list[str] | None = None, host: bool = True,
                  notifiers: list[Notifier] | None = None) -> Monitor:
    """A ready `Monitor`: its workers are started; call `stop()` when done."""
    rules = all_rules(load_rules(settings.rules or None))
    sink: Sink
    if settings.alertmanager_url:
        sink = AlertmanagerSink(valid_for=4 * max(settings.interval, 60.0))
        notifiers = [make_notifier("alertmanager", settings.alertmanager_url)]
    else:
        inhibit = [i.build() for i in settings.inhibit_rules]
        sink = EmbeddedSink(Dispatcher(settings.route.build(), inhibit, SilenceStore(settings.silences_path),
                                       settings.external_url))
        if notifiers is None:
            notifiers = [make_notifier(r.kind, r.url, r.timeout) for r in settings.receivers]
    workers = [DeliveryWorker(n, settings.retry_min_backoff, settings.retry_max_backoff).start() for n in notifiers]
    sources: dict[str, Source] = {}
    if host:
        from monitor.host import sample_host

        sources["host"] = lambda: sample_host([Path(settings.state_dir)])
    events: Callable[[float], list[Alert]] | None = None
    if engine is not None:
        from monitor.events import take_alert_events

        sources["db"] = db_source(engine)
        sources["business"] = business_source(engine)
        timeout = parse_duration(settings.resolve_timeout)

        def take_events(now: float) -> list[Alert]:
            return take_alert_events(engine, now, timeout, api_url=settings.api_url)

        events = take_events
    token = settings.scrape_token.get_secret_value() if settings.scrape_token else None
    for url in [*settings.scrape_urls, *(scrape or [])]:
        sources[url] = scrape_source(url, token=token)
    if settings.textfile_dirs:
        sources["textfile"] = textfile_source(settings.textfile_dirs)
    return Monitor(rules, sink, workers, sources, events, clock or SystemClock(),
                   api_url=settings.api_url)


def open_monitor(settings: MonitorSettings, database: bool = True, scrape: list[str] | None = None,
                 listen: bool = True, notifiers: list[Notifier] | None = None) -> Monitor:
    """`build_monitor` over the configured database (when `database`), serving the monitor's own
    `/metrics` on the listen address (when `listen`)."""
    engine = None
    if database:
        from erpcore.db import make_engine

        engine = make_engine()
    monitor = build_monitor(settings, engine, scrape=scrape, notifiers=notifiers)
    if listen:
        from prometheus_client import CollectorRegistry, start_http_server

        from monitor.service import MonitorCollector

        registry = CollectorRegistry()
        registry.register(MonitorCollector(monitor))
        try:
            start_http_server(settings.listen_port, settings.listen_host, registry)
        except OSError as exc:
            monitor.stop()
            from opskit.errors import Unavailable

            raise Unavailable(f"cannot serve /metrics on {settings.listen_host}:{settings.listen_port}: "
                              f"{exc.strerror or exc}; set monitor.listen_port or pass --no-listen") from None
    return monitor


def evaluate_once(settings: MonitorSettings, database: bool = True) -> TickResult:
    """Sample once and evaluate every rule, sending nothing and taking no alert events."""
    monitor = open_monitor(settings, database, listen=False, notifiers=[])
    monitor.events = None
    try:
        return monitor.tick()
    finally:
        monitor.stop()
