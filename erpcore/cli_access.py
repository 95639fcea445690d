"""`erpops roles list|show|create|grant|revoke` and `erpops audit verify|show`.

Writes (and reading the trail, `audit.trail.read`) run as the named CLI actor (`cli:$ERPOPS_USER`, role `$ERPOPS_ROLE`, default admin) through the same
guarded services as the API, so they are refused and audited the same way.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from opskit import output
from opskit.exitcodes import ExitCode

roles_app = typer.Typer(help="Roles and what each may do: the built-in jobs and custom roles kept in the "
                             "database.\n\nExample: erpops roles show ap_clerk", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit trail: verify it, show a document's history.\n\n"
                             "Example: erpops audit verify", no_args_is_help=True)
ROLE = typer.Argument(help="The role's name.", metavar="ROLE")
PERMS = typer.Argument(help="Dotted permissions, e.g. sales.order.read.", metavar="PERMISSION...")


def _role_view(row: dict[str, Any]) -> Any:
    kind = "built-in" if row["builtin"] else "custom"
    return output.table(f"role {row['name']} ({kind}, {len(row['permissions'])} permissions)", ["permission"],
                        [(p,) for p in row["permissions"]])


@roles_app.command("list")
def roles_list(as_json: bool = output.JsonFlag) -> None:
    """List every role, built-in and custom, with how many permissions it holds.

    Example: erpops roles list --json
    """
    from erpcore.migrate import open_database
    from erpcore.services import roles

    with open_database().connect() as conn:
        rows = roles.list_roles(conn)
    output.render(rows, as_json, lambda rs: output.table("Roles", ["role", "kind", "permissions", "description"], [
        (r["name"], "built-in" if r["builtin"] else "custom", r["permissions"], r["description"]) for r in rs]))


@roles_app.command("show")
def roles_show(role: Annotated[str, ROLE], as_json: bool = output.JsonFlag) -> None:
    """Show every permission a role holds.

    Example: erpops roles show controller --json
    """
    from erpcore.migrate import open_database
    from erpcore.services import roles

    with open_database().connect() as conn:
        row = roles.show_role(conn, role)
    output.render(row, as_json, _role_view)


@roles_app.command("create")
def roles_create(
    role: Annotated[str, ROLE],
    permissions: Annotated[list[str], PERMS],
    description: Annotated[str, typer.Option(help="What the job is.")] = "",
    as_json: bool = output.JsonFlag,
) -> None:
    """Create a custom role holding the given permissions.

    Example: erpops roles create credit_control sales.order.read sales.invoice.read --description "credit desk"
    """
    from erpcore.access import cli_actor
    from erpcore.migrate import open_database
    from erpcore.services import roles
    from erpcore.services.bootstrap import bootstrap

    doc = roles.create_role(bootstrap(open_database()).uow(cli_actor()), role, permissions, description)
    output.render(doc.row | {"builtin": False}, as_json, _role_view)


@roles_app.command("grant")
def roles_grant(role: Annotated[str, ROLE], permissions: Annotated[list[str], PERMS],
                as_json: bool = output.JsonFlag) -> None:
    """Add permissions to a custom role (its tokens hold them within seconds).

    Example: erpops roles grant credit_control sales.receipt.post
    """
    from erpcore.access import cli_actor
    from erpcore.migrate import open_database
    from erpcore.services import roles
    from erpcore.services.bootstrap import bootstrap

    doc = roles.grant(bootstrap(open_database()).uow(cli_actor()), role, permissions)
    output.render(doc.row | {"builtin": False}, as_json, _role_view)


@roles_app.command("revoke")
def roles_revoke(role: Annotated[str, ROLE], permissions: Annotated[list[str], PERMS],
                 as_json: bool = output.JsonFlag) -> None:
    """Take permissions from a custom role (its tokens lose them within seconds).

    Example: erpops roles revoke credit_control sales.receipt.post
    """
    from erpcore.access import cli_actor
    from erpcore.migrate import open_database
    from erpcore.services import roles
    from erpcore.services.bootstrap import bootstrap

    doc = roles.revoke(bootstrap(open_database()).uow(cli_actor()), role, permissions)
    output.render(doc.row | {"builtin": False}, as_json, _role_view)


@audit_app.command("verify")
def audit_verify(as_json: bool = output.JsonFlag) -> None:
    """Check every hash chain of the audit trail from its archive anchor; exit 1 naming each chain's first broken link.

    Example: erpops audit verify --json
    """
    from erpcore.access import cli_actor, require
    from erpcore.audit import verify_trail
    from erpcore.migrate import open_database

    require(cli_actor(), "audit.trail.read")
    verdict = verify_trail(open_database())
    if as_json:
        output.print_json({"ok": verdict.ok, "checked": verdict.checked, "reason": verdict.reason,
                           "breaks": verdict.breaks,
                           "heads": {str(c): {"seq": s, "hash": h} for c, (s, h) in verdict.heads.items()},
                           "anchors": {str(c): {"seq": s, "hash": h} for c, (s, h) in verdict.anchors.items()}})
    else:
        anchored = [(c, s, h) for c, (s, h) in sorted(verdict.anchors.items())]
        if anchored:
            output.stdout().print(output.table("chains verified from their archive anchor (older entries archived)",
                                               ["chain", "anchor entry", "anchor hash"], anchored))
        rows = [(b.chain, b.seq, b.id, b.reason) for b in verdict.breaks]
        if rows:
            output.stdout().print(output.table("broken audit chains", ["chain", "entry", "id", "why"], rows))
        output.stderr().print(verdict.reason)
    if not verdict.ok:
        raise typer.Exit(ExitCode.FAILED)


@audit_app.command("show")
def audit_show(
    entity: Annotated[str, typer.Option(help="A document number (SO-2026-000123), code, or kind:id "
                                             "(sales_order:42).")],
    limit: Annotated[int, typer.Option(min=1, max=100_000, help="At most this many entries.")] = 1000,
    as_json: bool = output.JsonFlag,
) -> None:
    """Show a document's history: who did what, when, as which role, with the values before and after.

    Example: erpops audit show --entity SO-2026-000123
    """
    from erpcore.access import cli_actor, require
    from erpcore.audit import history
    from erpcore.migrate import open_database

    require(cli_actor(), "audit.trail.read")
    rows = history(open_database(), entity, limit)
    columns = ["created_at", "actor", "role", "action", "outcome", "before", "after"]
    output.render(rows, as_json, lambda rs: output.table(f"audit trail of {entity}", columns,
                                                         [[r[c] for c in columns] for r in rs]))


def register(app: typer.Typer) -> None:
    """Mount `roles` and `audit` on the root app."""
    app.add_typer(roles_app, name="roles")
    app.add_typer(audit_app, name="audit")
