"""The rulebook as data: approval rules and control settings, loaded from YAML and edited one by one through
the API and `erpops rules`. Services read them in their own writing transaction, so an edit applies to the
next document without a restart."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from erpcore.access import AccessRole, guarded
from erpcore.domain import rules
from erpcore.domain.rules import CONTROLS, DOCUMENT_TYPES, Mode
from erpcore.exceptions import NotFound, ValidationFailed
from erpcore.models import ApprovalRule, ControlSetting, RuleBlock, RulebookVersion
from erpcore.services.documents import Doc
from erpcore.services.unit_of_work import UnitOfWork

DEFAULT_RULEBOOK = Path(__file__).resolve().parent.parent / "rulebook.yaml"
ROLES = tuple(r.value for r in AccessRole)
CODE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


@dataclass(frozen=True)
class RuleSpec:
    code: str
    document_type: str
    conditions: dict[str, Any]
    steps: list[dict[str, Any]]
    priority: int = 100
    description: str = ""


@dataclass(frozen=True)
class ControlSpec:
    name: str
    mode: str
    params: dict[str, Any]


def parse_rule(raw: Mapping[str, Any]) -> RuleSpec:
    """One approval rule from data, validated (422 naming the field)."""
    extra = sorted(set(raw) - {"code", "document_type", "conditions", "steps", "priority", "description"})
    if extra:
        raise ValidationFailed(f"approval rule: unknown key(s) {', '.join(extra)}")
    code = str(raw.get("code") or "")
    if not code or len(code) > 60 or not set(code) <= CODE_CHARS:
        raise ValidationFailed(f"approval rule code {code!r}: 1-60 letters, digits, '-', '_' or '.'")
    document_type = str(raw.get("document_type") or "")
    if document_type not in DOCUMENT_TYPES:
        raise ValidationFailed(f"approval rule {code}: document_type must be one of {', '.join(DOCUMENT_TYPES)}")
    priority = raw.get("priority", 100)
    if not isinstance(priority, int) or isinstance(priority, bool) or not 0 <= priority <= 10_000:
        raise ValidationFailed(f"approval rule {code}: priority must be a whole number from 0 to 10000")
    description = str(raw.get("description") or "")[:200]
    conditions = rules.parse_conditions(raw.get("conditions"))
    steps = [s.as_data() for s in rules.parse_steps(raw.get("steps"), ROLES)]
    return RuleSpec(code, document_type, conditions, steps, priority, description)


def parse_control(name: str, raw: Mapping[str, Any]) -> ControlSpec:
    """One control setting from data: a mode (stop, warn, off) and its parameters."""
    if name not in CONTROLS:
        raise ValidationFailed(f"control {name!r}: one of {', '.join(CONTROLS)}")
    if not isinstance(raw, Mapping):
        raise ValidationFailed(f"control {name}: a mapping with `mode` and parameters")
    mode = str(raw.get("mode", "stop"))
    if mode not in {m.value for m in Mode}:
        raise ValidationFailed(f"control {name}: mode must be stop, warn or off (got {mode!r})")
    params = {k: v for k, v in raw.items() if k != "mode"}
    allowed = {"budget": {"account"}, "price_below_cost": set(), "discount_limit": {"max_percent"},
               "credit_limit": set(), "tax_data": {"tax_id_required_above", "zero_rate_needs_tax_id"}}[name]
    extra = sorted(set(params) - allowed)
    if extra:
        raise ValidationFailed(f"control {name}: unknown parameter(s) {', '.join(extra)}; "
                               f"known: {', '.join(sorted(allowed)) or 'none'}")
    for key in ("max_percent", "tax_id_required_above"):
        if key in params:
            try:
                params[key] = str(rules.parse_conditions({"amount_over": params[key]})["amount_over"])
            except ValidationFailed:  # its message would name `conditions.amount_over`, not this parameter
                raise ValidationFailed(f"control {name}: {key} must be a non-negative number "
                                       f"(got {params[key]!r})") from None
    if "account" in params:
        params["account"] = str(params["account"])
    if "zero_rate_needs_tax_id" in params:
        params["zero_rate_needs_tax_id"] = _yes_no(name, "zero_rate_needs_tax_id", params["zero_rate_needs_tax_id"])
    return ControlSpec(name, mode, params)


YES, NO = frozenset({"true", "yes", "on", "1"}), frozenset({"false", "no", "off", "0"})


def _yes_no(control: str, key: str, value: object) -> bool:
    """A flag from YAML (a bool) or from the CLI's `--param key=value` (text: `bool("false")` would be True)."""
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in YES or word in NO:
        return word in YES
    raise ValidationFailed(f"control {control}: {key} must be true or false (got {value!r})")


def parse_rulebook(data: object) -> tuple[list[ControlSpec], list[RuleSpec]]:
    """A whole rulebook (`controls:` and `approval_rules:`), every entry validated before anything is written."""
    if not isinstance(data, Mapping):
        raise ValidationFailed("a rulebook is a mapping with `controls` and `approval_rules`")
    extra = sorted(set(data) - {"controls", "approval_rules"})
    if extra:
        raise ValidationFailed(f"rulebook: unknown section(s) {', '.join(extra)}; known: controls, approval_rules")
    raw_controls = data.get("controls") or {}
    raw_rules = data.get("approval_rules") or []
    if not isinstance(raw_controls, Mapping) or not isinstance(raw_rules, list):
        raise ValidationFailed("rulebook: `controls` is a mapping and `approval_rules` a list")
    parsed_rules = [parse_rule(r if isinstance(r, Mapping) else {}) for r in raw_rules]
    codes = [r.code for r in parsed_rules]
    twice = sorted({c for c in codes if codes.count(c) > 1})
    if twice:
        raise ValidationFailed(f"rulebook: approval rule code(s) given twice: {', '.join(twice)}")
    return [parse_control(str(k), v) for k, v in raw_controls.items()], parsed_rules


def read_rulebook(path: Path) -> object:
    """The YAML of a rulebook file (422 when it does not parse)."""
    import yaml

    try:
        return yaml.safe_load(path.read_text())
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationFailed(f"cannot read {path}: {exc}") from None
    except yaml.YAMLError as exc:
        raise ValidationFailed(f"{path} is not valid YAML: {exc}") from None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _bump(conn: Connection) -> None:
    """Tell every process's cached rulebook that it changed (see `controls.rulebook`)."""
    conn.execute(update(RulebookVersion).values(version=RulebookVersion.version + 1))


def _upsert_rule(conn: Connection, spec: RuleSpec, actor: str) -> dict[str, Any]:
    _bump(conn)
    values = {"document_type": spec.document_type, "conditions": spec.conditions, "steps": spec.steps,
              "priority": spec.priority, "description": spec.description, "updated_at": _now(),
              "updated_by": actor[:80]}
    found = conn.execute(select(ApprovalRule.id).where(ApprovalRule.code == spec.code).with_for_update()).first()
    if found is None:
        conn.execute(insert(ApprovalRule).values(code=spec.code, version=1, **values))
    else:
        conn.execute(update(ApprovalRule).where(ApprovalRule.id == found.id)
                     .values(version=ApprovalRule.version + 1, **values))
    return rule_row(conn, spec.code)


def _upsert_control(conn: Connection, spec: ControlSpec, actor: str) -> None:
    _bump(conn)
    values = {"mode": spec.mode, "params": spec.params, "updated_at": _now(), "updated_by": actor[:80]}
    if conn.execute(select(ControlSetting.name).where(ControlSetting.name == spec.name)).first() is None:
        conn.execute(insert(ControlSetting).values(name=spec.name, **values))
    else:
        conn.execute(update(ControlSetting).where(ControlSetting.name == spec.name).values(**values))


def write_rulebook(conn: Connection, data: object, actor: str) -> dict[str, list[str]]:
    """Validate a whole rulebook, then write every control and approval rule it names on `conn`."""
    controls, specs = parse_rulebook(data)
    for c in controls:
        _upsert_control(conn, c, actor)
    for r in specs:
        _upsert_rule(conn, r, actor)
    return {"controls": [c.name for c in controls], "approval_rules": [r.code for r in specs]}


@guarded("rules.write")
def load_rulebook(uow: UnitOfWork, data: object) -> Doc:
    """Load a rulebook: every control and approval rule it names is written (rules by code, new version)."""
    with uow:
        doc = Doc(0, dict(write_rulebook(uow.conn, data, uow.actor.name)))
        uow.commit()
        return doc


@guarded("rules.write")
def set_rule(uow: UnitOfWork, raw: Mapping[str, Any]) -> Doc:
    """Create or replace one approval rule (by code); it applies to documents submitted from now on."""
    spec = parse_rule(raw)
    with uow:
        row = _upsert_rule(uow.conn, spec, uow.actor.name)
        uow.commit()
        return Doc(int(row["id"]), row)


@guarded("rules.write")
def delete_rule(uow: UnitOfWork, code: str) -> Doc:
    """Delete an approval rule; documents already pending keep the steps they were submitted with."""
    with uow:
        row = rule_row(uow.conn, code)
        uow.conn.execute(delete(ApprovalRule).where(ApprovalRule.code == code))
        _bump(uow.conn)
        uow.commit()
        return Doc(int(row["id"]), row)


@guarded("rules.write")
def set_control(uow: UnitOfWork, name: str, raw: Mapping[str, Any]) -> Doc:
    """Set one control's mode and parameters (`budget`, `price_below_cost`, ...)."""
    spec = parse_control(name, raw)
    with uow:
        _upsert_control(uow.conn, spec, uow.actor.name)
        row = next(c for c in list_controls(uow.conn) if c["name"] == name)
        uow.commit()
        return Doc(0, row)


def rule_row(conn: Connection, code: str) -> dict[str, Any]:
    row = conn.execute(select(ApprovalRule).where(ApprovalRule.code == code)).mappings().first()
    if row is None:
        raise NotFound(f"approval rule {code!r} does not exist")
    return dict(row)


def list_rules(conn: Connection, document_type: str | None = None) -> list[dict[str, Any]]:
    stmt = select(ApprovalRule).order_by(ApprovalRule.document_type, ApprovalRule.priority, ApprovalRule.code)
    if document_type is not None:
        stmt = stmt.where(ApprovalRule.document_type == document_type)
    return [dict(r) for r in conn.execute(stmt).mappings()]


def list_controls(conn: Connection) -> list[dict[str, Any]]:
    """Every control with its mode and parameters; `configured` is false for one running on its default."""
    stored = {r.name: r for r in conn.execute(select(ControlSetting))}
    out = []
    for name, default in rules.DEFAULT_CONTROLS.items():
        row = stored.get(name)
        out.append({"name": name, "mode": row.mode if row else default.mode.value,
                    "params": dict(row.params or {}) if row else dict(default.params), "configured": row is not None,
                    "updated_by": row.updated_by if row else None})
    return out


def list_blocks(conn: Connection, rule: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """The newest rule blocks and warnings first."""
    stmt = select(RuleBlock).order_by(RuleBlock.id.desc()).limit(limit)
    if rule is not None:
        stmt = stmt.where(RuleBlock.rule == rule)
    return [dict(r) for r in conn.execute(stmt).mappings()]


def role_grants() -> dict[str, set[str]]:
    """The permissions each named role holds in the access table (admin, who holds every one by design, and the
    read-only viewer are left out)."""
    from erpcore.access import PERMISSIONS, AccessRole, allowed

    return {role.value: {p for p in PERMISSIONS if allowed(role, p)}
            for role in AccessRole if role not in (AccessRole.ADMIN, AccessRole.VIEWER)}


def role_conflicts() -> list[dict[str, str]]:
    """Every role holding both permissions of a pair that segregation of duties keeps apart."""
    return rules.conflicting_permissions(role_grants())
