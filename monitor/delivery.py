"""The delivery worker: a background thread that sends, retries with back-off, and never blocks callers.

`submit` only queues. A newer body for the same key replaces a queued one, so a receiver that was
down gets the group's current state once it is back, not a backlog of stale ones.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from monitor.notifiers import DeliveryFailed, Notifier


@dataclass
class _Job:
    key: str
    body: Any
    queued_at: float
    next_try: float
    attempts: int = 0


@dataclass(frozen=True)
class DeliveryRecord:
    key: str
    ok: bool
    attempts: int
    reason: str
    at: float


class DeliveryWorker:
    """Sends queued bodies to one notifier from its own thread, retrying with exponential back-off."""

    def __init__(self, notifier: Notifier, min_backoff: float = 0.5, max_backoff: float = 30.0,
                 max_age: float = 3600.0) -> None:
        self.notifier = notifier
        self.min_backoff = min_backoff
        self.max_backoff = max_backoff
        self.max_age = max_age
        self.records: deque[DeliveryRecord] = deque(maxlen=1000)
        self.sent = 0
        self.failed_attempts = 0
        self._jobs: dict[str, _Job] = {}
        self._cond = threading.Condition()
        self._busy = False
        self._stop = False
        self._thread = threading.Thread(target=self._run, name=f"delivery-{notifier.name}", daemon=True)

    def start(self) -> DeliveryWorker:
        self._thread.start()
        return self

    def submit(self, key: str, body: Any) -> None:
        """Queue `body` under `key` (replacing a queued body with the same key) and return at once."""
        now = time.monotonic()
        with self._cond:
            self._jobs[key] = _Job(key, body, now, now)
            self._cond.notify()

    def pending(self) -> int:
        with self._cond:
            return len(self._jobs) + (1 if self._busy else 0)

    def drain(self, timeout: float) -> bool:
        """Wait until nothing is queued or in flight; False when `timeout` passed first."""
        deadline = time.monotonic() + timeout
        while self.pending():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def stop(self, timeout: float = 5.0) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify()
        if self._thread.is_alive():
            self._thread.join(timeout)
        self.notifier.close()

    def _run(self) -> None:
        while True:
            with self._cond:
                job = self._next_job()
                if job is None:
                    return
                self._busy = True
            try:
                self._attempt(job)
            finally:
                with self._cond:
                    self._busy = False

    def _next_job(self) -> _Job | None:
        while not self._stop:
            now = time.monotonic()
            due = min(self._jobs.values(), key=lambda j: j.next_try, default=None)
            if due is not None and due.next_try <= now:
                return self._jobs.pop(due.key)
            self._cond.wait(None if due is None else due.next_try - now)
        return None

    def _attempt(self, job: _Job) -> None:
        job.attempts += 1
        try:
            self.notifier.send(job.body)
        except DeliveryFailed as exc:
            self.failed_attempts += 1
            self._retry(job, str(exc))
            return
        self.sent += 1
        self.records.append(DeliveryRecord(job.key, True, job.attempts, "delivered", time.time()))

    def _retry(self, job: _Job, why: str) -> None:
        now = time.monotonic()
        if now - job.queued_at > self.max_age:
            reason = f"gave up after {job.attempts} attempts over {self.max_age:g}s: {why}"
            self.records.append(DeliveryRecord(job.key, False, job.attempts, reason, time.time()))
            return
        delay = min(self.max_backoff, self.min_backoff * 2 ** (job.attempts - 1))
        job.next_try = now + delay
        with self._cond:
            if job.key not in self._jobs:  # a newer body for this key wins over the retry
                self._jobs[job.key] = job
                self._cond.notify()
        self.records.append(DeliveryRecord(job.key, False, job.attempts, f"retry in {delay:g}s: {why}", time.time()))
