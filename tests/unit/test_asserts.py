"""No assert of the checks or tests can never fail: a tuple (always true), or a conditional
expression one of whose branches is a bare value (``assert a == b if c else [...]`` asserts
the list, truthy, when ``c`` is false: a storage check did so)."""

import ast

import pytest

from hastack.defaults import ROOT

FILES = sorted(
    path
    for folder in ("hastack", "tests")
    for path in (ROOT / folder).rglob("*.py")
    if ".venv" not in path.parts
)


def never_failing(test: ast.expr) -> bool:
    if isinstance(test, ast.Tuple):
        return bool(test.elts)
    if isinstance(test, ast.IfExp):
        return any(
            isinstance(branch, ast.Constant | ast.List | ast.Tuple | ast.Dict | ast.Set)
            for branch in (test.body, test.orelse)
        )
    return isinstance(test, ast.Constant) and bool(test.value)


@pytest.mark.parametrize("path", FILES, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_assert_can_fail(path):
    tree = ast.parse(path.read_text(), str(path))
    bad = [
        node.lineno for node in ast.walk(tree) if isinstance(node, ast.Assert) and never_failing(node.test)
    ]
    assert bad == []


def test_the_rule_finds_the_kind_it_is_for():
    source = "assert x == [1] if y else [2]\nassert (a, b), 'message' == (1, 2)\nassert x == 1\n"
    found = [
        node.lineno
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Assert) and never_failing(node.test)
    ]
    assert found == [1, 2]
