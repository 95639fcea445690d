"""What a service returns: the document it wrote, as the database returned it in the same transaction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Doc:
    """A document's id and its columns (and `lines`, in id order, for documents with lines), as committed."""

    id: int
    row: dict[str, Any]

    @property
    def status(self) -> str:
        return str(self.row["status"])

    @property
    def lines(self) -> list[dict[str, Any]]:
        return list(self.row.get("lines", ()))


def written(head: Mapping[Any, Any], lines: Sequence[Mapping[Any, Any]] | None = None) -> Doc:
    """The Doc of a header and lines that INSERT/UPDATE ... RETURNING gave back (lines sorted by id)."""
    row = dict(head)
    if lines is not None:
        row["lines"] = sorted((dict(line) for line in lines), key=lambda line: int(line["id"]))
    return Doc(int(row["id"]), row)
