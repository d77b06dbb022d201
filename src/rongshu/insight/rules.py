"""The segment rule language: a small, safe expression language over indicator ids.

Grammar (keywords case-insensitive)::

    rule    := or
    or      := and ("or" and)*
    and     := not ("and" not)*
    not     := "not" not | cmp
    cmp     := sum ( ("="|"!="|"<>"|"<"|"<="|">"|">=") sum
                   | "not"? "between" sum "and" sum
                   | "not"? "in" "(" literal ("," literal)* ")"
                   | "is" "not"? "null" )?
    sum     := term (("+"|"-") term)*
    term    := unary (("*"|"/") unary)*
    unary   := "-" unary | atom
    atom    := NUMBER | STRING | "true" | "false" | INDICATOR_ID | "(" rule ")"

Rules are tokenized and parsed here (never ``eval``), every identifier must be a known indicator,
types are checked (a rule must be boolean; arithmetic needs numbers) and the tree is compiled
to a SQL expression over the profile table whose column names are the indicator ids. Strings
are re-quoted on output, so nothing in a rule reaches SQL unescaped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rongshu.insight.errors import InvalidRule

_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+(?:\.\d+)?)|(?P<str>'(?:[^'\\]|'')*')|(?P<id>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op><=|>=|!=|<>|[=<>+\-*/(),]))"
)
KEYWORDS = {"and", "or", "not", "between", "in", "is", "null", "true", "false"}
MAX_LENGTH = 2000
MAX_DEPTH = 40


@dataclass(frozen=True)
class Token:
    kind: str  # num, str, id, kw, op, end
    text: str
    pos: int


def tokenize(text: str) -> list[Token]:
    if len(text) > MAX_LENGTH:
        raise InvalidRule(f"rule longer than {MAX_LENGTH} characters")
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise InvalidRule(f"unexpected character at {pos}: {text[pos : pos + 10]!r}")
        kind = m.lastgroup or "op"
        value = m.group(kind)
        if kind == "id" and value.lower() in KEYWORDS:
            tokens.append(Token("kw", value.lower(), m.start(kind)))
        else:
            tokens.append(Token(kind, value, m.start(kind)))
        pos = m.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


# ------------------------------------------------------------------ the tree
@dataclass(frozen=True)
class Node:
    kind: str  # bool, num, str
    sql: str


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class _Parser:
    def __init__(self, text: str, columns: Mapping[str, str]) -> None:
        self.tokens = tokenize(text)
        self.i = 0
        self.columns = columns  # indicator id -> "num" | "str"
        self.used: set[str] = set()
        self.depth = 0

    # helpers
    def peek(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def accept(self, kind: str, text: str | None = None) -> Token | None:
        tok = self.peek()
        if tok.kind == kind and (text is None or tok.text == text):
            self.i += 1
            return tok
        return None

    def expect(self, kind: str, text: str) -> Token:
        tok = self.accept(kind, text)
        if tok is None:
            got = self.peek()
            raise InvalidRule(f"expected {text!r} at {got.pos}, found {got.text or 'end'!r}")
        return tok

    def need(self, node: Node, kind: str, what: str) -> Node:
        if node.kind != kind:
            raise InvalidRule(f"{what} needs a {kind} operand, got {node.kind}: {node.sql}")
        return node

    # grammar
    def parse(self) -> Node:
        node = self.or_()
        if self.peek().kind != "end":
            tok = self.peek()
            raise InvalidRule(f"unexpected {tok.text!r} at {tok.pos}")
        return self.need(node, "bool", "a rule")

    def or_(self) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise InvalidRule("rule nested too deeply")
        node = self.and_()
        while self.accept("kw", "or"):
            right = self.and_()
            node = Node(
                "bool",
                f"({self.need(node, 'bool', 'or').sql} OR {self.need(right, 'bool', 'or').sql})",
            )
        self.depth -= 1
        return node

    def and_(self) -> Node:
        node = self.not_()
        while self.accept("kw", "and"):
            right = self.not_()
            node = Node(
                "bool",
                f"({self.need(node, 'bool', 'and').sql} AND {self.need(right, 'bool', 'and').sql})",
            )
        return node

    def not_(self) -> Node:
        if self.accept("kw", "not"):
            inner = self.need(self.not_(), "bool", "not")
            return Node("bool", f"(NOT {inner.sql})")
        return self.cmp()

    def cmp(self) -> Node:
        left = self.sum()
        tok = self.peek()
        if tok.kind == "op" and tok.text in {"=", "!=", "<>", "<", "<=", ">", ">="}:
            self.take()
            right = self.sum()
            if left.kind != right.kind or left.kind == "bool":
                raise InvalidRule(f"cannot compare {left.kind} with {right.kind} at {tok.pos}")
            op = "<>" if tok.text == "!=" else tok.text
            return Node("bool", f"({left.sql} {op} {right.sql})")
        negate = False
        if tok.kind == "kw" and tok.text == "not":
            nxt = self.tokens[self.i + 1]
            if nxt.kind == "kw" and nxt.text in {"between", "in"}:
                self.take()
                negate = True
        if self.accept("kw", "between"):
            low = self.sum()
            self.expect("kw", "and")
            high = self.sum()
            for n in (left, low, high):
                self.need(n, "num", "between")
            word = "NOT BETWEEN" if negate else "BETWEEN"
            return Node("bool", f"({left.sql} {word} {low.sql} AND {high.sql})")
        if self.accept("kw", "in"):
            self.expect("op", "(")
            items = [self.literal()]
            while self.accept("op", ","):
                items.append(self.literal())
            self.expect("op", ")")
            for n in items:
                if n.kind != left.kind:
                    raise InvalidRule(f"in-list of {n.kind} against {left.kind}")
            word = "NOT IN" if negate else "IN"
            return Node("bool", f"({left.sql} {word} ({', '.join(n.sql for n in items)}))")
        if self.accept("kw", "is"):
            word = "IS NOT NULL" if self.accept("kw", "not") else "IS NULL"
            self.expect("kw", "null")
            return Node("bool", f"({left.sql} {word})")
        return left

    def literal(self) -> Node:
        neg = bool(self.accept("op", "-"))
        tok = self.take()
        if tok.kind == "num":
            return Node("num", ("-" if neg else "") + tok.text)
        if tok.kind == "str" and not neg:
            return Node("str", _quote(tok.text[1:-1].replace("''", "'")))
        raise InvalidRule(f"expected a literal at {tok.pos}")

    def sum(self) -> Node:
        node = self.term()
        while (tok := self.peek()).kind == "op" and tok.text in {"+", "-"}:
            self.take()
            right = self.term()
            node = Node(
                "num",
                f"({self.need(node, 'num', tok.text).sql} {tok.text} "
                f"{self.need(right, 'num', tok.text).sql})",
            )
        return node

    def term(self) -> Node:
        node = self.unary()
        while (tok := self.peek()).kind == "op" and tok.text in {"*", "/"}:
            self.take()
            right = self.unary()
            lhs = self.need(node, "num", tok.text).sql
            rhs = self.need(right, "num", tok.text).sql
            if tok.text == "/":
                # NULL instead of a division error on both engines.
                node = Node("num", f"(CAST({lhs} AS DOUBLE) / NULLIF({rhs}, 0))")
            else:
                node = Node("num", f"({lhs} * {rhs})")
        return node

    def unary(self) -> Node:
        if self.accept("op", "-"):
            return Node("num", f"(-{self.need(self.unary(), 'num', '-').sql})")
        return self.atom()

    def atom(self) -> Node:
        tok = self.take()
        if tok.kind == "num":
            return Node("num", tok.text)
        if tok.kind == "str":
            return Node("str", _quote(tok.text[1:-1].replace("''", "'")))
        if tok.kind == "kw" and tok.text in {"true", "false"}:
            return Node("bool", tok.text.upper())
        if tok.kind == "id":
            kind = self.columns.get(tok.text)
            if kind is None:
                raise InvalidRule(f"unknown indicator {tok.text!r} at {tok.pos}")
            self.used.add(tok.text)
            return Node(kind, tok.text)
        if tok.kind == "op" and tok.text == "(":
            node = self.or_()
            self.expect("op", ")")
            return node
        raise InvalidRule(f"unexpected {tok.text or 'end'!r} at {tok.pos}")


@dataclass(frozen=True)
class CompiledRule:
    text: str
    sql: str
    indicators: frozenset[str]


def compile_rule(text: str, columns: Mapping[str, str] | None = None) -> CompiledRule:
    """Parse and validate ``text``; return its SQL (a boolean expression over the profile)."""
    if columns is None:
        columns = indicator_types()
    parser = _Parser(text, columns)
    node = parser.parse()
    return CompiledRule(text=text, sql=node.sql, indicators=frozenset(parser.used))


def indicator_types() -> dict[str, str]:
    from rongshu.insight.library.indicators import INDICATORS

    return {i["id"]: ("str" if i["unit"] == "code" else "num") for i in INDICATORS}


def explain(text: str) -> dict[str, Any]:
    """For the builder: the compiled SQL or the error, never raising."""
    try:
        rule = compile_rule(text)
    except InvalidRule as exc:
        return {"ok": False, "error": exc.detail}
    return {"ok": True, "sql": rule.sql, "indicators": sorted(rule.indicators)}
