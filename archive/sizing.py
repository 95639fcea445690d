"""Time-bounded batches: the number of documents per batch follows how long the last batch took.

A batch holds its documents' row locks from its first read to its commit, so a business transaction that
touches a document being archived waits at most about one batch. Sizing each batch so that it lasts about
`target_s` bounds that wait whatever a family's documents weigh and however busy the server is, and lets
batches grow as large as that bound allows (fewer commits, fewer statements per row).
"""

from __future__ import annotations

from dataclasses import dataclass

FIRST = 50  # documents in a family's first batch, before anything is known about how long one takes
# At most these factors from one batch to the next: up fast (a family starts at FIRST, and small batches look
# slow per document, their fixed cost spread over few rows, so growing never overshoots much), down by half.
GROWTH = 4.0
SHRINK = 2.0


@dataclass
class BatchSizer:
    """Documents per batch: at most `most`, adjusted after each batch towards `target_s` seconds per batch
    (a fixed `most` when `target_s` is 0)."""

    most: int
    target_s: float
    size: int = 0

    def __post_init__(self) -> None:
        if self.size <= 0:
            self.size = min(self.most, FIRST) if self.target_s > 0 else self.most

    def after(self, took_s: float) -> int:
        """The next batch's size, given that a batch of the current size took `took_s` seconds."""
        if self.target_s > 0 and took_s > 0:
            want = self.size * self.target_s / took_s
            bounded = min(max(want, self.size / SHRINK), self.size * GROWTH)
            self.size = max(1, min(self.most, int(bounded)))
        return self.size

    @property
    def reason(self) -> str:
        if self.target_s <= 0:
            return f"fixed batches of {self.most} documents"
        return f"batches sized to last about {self.target_s:g} s (now {self.size}, at most {self.most} documents)"
