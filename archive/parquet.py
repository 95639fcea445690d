"""Parquet copies of each batch on a local path or an S3-compatible store, read back and re-hashed.

Layout under the store: `batch-<id>/<table>.parquet` (typed columns: decimals at their scale, dates, UTC
timestamps) and `batch-<id>/manifest.json` (family, per table: key, rows, hash, sha256). A batch is
verified by reading every file back through the store's checksum and re-hashing its rows; any difference
fails the batch before a source row is deleted.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, DateTime, Integer, Numeric, Table

from archive.errors import VerificationFailed
from archive.rowhash import Digest, digest
from archive.settings import ParquetSettings
from opskit.objstore import ObjectStore, ObjectStoreError, open_store


def _arrow_type(column: Any) -> Any:
    import pyarrow as pa  # type: ignore[import-untyped]

    kind = column.type
    if isinstance(kind, Numeric):
        return pa.decimal128(kind.precision or 38, kind.scale or 0)
    if isinstance(kind, BigInteger | Integer):
        return pa.int64()
    if isinstance(kind, Boolean):
        return pa.bool_()
    if isinstance(kind, DateTime):
        return pa.timestamp("us", tz="UTC") if kind.timezone else pa.timestamp("us")
    if isinstance(kind, Date):
        return pa.date32()
    return pa.string()


def _cell(column: Any, value: Any) -> Any:
    from decimal import Decimal

    if value is None:
        return None
    if isinstance(column.type, JSON):
        return json.dumps(value, sort_keys=True)
    if isinstance(column.type, Numeric):
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        return number.quantize(Decimal(1).scaleb(-(column.type.scale or 0)))
    return value


def to_parquet(table: Table, rows: list[dict[str, Any]], compression: str) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq  # type: ignore[import-untyped]

    schema = pa.schema([pa.field(c.name, _arrow_type(c)) for c in table.columns])
    columns = {c.name: [_cell(c, r[c.name]) for r in rows] for c in table.columns}
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pydict(columns, schema=schema), buffer,
                   compression=None if compression == "none" else compression)
    return buffer.getvalue()


def from_parquet(table: Table, data: bytes) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq

    rows: list[dict[str, Any]] = pq.read_table(io.BytesIO(data)).to_pylist()
    for column in table.columns:
        if isinstance(column.type, JSON):
            for r in rows:
                r[column.name] = None if r[column.name] is None else json.loads(r[column.name])
    return rows


class ParquetStore:
    """Writes, verifies and drops the Parquet copy of a batch in one object store."""

    def __init__(self, store: ObjectStore, compression: str = "zstd") -> None:
        self.store, self.compression = store, compression

    @classmethod
    def from_settings(cls, settings: ParquetSettings) -> ParquetStore:
        secret = settings.secret_access_key.get_secret_value() if settings.secret_access_key else None
        s3: dict[str, Any] = {} if settings.kind == "local" else {
            "bucket": settings.bucket, "prefix": settings.prefix, "endpoint_url": settings.endpoint_url,
            "region": settings.region, "access_key_id": settings.access_key_id, "secret_access_key": secret,
            "verify_tls": settings.verify_tls}
        return cls(open_store(settings.kind, settings.path, **s3), settings.compression)

    @staticmethod
    def folder(batch_id: int) -> str:
        return f"batch-{batch_id:010d}"

    def write_batch(self, batch_id: int, family: str, tables: Mapping[str, Table],
                    rows: Mapping[str, list[dict[str, Any]]], digests: Mapping[str, Digest]) -> str:
        """Write every table of the batch and its manifest, read them back, compare; returns the manifest key."""
        entries: dict[str, dict[str, Any]] = {}
        for name, table_rows in rows.items():
            if not table_rows:
                continue
            key = f"{self.folder(batch_id)}/{name}.parquet"
            info = self.store.put(key, to_parquet(tables[name], table_rows, self.compression))
            entries[name] = {"key": key, "rows": digests[name].rows, "hash": digests[name].hex,
                             "sha256": info.sha256, "bytes": info.size}
        manifest_key = f"{self.folder(batch_id)}/manifest.json"
        self.store.put(manifest_key, json.dumps({"batch": batch_id, "family": family, "tables": entries},
                                                indent=2, sort_keys=True).encode())
        problems = self.verify_batch(batch_id, family, tables, {t: e["hash"] for t, e in entries.items()})
        if problems:
            raise VerificationFailed(f"batch {batch_id}: the Parquet copy does not read back: {'; '.join(problems)}; "
                                     "nothing was deleted")
        return f"{self.store.url}/{manifest_key}"

    def verify_batch(self, batch_id: int, family: str, tables: Mapping[str, Table],
                     hashes: Mapping[str, str]) -> list[str]:
        """Problems found re-reading the batch's files (none when every table re-hashes as recorded)."""
        try:
            manifest = json.loads(self.store.get(f"{self.folder(batch_id)}/manifest.json"))
        except (ObjectStoreError, ValueError) as exc:
            return [f"manifest: {exc}"]
        problems = []
        for name, want in hashes.items():
            entry = manifest["tables"].get(name)
            if entry is None:
                problems.append(f"{name}: not in the Parquet manifest")
                continue
            try:
                got = digest(tables[name], from_parquet(tables[name], self.store.get(entry["key"])))
            except (ObjectStoreError, OSError, ValueError) as exc:
                problems.append(f"{name}: {exc}")
                continue
            if got.hex != want or got.rows != entry["rows"]:
                problems.append(f"{name}: Parquet holds {got.rows} rows hash {got.hex[:12]}, expected "
                                f"{entry['rows']} rows hash {want[:12]}")
        return problems

    def drop_batch(self, batch_id: int) -> None:
        for key in self.store.list(self.folder(batch_id) + "/"):
            self.store.delete(key)
