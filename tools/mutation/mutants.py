"""The mutation operators: where a module can be mutated, and the mutated tree.

A mutant is named by its module file, the qualified name of the function it
sits in, the operator and its index among that function's mutation sites,
so a name survives edits elsewhere in the file (see docs/mutation.md).
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Iterator
from dataclasses import dataclass

FLIPPED_COMPARISONS: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
}
SWAPPED_CALLS = {"min": "max", "max": "min", "any": "all", "all": "any"}
SWAPPED_ARITHMETIC: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
}


@dataclass(frozen=True)
class Mutant:
    """One mutation site: ``key`` is stable, ``line`` and ``text`` are for people."""

    path: str
    scope: str
    operator: str
    index: int
    line: int
    text: str

    @property
    def key(self) -> str:
        return f"{self.path}::{self.scope}::{self.operator}#{self.index}"


def _sites(tree: ast.Module) -> Iterator[tuple[str, str, ast.AST]]:
    """(scope, operator, node) for every mutation site, in a fixed order."""

    def walk(node: ast.AST, scope: str) -> Iterator[tuple[str, str, ast.AST]]:
        for child in ast.iter_child_nodes(node):
            inner = scope
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                inner = f"{scope}.{child.name}" if scope else child.name
            if isinstance(child, ast.Expr) and isinstance(child.value, ast.Constant):
                continue  # docstrings
            yield from _operators(child, inner)
            yield from walk(child, inner)

    yield from walk(tree, "")


def _is_annotation_only(node: ast.AST) -> bool:
    return isinstance(node, ast.Subscript | ast.Attribute)


def _operators(node: ast.AST, scope: str) -> Iterator[tuple[str, str, ast.AST]]:
    if isinstance(node, ast.Compare):
        for position, op in enumerate(node.ops):
            if type(op) in FLIPPED_COMPARISONS:
                yield scope, f"compare{position}", node
    elif isinstance(node, ast.BoolOp):
        yield scope, "and-or", node
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        yield scope, "drop-not", node
    elif isinstance(node, ast.Raise):
        yield scope, "raise-to-pass", node
    elif isinstance(node, ast.Return) and _is_boolean(node.value):
        yield scope, "flip-return", node
    elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        yield scope, "drop-call", node
    elif (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in SWAPPED_CALLS
    ):
        yield scope, "swap-call", node
    elif isinstance(node, ast.BinOp) and type(node.op) in SWAPPED_ARITHMETIC:
        yield scope, "swap-arith", node


def _is_boolean(value: ast.expr | None) -> bool:
    if isinstance(value, ast.Constant):
        return isinstance(value.value, bool)
    if isinstance(value, ast.UnaryOp):
        return isinstance(value.op, ast.Not)
    return isinstance(value, ast.Compare | ast.BoolOp)


def list_mutants(path: str, source: str) -> list[Mutant]:
    """Every mutant of one module, in a fixed order."""
    tree = ast.parse(source)
    counts: dict[tuple[str, str], int] = {}
    found = []
    for scope, operator, node in _sites(tree):
        index = counts.get((scope, operator), 0)
        counts[scope, operator] = index + 1
        line = getattr(node, "lineno", 0)
        text = ast.get_source_segment(source, node) or ""
        found.append(Mutant(path, scope or "<module>", operator, index, line, text))
    return found


def mutate(source: str, mutant: Mutant) -> ast.Module:
    """The module's tree with ``mutant`` applied."""
    tree = ast.parse(source)
    counts: dict[tuple[str, str], int] = {}
    for scope, operator, node in _sites(tree):
        index = counts.get((scope, operator), 0)
        counts[scope, operator] = index + 1
        if (scope or "<module>", operator, index) == (mutant.scope, mutant.operator, mutant.index):
            _apply(tree, operator, node)
            return ast.fix_missing_locations(tree)
    raise LookupError(f"no such mutant: {mutant.key}")


def _apply(tree: ast.Module, operator: str, node: ast.AST) -> None:
    if operator.startswith("compare"):
        assert isinstance(node, ast.Compare)
        position = int(operator.removeprefix("compare"))
        node.ops[position] = FLIPPED_COMPARISONS[type(node.ops[position])]()
    elif operator == "and-or":
        assert isinstance(node, ast.BoolOp)
        node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
    elif operator == "swap-call":
        assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        node.func.id = SWAPPED_CALLS[node.func.id]
    elif operator == "swap-arith":
        assert isinstance(node, ast.BinOp)
        node.op = SWAPPED_ARITHMETIC[type(node.op)]()
    elif operator == "flip-return":
        assert isinstance(node, ast.Return) and node.value is not None
        node.value = ast.UnaryOp(op=ast.Not(), operand=copy.deepcopy(node.value))
    else:
        _replace(tree, node, operator)


def _replace(tree: ast.Module, node: ast.AST, operator: str) -> None:
    """Replace a statement (raise, call) by ``pass``, or ``not x`` by ``x``."""
    replacement: ast.AST = ast.Pass()
    if operator == "drop-not":
        assert isinstance(node, ast.UnaryOp)
        replacement = node.operand
    for parent in ast.walk(tree):
        for field, value in ast.iter_fields(parent):
            if isinstance(value, list) and any(item is node for item in value):
                value[[item is node for item in value].index(True)] = replacement
                return
            if value is node:
                setattr(parent, field, replacement)
                return
    raise LookupError(f"cannot apply {operator}")
