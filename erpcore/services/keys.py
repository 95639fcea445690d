"""Key rotation of sealed fields (`erpcore.crypto`): counts per key id, and re-sealing with the active key.

Rotation walks each sealed column by id in batches, one short transaction each, re-sealing only values not
yet under the active key; each row is written compare-and-set (`WHERE id = ? AND value = ?`), so writers
carry on meanwhile (they seal with the active key already) and a stopped rotation resumes where it left off:
a value already rotated is never selected again.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import Engine, bindparam, text

from erpcore.crypto import Keyring, key_id
from erpcore.exceptions import ConfigError

PLAIN = "plain"  # values stored without a key (no key was configured when they were written)


@dataclass(frozen=True)
class SealedField:
    table: str
    column: str

    @property
    def name(self) -> str:
        return f"{self.table}.{self.column}"


SEALED_FIELDS: tuple[SealedField, ...] = (
    SealedField("employee", "salary"),
    SealedField("employee", "bank_account"),
    SealedField("employee", "tax_id"),
    SealedField("payroll_line", "payslip"),
    SealedField("customer", "tax_id"),
    SealedField("supplier", "tax_id"),
    SealedField("supplier", "bank_account"),
    SealedField("outbox_subscription", "secret"),  # a webhook's HMAC signing secret
)


@dataclass(frozen=True)
class FieldStatus:
    field: str
    counts: dict[str, int]  # key id (or "plain") -> values


@dataclass(frozen=True)
class KeyStatus:
    active: str | None
    configured: list[str]
    fields: list[FieldStatus]
    missing: list[str]  # key ids values are sealed with that are not configured

    @property
    def totals(self) -> dict[str, int]:
        total: Counter[str] = Counter()
        for f in self.fields:
            total.update(f.counts)
        return dict(sorted(total.items()))


def status(engine: Engine, keys: Keyring) -> KeyStatus:
    """How many stored values each key id (or none) seals, per field."""
    fields = []
    with engine.connect() as conn:
        for f in SEALED_FIELDS:
            counts: Counter[str] = Counter()
            rows = conn.execution_options(stream_results=True, yield_per=2000).execute(
                text(f"SELECT {f.column} FROM {f.table} WHERE {f.column} IS NOT NULL"))
            for (value,) in rows:
                counts[key_id(value) or PLAIN] += 1
            fields.append(FieldStatus(f.name, dict(sorted(counts.items()))))
    used = {kid for f in fields for kid in f.counts if kid != PLAIN}
    return KeyStatus(keys.active, list(keys.keys), fields, sorted(used - set(keys.keys)))


@dataclass
class Rotation:
    """What a rotation did, and why it stopped."""

    active: str
    batches: int = 0
    rewritten: dict[str, int] = field(default_factory=dict)
    skipped: int = 0  # rows changed by a writer between read and write (already current)
    finished: bool = False
    reason: str = ""


def rotate(engine: Engine, keys: Keyring, batch_size: int = 500, max_batches: int | None = None) -> Rotation:
    """Re-seal every value not under the active key, `batch_size` rows per transaction; stop after
    `max_batches` (None: until done). Running it again resumes: rotated values are not selected again."""
    if keys.active is None:
        raise ConfigError("no encryption key is configured: set ERPOPS_ENCRYPTION_KEY (KID:BASE64KEY, "
                          "`erpops keys generate KID` prints one) before rotating")
    if batch_size < 1:
        raise ConfigError("batch size must be at least 1")
    result = Rotation(keys.active)
    prefix = f"v1:{keys.active}:"
    for f in SEALED_FIELDS:
        if not _rotate_field(engine, keys, f, prefix, batch_size, max_batches, result):
            result.reason = (f"stopped after {result.batches} batch(es) as asked; run `erpops keys rotate` again "
                             "to resume")
            return result
    result.finished = True
    done = sum(result.rewritten.values())
    result.reason = f"every sealed value is under key {keys.active!r} ({done} re-sealed in {result.batches} batches)"
    return result


def _rotate_field(engine: Engine, keys: Keyring, f: SealedField, prefix: str, batch_size: int,
                  max_batches: int | None, result: Rotation) -> bool:
    """Rotate one column; False when `max_batches` ran out first."""
    pending = text(f"SELECT id, {f.column} AS value FROM {f.table} WHERE id > :after AND {f.column} IS NOT NULL "
                   f"AND substr({f.column}, 1, :n) <> :prefix ORDER BY id LIMIT :limit")
    write = text(f"UPDATE {f.table} SET {f.column} = :new WHERE id = :id AND {f.column} = :old").bindparams(
        bindparam("new"), bindparam("id"), bindparam("old"))
    after = 0
    while True:
        if max_batches is not None and result.batches >= max_batches:
            return False
        with engine.begin() as conn:
            rows = conn.execute(pending, {"after": after, "n": len(prefix), "prefix": prefix,
                                          "limit": batch_size}).all()
            if not rows:
                return True
            resealed = [{"new": keys.seal(keys.open(r.value, f.name), f.name), "id": r.id, "old": r.value}
                        for r in rows]
            changed = conn.execute(write, resealed).rowcount  # one executemany: the sum over the batch
            result.rewritten[f.name] = result.rewritten.get(f.name, 0) + changed
            result.skipped += len(rows) - changed
            after = rows[-1].id
        result.batches += 1

