"""Keyword schemes (监测方案): boolean word expressions compiled into one Aho-Corasick automaton.

Grammar (operators in English or the Chinese-system style)::

    expr := term (("OR" | "|") term)*
    term := factor (("AND" | "+") factor | "-" factor)*      # "a - b" means a AND NOT b
    factor := ("NOT" | "-") factor | "(" expr ")" | WORD | "quoted phrase"

Words match as substrings of the normalised text, as commercial 舆情 systems do. A scheme matches
when its expression is true, at least one region word occurs (if it has any) and no exclusion word
occurs. Words are normalised like documents, so Traditional or full-width words still match.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ahocorasick
import yaml
from pydantic import (BaseModel, ConfigDict, Field, RootModel, ValidationInfo, field_validator,
                      model_validator)

from analysis.text import fold_width_keeping_positions, normalise

DEFAULT_SCHEMES_PATH = Path(__file__).parent / "data" / "default_schemes.yaml"
_OPERATORS = {"AND": "AND", "OR": "OR", "NOT": "NOT", "+": "AND", "|": "OR", "-": "MINUS"}
_SPECIAL = set('()"+|-') | {" ", "\t", "\n"}


class SchemeError(ValueError):
    """An expression that does not parse; ``position`` is 1-based in the expression text."""

    def __init__(self, scheme: str, position: int, message: str) -> None:
        self.scheme, self.position, self.message = scheme, position, message
        super().__init__(
            f"监测方案 {scheme!r} 表达式错误，第 {position} 个字符 / "
            f"invalid expression in scheme {scheme!r} at position {position}: {message}"
        )


# ---------------------------------------------------------------- AST


@dataclass(frozen=True)
class Word:
    text: str


@dataclass(frozen=True)
class Not:
    operand: Node


@dataclass(frozen=True)
class And:
    operands: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    operands: tuple[Node, ...]


Node = Word | Not | And | Or


def evaluate(node: Node, present: frozenset[str] | set[str]) -> bool:
    """Truth of ``node`` given the set of words found in a text."""
    if isinstance(node, Word):
        return node.text in present
    if isinstance(node, Not):
        return not evaluate(node.operand, present)
    if isinstance(node, And):
        return all(evaluate(o, present) for o in node.operands)
    return any(evaluate(o, present) for o in node.operands)


def positive_words(node: Node, negated: bool = False) -> set[str]:
    """Words whose presence can make the expression true (reported as the match's words)."""
    if isinstance(node, Word):
        return set() if negated else {node.text}
    if isinstance(node, Not):
        return positive_words(node.operand, not negated)
    return set().union(*(positive_words(o, negated) for o in node.operands))


def all_words(node: Node) -> set[str]:
    if isinstance(node, Word):
        return {node.text}
    if isinstance(node, Not):
        return all_words(node.operand)
    return set().union(*(all_words(o) for o in node.operands))


# ---------------------------------------------------------------- parser


@dataclass(frozen=True)
class _Token:
    kind: str  # WORD, AND, OR, NOT, MINUS, LPAREN, RPAREN, END
    text: str
    position: int  # 1-based


def _lex(scheme: str, expression: str) -> list[_Token]:
    # Width folding maps one character to one, so positions still point into the admin's text.
    source = fold_width_keeping_positions(expression)
    tokens: list[_Token] = []
    i = 0
    while i < len(source):
        char = source[i]
        if char.isspace():
            i += 1
        elif char in "()":
            tokens.append(_Token("LPAREN" if char == "(" else "RPAREN", char, i + 1))
            i += 1
        elif char in "+|-":
            tokens.append(_Token(_OPERATORS[char], char, i + 1))
            i += 1
        elif char == '"':
            end = source.find('"', i + 1)
            if end < 0:
                raise SchemeError(scheme, i + 1, "unclosed quote 引号未闭合")
            phrase = normalise(source[i + 1 : end])
            if not phrase:
                raise SchemeError(scheme, i + 1, "empty phrase 空短语")
            tokens.append(_Token("WORD", phrase, i + 1))
            i = end + 1
        else:
            start = i
            while i < len(source) and source[i] not in _SPECIAL:
                i += 1
            raw = source[start:i]
            kind = _OPERATORS.get(raw, "WORD") if raw in ("AND", "OR", "NOT") else "WORD"
            tokens.append(_Token(kind, normalise(raw) if kind == "WORD" else raw, start + 1))
    tokens.append(_Token("END", "", len(source) + 1))
    return tokens


class _Parser:
    def __init__(self, scheme: str, tokens: list[_Token]) -> None:
        self.scheme, self.tokens, self.index = scheme, tokens, 0

    def peek(self) -> _Token:
        return self.tokens[self.index]

    def take(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def fail(self, token: _Token, message: str) -> SchemeError:
        return SchemeError(self.scheme, token.position, message)

    def parse(self) -> Node:
        if self.peek().kind == "END":
            raise self.fail(self.peek(), "empty expression 表达式为空")
        node = self.expr()
        token = self.peek()
        if token.kind == "RPAREN":
            raise self.fail(token, "unmatched ')' 多余的右括号")
        if token.kind != "END":
            raise self.fail(token, f"expected AND/OR/NOT before {token.text!r} 缺少运算符")
        return node

    def expr(self) -> Node:
        operands = [self.term()]
        while self.peek().kind == "OR":
            self.take()
            operands.append(self.term())
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def term(self) -> Node:
        operands = [self.factor()]
        while self.peek().kind in ("AND", "MINUS"):
            operator = self.take()
            operand = self.factor()
            operands.append(Not(operand) if operator.kind == "MINUS" else operand)
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def factor(self) -> Node:
        token = self.take()
        if token.kind in ("NOT", "MINUS"):
            return Not(self.factor())
        if token.kind == "WORD":
            return Word(token.text)
        if token.kind == "LPAREN":
            node = self.expr()
            closing = self.take()
            if closing.kind != "RPAREN":
                raise self.fail(closing, "expected ')' 缺少右括号")
            return node
        if token.kind == "END":
            raise self.fail(token, "expression ends too early 表达式不完整")
        raise self.fail(token, f"unexpected {token.text!r} 此处不应出现")


def parse_expression(scheme: str, expression: str) -> Node:
    """Parse one expression; raise ``SchemeError`` naming the scheme and the position."""
    node = _Parser(scheme, _lex(scheme, expression)).parse()
    if evaluate(node, frozenset()):
        raise SchemeError(scheme, 1, "expression matches texts without any word 表达式不含必需词")
    return node


# ---------------------------------------------------------------- config and compiled set


class SchemeConfig(BaseModel):
    """One scheme as written in the YAML ``schemes`` section."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    expression: str
    regions: list[str] = []
    exclude: list[str] = []

    @field_validator("expression")
    @classmethod
    def _parses(cls, expression: str, info: ValidationInfo) -> str:
        # A field validator, so an error's location is ``schemes[i].expression``.
        parse_expression(str(info.data.get("name", "?")), expression)
        return expression


class SchemesSection(RootModel[list[SchemeConfig]]):
    """The whole ``schemes`` section; names must be unique."""

    @model_validator(mode="after")
    def _unique(self) -> SchemesSection:
        names = [s.name for s in self.root]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"duplicate scheme names 方案重名: {', '.join(duplicates)}")
        return self


@dataclass(frozen=True)
class SchemeMatch:
    scheme: str
    words: list[str]


@dataclass(frozen=True)
class _Compiled:
    name: str
    node: Node
    positive: frozenset[str]
    regions: frozenset[str]
    exclude: frozenset[str]


def _clean_words(words: Iterable[str]) -> frozenset[str]:
    return frozenset(w for w in (normalise(x) for x in words) if w)


class SchemeSet:
    """All schemes behind one automaton: the text is scanned once whatever the scheme count."""

    def __init__(self, schemes: Sequence[SchemeConfig]) -> None:
        self._schemes = [
            _Compiled(
                s.name,
                node := parse_expression(s.name, s.expression),
                frozenset(positive_words(node)),
                _clean_words(s.regions),
                _clean_words(s.exclude),
            )
            for s in schemes
        ]
        words: set[str] = set()
        for s in self._schemes:
            words |= all_words(s.node) | s.regions | s.exclude
        self._automaton: Any = ahocorasick.Automaton()
        for word in sorted(words):
            self._automaton.add_word(word, word)
        self._has_words = bool(words)
        if self._has_words:
            self._automaton.make_automaton()
        # Most texts hold none of the words: one regex search (which skips ahead to the
        # characters that can start a word) tells so faster than walking the automaton.
        self._any_word = re.compile("|".join(map(re.escape, sorted(words, key=len, reverse=True))))

    def __len__(self) -> int:
        return len(self._schemes)

    def found_words(self, normalised_text: str) -> dict[str, int]:
        """Each dictionary word in the text with the offset of its first occurrence."""
        found: dict[str, int] = {}
        if not self._has_words or self._any_word.search(normalised_text) is None:
            return found
        for end, word in self._automaton.iter(normalised_text):
            if word not in found:
                found[word] = end - len(word) + 1
        return found

    def match(self, text: str, *, normalised: bool = False) -> list[SchemeMatch]:
        """Schemes matching ``text``, in declaration order, with the words that made them match."""
        found = self.found_words(text if normalised else normalise(text))
        if not found:
            return []
        present = set(found)
        matches = []
        for s in self._schemes:
            if not (s.positive & present) or (s.exclude & present):
                continue
            if s.regions and not (s.regions & present):
                continue
            if evaluate(s.node, present):
                hit = (s.positive | s.regions) & present
                # By first occurrence, the longer word first where two start together.
                matches.append(SchemeMatch(s.name, sorted(hit, key=lambda w: (found[w], -len(w), w))))
        return matches


def load_schemes_yaml(path: Path = DEFAULT_SCHEMES_PATH) -> list[SchemeConfig]:
    """Schemes from a YAML file with a top-level ``schemes`` list (the shipped defaults)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return SchemesSection.model_validate(data.get("schemes", [])).root


_default_set: SchemeSet | None = None


def default_scheme_set() -> SchemeSet:
    """The shipped default schemes, compiled once per process."""
    global _default_set
    if _default_set is None:
        _default_set = SchemeSet(load_schemes_yaml())
    return _default_set


def match_schemes(text: str, schemes: SchemeSet | None = None) -> list[SchemeMatch]:
    """Which schemes (default: the shipped ones) match ``text`` and through which words."""
    return (schemes or default_scheme_set()).match(text)


def search_queries(node: Node, limit: int = 20) -> list[str]:
    """Search-engine queries that together cover what the expression asks for: the
    conjunctions of its alternatives (``(A | B) + (C | D)`` → ``A C``, ``A D``, ``B C``, ``B D``),
    negated parts left out, at most ``limit``."""
    if isinstance(node, Word):
        return [node.text]
    if isinstance(node, Not):
        return []
    if isinstance(node, Or):
        return list(dict.fromkeys(q for o in node.operands for q in search_queries(o, limit)))[:limit]
    queries = [""]
    for operand in node.operands:
        options = search_queries(operand, limit)
        if options:
            queries = [f"{q} {o}".strip() for q in queries for o in options][:limit]
    return queries


def scheme_queries(schemes: Iterable[SchemeConfig], name: str, limit: int = 20) -> list[str]:
    """The search queries of the scheme called ``name``; ``KeyError`` if there is none."""
    for scheme in schemes:
        if scheme.name == name:
            return search_queries(parse_expression(scheme.name, scheme.expression), limit)
    raise KeyError(name)
