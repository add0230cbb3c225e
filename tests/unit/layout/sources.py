"""The repository's Python sources as the layout tests see them: files per top-level directory, their
line counts, the first-party packages each imports and the string constants each spells."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
# lambdas/ holds one code root whose packages (chatbot, collectors, shared) are imported without a prefix.
LAMBDA_PACKAGES = ("chatbot", "collectors", "shared")
TOP_LEVEL = ("infra", "tools", "offline", "bench", "tests")
FIRST_PARTY = (*LAMBDA_PACKAGES, *TOP_LEVEL, "lambdas")


def python_files(*directories: str, root: Path = REPO) -> Iterator[Path]:
    """Every .py file under the directories (caches skipped), sorted."""
    for directory in directories:
        for path in sorted((root / directory).rglob("*.py")):
            if "__pycache__" not in path.parts:
                yield path


def layer_of(path: Path, root: Path = REPO) -> str:
    """`chatbot`, `collectors` or `shared` for a Lambda module, else its top-level directory."""
    parts = path.relative_to(root).parts
    return parts[1] if parts[0] == "lambdas" and len(parts) > 2 else parts[0]


@dataclass(frozen=True, slots=True)
class Import:
    module: str  # as written, e.g. tools.metric_reader
    line: int

    @property
    def package(self) -> str:
        return self.module.split(".", 1)[0]


def first_party_imports(path: Path) -> list[Import]:
    """Absolute imports of first-party packages anywhere in the file (function-level ones included)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module]
        else:
            continue
        found += [Import(m, node.lineno) for m in modules if m.split(".", 1)[0] in FIRST_PARTY]
    return found


def docstring_nodes(tree: ast.AST) -> set[int]:
    """ids of the module, class and function docstring constants of a tree."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def string_constants(path: Path) -> Iterator[tuple[int, str]]:
    """(line, value) of every string constant that is not a docstring (f-string parts included)."""
    tree = ast.parse(path.read_text(), str(path))
    docstrings = docstring_nodes(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            yield node.lineno, node.value
