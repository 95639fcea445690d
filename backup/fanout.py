"""Read once, write everywhere: one reader feeds the same chunks to every site's writer thread.

Each site gets a bounded queue, so memory stays bounded and the reader goes at the pace of the
slowest healthy site. A site whose writer fails is cut loose (its queue drained and dropped): the
other sites finish, and the result says which site failed and why.
"""

from __future__ import annotations

import hashlib
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass

from backup.sites.base import ObjectInfo, Site

QUEUE_DEPTH = 16
ProgressFn = Callable[[str, int], None]  # (site name, bytes just written)
# Opens one phase of progress display with its expected bytes (in total, or per site); the CLI draws it.
Bars = Callable[[int | dict[str, int] | None], AbstractContextManager[ProgressFn | None]]


@contextmanager
def phase(bars: Bars | None, total: int | dict[str, int] | None = None) -> Iterator[ProgressFn | None]:
    """A progress phase from `bars`, or none (quiet)."""
    if bars is None:
        yield None
        return
    with bars(total) as progress:
        yield progress


@dataclass(frozen=True)
class SiteWrite:
    """The outcome of one object on one site."""

    site: str
    ok: bool
    size: int
    seconds: float
    error: str | None = None


@dataclass(frozen=True)
class FanOutResult:
    key: str
    size: int
    sha256: str
    writes: tuple[SiteWrite, ...]

    @property
    def ok_sites(self) -> list[str]:
        return [w.site for w in self.writes if w.ok]

    @property
    def failed(self) -> dict[str, str]:
        return {w.site: w.error or "failed" for w in self.writes if not w.ok}


class _SiteWorker(threading.Thread):
    def __init__(self, site: Site, key: str, progress: ProgressFn | None) -> None:
        super().__init__(name=f"fanout-{site.name}", daemon=True)
        self.site, self.key, self.progress = site, key, progress
        self.inbox: queue.Queue[bytes | None] = queue.Queue(QUEUE_DEPTH)
        self.cancelled = False
        self.error: str | None = None
        self.info: ObjectInfo | None = None
        self.started_at = time.monotonic()
        self.seconds = 0.0

    @property
    def failed(self) -> bool:
        return self.error is not None

    def run(self) -> None:
        writer = None
        ended = False
        try:
            writer = self.site.writer(self.key)
            while (chunk := self.inbox.get()) is not None:
                writer.write(chunk)
                if self.progress:
                    self.progress(self.site.name, len(chunk))
            ended = True
            if self.cancelled:
                writer.abort()
                self.error = "cancelled: the source failed"
                return
            self.info = writer.commit()
        except Exception as exc:
            self.error = str(exc) or type(exc).__name__
            if writer is not None:
                with suppress(Exception):
                    writer.abort()
            while not ended and self.inbox.get() is not None:
                pass
        finally:
            self.seconds = time.monotonic() - self.started_at


def fan_out(
    chunks: Iterable[bytes], key: str, sites: Sequence[Site], progress: ProgressFn | None = None
) -> FanOutResult:
    """Write one stream to `key` on every site concurrently; hash it once on the way."""
    workers = [_SiteWorker(site, key, progress) for site in sites]
    for worker in workers:
        worker.start()
    digest = hashlib.sha256()
    size = 0
    try:
        for chunk in chunks:
            if not chunk:
                continue
            digest.update(chunk)
            size += len(chunk)
            for worker in workers:
                worker.inbox.put(chunk)
    except BaseException:
        for worker in workers:
            worker.cancelled = True
        raise
    finally:
        for worker in workers:
            worker.inbox.put(None)
        for worker in workers:
            worker.join()
    sha = digest.hexdigest()
    writes = tuple(_outcome(w, size, sha) for w in workers)
    return FanOutResult(key, size, sha, writes)


def _outcome(worker: _SiteWorker, size: int, sha: str) -> SiteWrite:
    name = worker.site.name
    if worker.error is not None:
        return SiteWrite(name, False, 0, worker.seconds, worker.error)
    info = worker.info
    if info is None or info.size != size or info.sha256 != sha:
        got = f"{info.size} bytes sha256 {info.sha256[:12]}" if info else "nothing"
        return SiteWrite(name, False, 0, worker.seconds, f"stored {got}, read {size} bytes sha256 {sha[:12]}")
    return SiteWrite(name, True, size, worker.seconds)
