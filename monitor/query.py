"""Evaluate a parsed expression against a `SeriesStore` at one instant, as Prometheus would."""

from __future__ import annotations

import math
from collections.abc import Callable

from monitor.promql import (
    SET_OPERATORS,
    Aggregate,
    Binary,
    Call,
    Negate,
    Node,
    Number,
    ParseError,
    Selector,
    parse,
)
from monitor.tsdb import SeriesStore
from monitor.types import LabelKey

Vector = dict[LabelKey, float]


class Matrix(dict[LabelKey, list[tuple[float, float]]]):
    """A range vector: what `metric[5m]` selects, and what only range functions accept."""


Value = float | Vector | Matrix


class QueryError(ValueError):
    pass


def query(store: SeriesStore, expr: str | Node, t: float) -> dict[LabelKey, float]:
    """The instant vector of `expr` at `t` (a scalar result becomes one series without labels)."""
    node = parse(expr) if isinstance(expr, str) else expr
    result = _Eval(store, t).eval(node)
    if isinstance(result, float):
        return {(): result}
    if _is_matrix(result):
        raise QueryError("a range vector cannot be a rule's result; wrap it in a function")
    return _vector(result)


def _is_matrix(value: Value) -> bool:
    return isinstance(value, Matrix)


def _drop_name(key: LabelKey) -> LabelKey:
    return tuple(p for p in key if p[0] != "__name__")


class _Eval:
    def __init__(self, store: SeriesStore, t: float) -> None:
        self.store = store
        self.t = float(t)

    def eval(self, node: Node) -> Value:
        if isinstance(node, Number):
            return node.value
        if isinstance(node, Selector):
            return self.select(node)
        if isinstance(node, Negate):
            return self.binary("*", -1.0, self.eval(node.expr))
        if isinstance(node, Binary) and node.op in SET_OPERATORS:
            return _set_operation(node.op, _vector(self.eval(node.left)), _vector(self.eval(node.right)))
        if isinstance(node, Binary):
            return self.binary(node.op, self.eval(node.left), self.eval(node.right))
        if isinstance(node, Aggregate):
            return self.aggregate(node)
        return self.call(node)

    def select(self, sel: Selector) -> Value:
        vector: Vector = {}
        matrix = Matrix()
        for key in self.store.candidates(sel.name):
            labels = dict(key)
            if not all(m.matches(labels.get(m.name, "")) for m in sel.matchers):
                continue
            public = tuple(p for p in key if p[0] != "__source__")
            if sel.range is None:
                value = self.store.latest(key, self.t)
                if value is not None:
                    vector[public] = value
            else:
                points = self.store.window(key, self.t - sel.range, self.t)
                if points:
                    matrix[public] = points
        return vector if sel.range is None else matrix

    def binary(self, op: str, left: Value, right: Value) -> Value:
        fn = _ARITH[op]
        if isinstance(left, float) and isinstance(right, float):
            return fn(left, right)
        if isinstance(left, float):
            assert isinstance(right, dict)
            return {_drop_name(k): fn(left, v) for k, v in _vector(right).items()}
        if isinstance(right, float):
            return {_drop_name(k): fn(v, right) for k, v in _vector(left).items()}
        lhs = {_drop_name(k): v for k, v in _vector(left).items()}
        rhs = {_drop_name(k): v for k, v in _vector(right).items()}
        return {k: fn(v, rhs[k]) for k, v in lhs.items() if k in rhs}

    def aggregate(self, node: Aggregate) -> Vector:
        inner = _vector(self.eval(node.expr))
        groups: dict[LabelKey, list[float]] = {}
        for key, value in inner.items():
            if node.without:
                gkey = tuple(p for p in key if p[0] not in node.grouping and p[0] != "__name__")
            else:
                gkey = tuple(p for p in key if p[0] in node.grouping)
            groups.setdefault(gkey, []).append(value)
        reduce: dict[str, Callable[[list[float]], float]] = {
            "sum": sum, "min": min, "max": max, "count": lambda v: float(len(v)),
            "avg": lambda v: sum(v) / len(v),
        }
        return {k: float(reduce[node.op](v)) for k, v in groups.items()}

    def call(self, node: Call) -> Value:
        fn = FUNCTIONS.get(node.func)
        if fn is None:
            raise QueryError(f"unknown function {node.func!r}")
        if node.func == "time":
            return self.t
        if node.func == "absent":
            return self.absent(node)
        return fn(self, [self.eval(a) for a in node.args])

    def absent(self, node: Call) -> Vector:
        """Prometheus' `absent(v)`: one series valued 1 (labelled by `v`'s equality matchers) when `v` is empty."""
        if len(node.args) != 1:
            raise QueryError("absent() takes one instant vector")
        if _vector(self.eval(node.args[0])):
            return {}
        arg = node.args[0]
        labels = sorted((m.name, m.value) for m in arg.matchers if m.op == "=" and m.name != "__name__"
                        ) if isinstance(arg, Selector) else []
        return {tuple(labels): 1.0}


def _set_operation(op: str, left: Vector, right: Vector) -> Vector:
    """`and`, `unless`, `or` between vectors, matching series on their labels without the metric name."""
    right_sigs = {_drop_name(k) for k in right}
    if op == "and":
        return {k: v for k, v in left.items() if _drop_name(k) in right_sigs}
    if op == "unless":
        return {k: v for k, v in left.items() if _drop_name(k) not in right_sigs}
    left_sigs = {_drop_name(k) for k in left}
    return {**left, **{k: v for k, v in right.items() if _drop_name(k) not in left_sigs}}


def _vector(value: Value) -> Vector:
    if isinstance(value, Matrix | float):
        raise QueryError("expected an instant vector")
    return value


def _matrix(value: Value) -> Matrix:
    if not isinstance(value, Matrix):
        raise QueryError("expected a range vector, e.g. metric[5m]")
    return value


def _scalar(value: Value) -> float:
    if not isinstance(value, float):
        raise QueryError("expected a number")
    return value


def _div(a: float, b: float) -> float:
    if b == 0:
        return math.nan if a == 0 else math.copysign(math.inf, a)
    return a / b


_ARITH: dict[str, Callable[[float, float], float]] = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b, "/": _div,
}


def _increase(points: list[tuple[float, float]]) -> float:
    total, prev = 0.0, points[0][1]
    for _, value in points[1:]:
        total += value - prev if value >= prev else value  # a counter reset starts again from 0
        prev = value
    return total


def _per_series(fn: Callable[[list[tuple[float, float]]], float | None]) -> Callable[[_Eval, list[Value]], Value]:
    def apply(_: _Eval, args: list[Value]) -> Value:
        if len(args) != 1:
            raise QueryError("expected one range vector")
        out: Vector = {}
        for key, points in _matrix(args[0]).items():
            value = fn(points)
            if value is not None:
                out[_drop_name(key)] = value
        return out

    return apply


def _rate(points: list[tuple[float, float]]) -> float | None:
    if len(points) < 2 or points[-1][0] == points[0][0]:
        return None
    return _increase(points) / (points[-1][0] - points[0][0])


def _irate(points: list[tuple[float, float]]) -> float | None:
    """The per-second rate between the last two points (a counter reset counts from 0)."""
    if len(points) < 2 or points[-1][0] == points[-2][0]:
        return None
    (t1, v1), (t2, v2) = points[-2], points[-1]
    return (v2 - v1 if v2 >= v1 else v2) / (t2 - t1)


def _predict_linear(ev: _Eval, args: list[Value]) -> Value:
    seconds = _scalar(args[1])
    out: Vector = {}
    for key, points in _matrix(args[0]).items():
        if len(points) < 2:
            continue
        n = len(points)
        xs = [w - ev.t for w, _ in points]
        ys = [v for _, v in points]
        mx, my = sum(xs) / n, sum(ys) / n
        var = sum((x - mx) ** 2 for x in xs)
        slope = 0.0 if var == 0 else sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var
        out[_drop_name(key)] = (my - slope * mx) + slope * seconds
    return out


def _histogram_quantile(_: _Eval, args: list[Value]) -> Value:
    q = _scalar(args[0])
    buckets: dict[LabelKey, list[tuple[float, float]]] = {}
    for key, value in _vector(args[1]).items():
        labels = dict(key)
        bound = float(labels.pop("le", "nan"))
        labels.pop("__name__", None)
        buckets.setdefault(tuple(sorted(labels.items())), []).append((bound, value))
    return {k: _bucket_quantile(q, sorted(v)) for k, v in buckets.items() if v}


def _bucket_quantile(q: float, buckets: list[tuple[float, float]]) -> float:
    total = buckets[-1][1]
    if total == 0 or math.isnan(total):
        return math.nan
    rank = q * total
    prev_bound, prev_count = 0.0, 0.0
    for bound, count in buckets:
        if count >= rank:
            if math.isinf(bound):
                return prev_bound
            return prev_bound + (bound - prev_bound) * _div(rank - prev_count, count - prev_count)
        prev_bound, prev_count = bound, count
    return prev_bound


def _vector_fn(_: _Eval, args: list[Value]) -> Value:
    return {(): _scalar(args[0])}


def _time(ev: _Eval, _args: list[Value]) -> Value:
    return ev.t


def _clamp_min(_: _Eval, args: list[Value]) -> Value:
    low = _scalar(args[1])
    return {_drop_name(k): max(v, low) for k, v in _vector(args[0]).items()}


FUNCTIONS: dict[str, Callable[[_Eval, list[Value]], Value]] = {
    "rate": _per_series(_rate),
    "irate": _per_series(_irate),
    "absent": lambda ev, args: {},  # evaluated by _Eval.absent, which needs the argument's matchers
    "increase": _per_series(lambda p: _increase(p) if len(p) > 1 else None),
    "avg_over_time": _per_series(lambda p: sum(v for _, v in p) / len(p)),
    "max_over_time": _per_series(lambda p: max(v for _, v in p)),
    "min_over_time": _per_series(lambda p: min(v for _, v in p)),
    "predict_linear": _predict_linear,
    "histogram_quantile": _histogram_quantile,
    "vector": _vector_fn,
    "time": _time,
    "clamp_min": _clamp_min,
}


def ranges(exprs: list[str]) -> dict[str, float]:
    """The longest range each metric name is selected with (instant selectors count as 0)."""
    out: dict[str, float] = {}
    stack: list[Node] = [parse(e) for e in exprs]
    while stack:
        n = stack.pop()
        if isinstance(n, Selector) and n.name is not None:
            out[n.name] = max(out.get(n.name, 0.0), n.range or 0.0)
        elif isinstance(n, Call):
            stack.extend(n.args)
        elif isinstance(n, Binary):
            stack.extend((n.left, n.right))
        elif isinstance(n, Aggregate | Negate):
            stack.append(n.expr)
    return out


def check(expr: str) -> str | None:
    """None when `expr` parses and names known functions, else the reason it does not."""
    try:
        node = parse(expr)
    except ParseError as exc:
        return str(exc)
    stack: list[Node] = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, Call):
            if n.func not in FUNCTIONS:
                return f"unknown function {n.func!r}"
            stack.extend(n.args)
        elif isinstance(n, Binary):
            stack.extend((n.left, n.right))
        elif isinstance(n, Aggregate | Negate):
            stack.append(n.expr)
    return None
