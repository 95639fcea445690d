"""Sample sources for the monitor: host, database, business counters, and scraped /metrics endpoints."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine

from monitor.tsdb import Sample


def parse_exposition(text: str) -> list[Sample]:
    """Samples of a Prometheus text exposition (`_created` series dropped)."""
    out: list[Sample] = []
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name.endswith("_created"):
                continue
            out.append(Sample({"__name__": s.name, **s.labels}, float(s.value)))
    return out


def scrape_source(url: str, timeout: float = 2.0, token: str | None = None) -> Callable[[], list[Sample]]:
    """A source that scrapes `url` (a /metrics endpoint) each tick, plus its `up` like Prometheus;
    `token` goes along as `Authorization: Bearer`, as Prometheus' `authorization` scrape option sends it."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    client = httpx.Client(timeout=timeout, headers=headers)

    def scrape() -> list[Sample]:
        try:
            response = client.get(url)
            response.raise_for_status()
        except httpx.HTTPError:
            return [Sample({"__name__": "up", "instance": url}, 0.0)]
        return [*parse_exposition(response.text), Sample({"__name__": "up", "instance": url}, 1.0)]

    return scrape


def textfile_source(directories: list[Path]) -> Callable[[], list[Sample]]:
    """A source reading every `*.prom` file in `directories` (node_exporter's textfile collector)."""

    def read() -> list[Sample]:
        out: list[Sample] = []
        for directory in directories:
            for path in sorted(directory.glob("*.prom")):
                out.extend(parse_exposition(path.read_text()))
        return out

    return read


def db_source(engine: Engine) -> Callable[[], list[Sample]]:
    from monitor.probes import probe_database

    return lambda: probe_database(engine).samples


def business_source(engine: Engine) -> Callable[[], list[Sample]]:
    from monitor.business import business_samples

    def sample() -> list[Sample]:
        try:
            return business_samples(engine)
        except Exception:
            return []

    return sample
