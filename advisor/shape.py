"""What one statement asks of each table, read from PostgreSQL's own parse tree (pglast).

For every table a statement reads: the columns it compares for equality (`=`, `IN`, `= ANY`, `IS NULL`), the
columns it bounds (`<`, `>=`, `BETWEEN`), its join keys, the ORDER BY columns with their direction, every column
it references (for covering indexes) and which query parameter (`$n`) stands for which column (to sample
representative values). pglast is imported here only, so `erpops --help` never loads it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from advisor.errors import AdvisorUsageError

EQ_OPS = {"="}
RANGE_OPS = {"<", ">", "<=", ">="}
LIMIT = "LIMIT"
OFFSET = "OFFSET"


@dataclass
class TableUse:
    """What one statement asks of one table (a self-join merges its uses)."""

    table: str
    eq: list[str] = field(default_factory=list)
    ranges: list[str] = field(default_factory=list)
    joins: list[str] = field(default_factory=list)
    order: list[tuple[str, bool]] = field(default_factory=list)  # (column, descending)
    columns: set[str] = field(default_factory=set)
    star: bool = False

    def indexable(self) -> set[str]:
        """Columns an index may lead with to help this statement."""
        return set(self.eq) | set(self.ranges) | set(self.joins) | {c for c, _ in self.order[:1]}


@dataclass
class Shape:
    """One statement's demands on its tables and the meaning of its parameters."""

    kind: str  # select | insert | update | delete | other
    tables: dict[str, TableUse] = field(default_factory=dict)
    writes: set[str] = field(default_factory=set)
    params: dict[int, tuple[str, str]] = field(default_factory=dict)  # $n -> (table, column) or ("", LIMIT)
    range_params: set[int] = field(default_factory=set)
    array_params: set[int] = field(default_factory=set)  # `col = ANY($n)`: $n is an array of column values
    param_count: int = 0

    def use(self, table: str) -> TableUse:
        return self.tables.setdefault(table, TableUse(table))


ColumnsOf = Callable[[str], set[str] | None]


def parse_one(sql: str) -> Any:
    """The parse tree of a single statement; a syntax error is an `AdvisorUsageError` naming it."""
    from pglast import parse_sql
    from pglast.parser import ParseError

    try:
        stmts = parse_sql(sql)
    except ParseError as exc:
        raise AdvisorUsageError(f"cannot parse: {exc}") from exc
    if len(stmts) != 1:
        raise AdvisorUsageError(f"expected one statement, got {len(stmts)}")
    return stmts[0].stmt


def shape_of(sql: str, columns_of: ColumnsOf | None = None, canonical: Callable[[str], str] | None = None) -> Shape:
    """The shape of one statement; `columns_of(table)` resolves unqualified columns in joins, `canonical(name)`
    names a table as the catalog does."""
    return _Walker(columns_of or (lambda _t: None), canonical or (lambda t: t)).statement(parse_one(sql))


class _Scope:
    def __init__(self, outer: _Scope | None) -> None:
        self.outer = outer
        self.aliases: dict[str, str | None] = {}  # alias -> table (None: subquery, CTE or function)


class _Walker:
    def __init__(self, columns_of: ColumnsOf, canonical: Callable[[str], str]) -> None:
        self.columns_of = columns_of
        self.canonical = canonical
        self.ctes: set[str] = set()
        self.shape = Shape("other")

    def statement(self, node: Any) -> Shape:
        from pglast import ast

        kinds = {ast.SelectStmt: "select", ast.InsertStmt: "insert", ast.UpdateStmt: "update",
                 ast.DeleteStmt: "delete"}
        self.shape.kind = kinds.get(type(node), "other")
        self.shape.param_count = max((p.number for p in _nodes(node, ast.ParamRef)), default=0)
        if isinstance(node, ast.SelectStmt):
            self.select(node, None)
        elif isinstance(node, ast.InsertStmt):
            self.shape.writes.add(self.canonical(_relname(node.relation)))
            if node.selectStmt is not None and isinstance(node.selectStmt, ast.SelectStmt):
                self.select(node.selectStmt, None)
        elif isinstance(node, ast.UpdateStmt | ast.DeleteStmt):
            self.modify(node)
        return self.shape

    def modify(self, node: Any) -> None:
        from pglast import ast

        scope = _Scope(None)
        self.with_clause(node.withClause, scope)
        self.shape.writes.add(self.canonical(_relname(node.relation)))
        self.range_var(node.relation, scope)
        extra = node.fromClause if isinstance(node, ast.UpdateStmt) else node.usingClause
        for item in extra or ():
            self.from_item(item, scope)
        self.where(node.whereClause, scope)
        self.references(node, scope)

    def with_clause(self, clause: Any, scope: _Scope) -> None:
        for cte in (clause.ctes if clause is not None else ()) or ():
            self.ctes.add(cte.ctename)
            self.subquery(cte.ctequery, scope)

    def subquery(self, node: Any, outer: _Scope | None) -> None:
        from pglast import ast

        if isinstance(node, ast.SelectStmt):
            self.select(node, outer)
        elif isinstance(node, ast.UpdateStmt | ast.DeleteStmt):
            self.modify(node)
        elif isinstance(node, ast.InsertStmt):
            self.shape.writes.add(self.canonical(_relname(node.relation)))

    def select(self, node: Any, outer: _Scope | None) -> None:
        from pglast import enums

        if node.op != enums.SetOperation.SETOP_NONE:
            self.select(node.larg, outer)
            self.select(node.rarg, outer)
            return
        scope = _Scope(outer)
        self.with_clause(node.withClause, scope)
        for item in node.fromClause or ():
            self.from_item(item, scope)
        self.where(node.whereClause, scope)
        self.order_by(node.sortClause, scope)
        for clause, name in ((node.limitCount, LIMIT), (node.limitOffset, OFFSET)):
            number = _param_number(clause)
            if number is not None:
                self.shape.params[number] = ("", name)
        self.references(node, scope)

    def from_item(self, item: Any, scope: _Scope) -> None:
        from pglast import ast

        if isinstance(item, ast.RangeVar):
            self.range_var(item, scope)
        elif isinstance(item, ast.JoinExpr):
            self.from_item(item.larg, scope)
            self.from_item(item.rarg, scope)
            self.where(item.quals, scope)
        elif isinstance(item, ast.RangeSubselect):
            self.subquery(item.subquery, scope if item.lateral else scope.outer)
            if item.alias is not None:
                scope.aliases[str(item.alias.aliasname)] = None
        elif getattr(item, "alias", None) is not None:
            scope.aliases[item.alias.aliasname] = None

    def range_var(self, node: Any, scope: _Scope) -> None:
        name = self.canonical(_relname(node))
        alias = node.alias.aliasname if node.alias is not None else node.relname
        if node.schemaname is None and node.relname in self.ctes:
            scope.aliases[alias] = None
            return
        scope.aliases[alias] = name
        self.shape.use(name)

    def where(self, node: Any, scope: _Scope) -> None:
        from pglast import ast, enums

        if node is None:
            return
        if isinstance(node, ast.BoolExpr):
            if node.boolop == enums.BoolExprType.AND_EXPR:
                for arg in node.args or ():
                    self.where(arg, scope)
            self.sublinks(node, scope)
            return
        if isinstance(node, ast.A_Expr):
            self.comparison(node, scope)
        elif isinstance(node, ast.NullTest):
            ref = self.resolve(_strip(node.arg), scope)
            if ref is not None:
                self.add(ref, "eq")
        self.sublinks(node, scope)

    def sublinks(self, node: Any, scope: _Scope) -> None:
        from pglast import ast

        for link in _nodes(node, ast.SubLink, stop_at_sublink=True):
            self.subquery(link.subselect, scope)

    def comparison(self, node: Any, scope: _Scope) -> None:
        from pglast import enums

        kind, op = node.kind, node.name[-1].sval if node.name else ""
        left, right = _strip(node.lexpr), node.rexpr
        if kind == enums.A_Expr_Kind.AEXPR_OP and op in EQ_OPS | RANGE_OPS:
            self.binary(left, _strip(right), op, scope)
            self.binary(_strip(right), left, _flip(op), scope)
        elif kind in (enums.A_Expr_Kind.AEXPR_IN, enums.A_Expr_Kind.AEXPR_OP_ANY) and op == "=":
            self.value_compare(left, right, "eq", scope)
            number = _param_number(right)
            if kind == enums.A_Expr_Kind.AEXPR_OP_ANY and number is not None:
                self.shape.array_params.add(number)
        elif kind in (enums.A_Expr_Kind.AEXPR_BETWEEN, enums.A_Expr_Kind.AEXPR_BETWEEN_SYM):
            self.value_compare(left, right, "ranges", scope)

    def binary(self, column: Any, other: Any, op: str, scope: _Scope) -> None:
        from pglast import ast

        ref = self.resolve(column, scope)
        if ref is None:
            return
        if isinstance(other, ast.ColumnRef):
            peer = self.resolve(other, scope)
            if op == "=" and (peer is None or peer[0] != ref[0]):  # another table, a subquery's or an outer one
                self.add(ref, "joins")
            return
        if _has_column(other):
            return
        self.value_compare(column, other, "eq" if op in EQ_OPS else "ranges", scope)

    def value_compare(self, column: Any, values: Any, how: str, scope: _Scope) -> None:
        ref = self.resolve(column, scope)
        if ref is None or _has_column(values):
            return
        self.add(ref, how)
        for number in _params_in(values):
            self.shape.params.setdefault(number, ref)
            if how == "ranges":
                self.shape.range_params.add(number)

    def add(self, ref: tuple[str, str], how: str) -> None:
        use = self.shape.use(ref[0])
        target: list[str] = getattr(use, how)
        if ref[1] not in target:
            target.append(ref[1])
        use.columns.add(ref[1])

    def order_by(self, sort: Any, scope: _Scope) -> None:
        from pglast import enums

        order: list[tuple[str, str, bool]] = []
        for item in sort or ():
            ref = self.resolve(_strip(item.node), scope)
            if ref is None or (order and order[0][0] != ref[0]):
                break
            order.append((ref[0], ref[1], item.sortby_dir == enums.SortByDir.SORTBY_DESC))
        if order:
            use = self.shape.use(order[0][0])
            if not use.order:
                use.order = [(col, desc) for _t, col, desc in order]

    def references(self, node: Any, scope: _Scope) -> None:
        from pglast import ast

        for ref in _nodes(node, ast.ColumnRef, stop_at_sublink=True, stop_at_select=node):
            fields = ref.fields
            if isinstance(fields[-1], ast.A_Star):
                self.mark_star(fields, scope)
                continue
            resolved = self.resolve(ref, scope)
            if resolved is not None:
                self.shape.use(resolved[0]).columns.add(resolved[1])

    def mark_star(self, fields: Any, scope: _Scope) -> None:
        tables = [scope.aliases.get(fields[-2].sval)] if len(fields) > 1 else list(scope.aliases.values())
        for table in tables:
            if table is not None:
                self.shape.use(table).star = True

    def resolve(self, node: Any, scope: _Scope | None) -> tuple[str, str] | None:
        """(table, column) of a column reference, looked up from the innermost scope outwards."""
        from pglast import ast

        fields: Any = getattr(node, "fields", None)
        if not isinstance(node, ast.ColumnRef) or isinstance(fields[-1], ast.A_Star):
            return None
        names = [f.sval for f in fields]
        while scope is not None:
            found = self.lookup(names, scope)
            if found is not None:
                return None if found[0] == "" else found
            scope = scope.outer
        return None

    def lookup(self, names: list[str], scope: _Scope) -> tuple[str, str] | None:
        column = names[-1]
        if len(names) > 1:
            if names[-2] not in scope.aliases:
                return None
            table = scope.aliases[names[-2]]
            return ("", column) if table is None else (table, column)
        real = [t for t in scope.aliases.values() if t is not None]
        if len(real) == 1 and len(scope.aliases) == 1:
            return real[0], column
        known = [self.columns_of(t) for t in real]
        owners = [t for t, cols in zip(real, known, strict=True) if cols is not None and column in cols]
        if len(owners) == 1:
            return owners[0], column
        if owners or any(cols is None for cols in known) or len(real) < len(scope.aliases):
            return "", column  # ambiguous here: not an outer column either
        return None


def _relname(node: Any) -> str:
    return f"{node.schemaname}.{node.relname}" if node.schemaname else str(node.relname)


def _strip(node: Any) -> Any:
    """The expression under casts (`col::date = $1` compares `col`)."""
    from pglast import ast

    while isinstance(node, ast.TypeCast):
        node = node.arg
    return node


def _flip(op: str) -> str:
    return {"<": ">", ">": "<", "<=": ">=", ">=": "<="}.get(op, op)


def _param_number(node: Any) -> int | None:
    from pglast import ast

    node = _strip(node)
    return node.number if isinstance(node, ast.ParamRef) else None


def _params_in(node: Any) -> list[int]:
    from pglast import ast

    return [p.number for p in _nodes(node, ast.ParamRef)]


def _has_column(node: Any) -> bool:
    from pglast import ast

    return any(True for _ in _nodes(node, ast.ColumnRef))


def _nodes(node: Any, kind: type, stop_at_sublink: bool = False, stop_at_select: Any = None) -> Iterator[Any]:
    """Every node of `kind` under `node` (not descending into sub-selects when asked)."""
    from pglast import ast

    if isinstance(node, list | tuple):
        for item in node:
            yield from _nodes(item, kind, stop_at_sublink, stop_at_select)
        return
    if not isinstance(node, ast.Node):
        return
    if isinstance(node, kind):
        yield node
    if stop_at_sublink and isinstance(node, ast.SubLink | ast.RangeSubselect | ast.CommonTableExpr):
        return
    if stop_at_select is not None and node is not stop_at_select and isinstance(node, ast.SelectStmt):
        return
    for name in getattr(type(node), "__slots__", ()):
        value = getattr(node, name, None)
        if isinstance(value, ast.Node | list | tuple):
            yield from _nodes(value, kind, stop_at_sublink, stop_at_select)
