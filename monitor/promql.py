"""The subset of PromQL the embedded engine evaluates, parsed into a small tree.

Grammar: numbers (also `Inf`, `NaN`); selectors `name{l="v", l!="v", l=~"re", l!~"re"}` with an optional range `[5m]`;
functions (see `monitor.query.FUNCTIONS`); aggregations `sum|avg|min|max|count [by|without (l, ...)]`;
`+ - * /` between scalars and vectors (one-to-one on equal label sets); the set operators `and`,
`unless` and `or` between vectors (lowest precedence, `or` last, as in Prometheus) and parentheses. A rule's
threshold and comparison stay outside the expression, so every rule exports to Prometheus as-is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from monitor.clock import parse_duration
from monitor.regex import RegexError, compile_label_regex

AGGREGATIONS = frozenset({"sum", "avg", "min", "max", "count"})
SET_OPERATORS = ("or", "and", "unless")
NUMBER_WORDS = {"inf": float("inf"), "nan": float("nan")}


class ParseError(ValueError):
    pass


@dataclass(frozen=True)
class Number:
    value: float


@dataclass(frozen=True)
class Matcher:
    name: str
    op: str  # = != =~ !~
    value: str

    def matches(self, actual: str) -> bool:
        if self.op == "=":
            return actual == self.value
        if self.op == "!=":
            return actual != self.value
        hit = compile_label_regex(self.value).fullmatch(actual)
        return hit if self.op == "=~" else not hit


@dataclass(frozen=True)
class Selector:
    name: str | None
    matchers: tuple[Matcher, ...]
    range: float | None = None


@dataclass(frozen=True)
class Call:
    func: str
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Aggregate:
    op: str
    expr: Node
    grouping: tuple[str, ...] = ()
    without: bool = False


@dataclass(frozen=True)
class Binary:
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Negate:
    expr: Node


Node = Number | Selector | Call | Aggregate | Binary | Negate

TOKEN = re.compile(
    r"""\s*(?:
      (?P<number>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)(?![a-zA-Z_])
    | (?P<duration>\[[0-9smhdwy]+\])
    | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
    | (?P<ident>[a-zA-Z_:][a-zA-Z0-9_:]*)
    | (?P<op>=~|!~|!=|==|[=+\-*/(){},])
    )""",
    re.VERBOSE,
)


def tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = TOKEN.match(text, pos)
        if m is None or m.lastgroup is None:
            raise ParseError(f"unexpected character at {pos}: {text[pos:pos + 12]!r}")
        tokens.append((m.lastgroup, m.group(m.lastgroup)))
        pos = m.end()
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.i = 0

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.i] if self.i < len(self.tokens) else ("eof", "")

    def take(self, value: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if value is not None and tok[1] != value:
            raise ParseError(f"expected {value!r}, got {tok[1] or 'end of expression'!r}")
        self.i += 1
        return tok

    def expr(self) -> Node:
        node = self.conjunction()
        while self.peek() == ("ident", "or"):
            node = Binary(self.take()[1], node, self.conjunction())
        return node

    def conjunction(self) -> Node:
        node = self.additive()
        while self.peek() in (("ident", "and"), ("ident", "unless")):
            node = Binary(self.take()[1], node, self.additive())
        return node

    def additive(self) -> Node:
        node = self.term()
        while self.peek() in (("op", "+"), ("op", "-")):
            node = Binary(self.take()[1], node, self.term())
        return node

    def term(self) -> Node:
        node = self.unary()
        while self.peek() in (("op", "*"), ("op", "/")):
            node = Binary(self.take()[1], node, self.unary())
        return node

    def unary(self) -> Node:
        if self.peek() == ("op", "-"):
            self.take()
            return Negate(self.unary())
        if self.peek() == ("op", "+"):
            self.take()
            return self.unary()
        return self.primary()

    def primary(self) -> Node:
        kind, value = self.peek()
        if kind == "number":
            self.take()
            return Number(float(value))
        if value == "(":
            self.take()
            node = self.expr()
            self.take(")")
            return node
        if value == "{":
            return self.selector(None)
        if kind != "ident" or value in SET_OPERATORS:
            raise ParseError(f"unexpected {value or 'end of expression'!r}")
        self.take()
        if value.lower() in NUMBER_WORDS:
            return Number(NUMBER_WORDS[value.lower()])
        if value in AGGREGATIONS:
            return self.aggregate(value)
        if self.peek() == ("op", "("):
            return self.call(value)
        return self.selector(value)

    def selector(self, name: str | None) -> Selector:
        matchers: list[Matcher] = []
        if self.peek() == ("op", "{"):
            self.take()
            while self.peek() != ("op", "}"):
                label = self.take()
                op = self.take()
                text = self.take()
                if label[0] != "ident" or op[1] not in ("=", "!=", "=~", "!~") or text[0] != "string":
                    raise ParseError(f"bad matcher near {label[1]!r}")
                matchers.append(_matcher(label[1], op[1], _unquote(text[1])))
                if self.peek() == ("op", ","):
                    self.take()
            self.take("}")
        if name is None and not matchers:
            raise ParseError("a selector needs a metric name or a matcher")
        rng = None
        if self.peek()[0] == "duration":
            rng = parse_duration(self.take()[1][1:-1])
        return Selector(name, tuple(matchers), rng)

    def grouping(self) -> tuple[tuple[str, ...], bool]:
        without = self.take()[1] == "without"
        self.take("(")
        labels: list[str] = []
        while self.peek() != ("op", ")"):
            kind, label = self.take()
            if kind != "ident":
                raise ParseError(f"expected a label name in the grouping, got {label or 'end of expression'!r}")
            labels.append(label)
            if self.peek() == ("op", ","):
                self.take()
        self.take(")")
        return tuple(labels), without

    def aggregate(self, op: str) -> Aggregate:
        grouping: tuple[str, ...] = ()
        without = False
        if self.peek()[1] in ("by", "without"):
            grouping, without = self.grouping()
        self.take("(")
        inner = self.expr()
        self.take(")")
        if self.peek()[1] in ("by", "without"):
            grouping, without = self.grouping()
        return Aggregate(op, inner, grouping, without)

    def call(self, func: str) -> Call:
        self.take("(")
        args: list[Node] = []
        while self.peek() != ("op", ")"):
            args.append(self.expr())
            if self.peek() == ("op", ","):
                self.take()
        self.take(")")
        return Call(func, tuple(args))


def _matcher(name: str, op: str, value: str) -> Matcher:
    if "~" in op:
        try:
            compile_label_regex(value)
        except RegexError as exc:
            raise ParseError(f"matcher {name}: {exc}") from None
    return Matcher(name, op, value)


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text[1:-1])


def parse(text: str) -> Node:
    """Parse one expression or raise `ParseError` with the reason."""
    parser = _Parser(text)
    node = parser.expr()
    if parser.peek()[0] != "eof":
        raise ParseError(f"unexpected {parser.peek()[1]!r} after the expression")
    return node
