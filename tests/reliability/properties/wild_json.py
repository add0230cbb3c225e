"""Hypothesis strategies for wild JSON: numbers no decoder agrees on, numeric strings, deep nesting, and
documents with values replaced at any depth. `render` writes them as JSON text, `Raw` tokens verbatim."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st


class Raw(str):
    """A JSON token written verbatim (`1e400`, `-0`, a 1,200-deep `[[[...]]]`)."""


NUMBER_TOKENS = [
    *("1e400", "-1e400", "1e-400", "-0", "0.0", "1E3", "123456789012345678901234567890", "NaN", "Infinity"),
    *("-Infinity", "9007199254740993", "-9007199254740993", "1" + "0" * 400),
]
NUMERIC_STRINGS = ["12", " 7 ", "-5", "+3", "1.5", "1e3", "0x1F", "١٢", "²", "", " ", "NaN", "inf", "12abc",
                   "0" * 30, "9" * 400, "9" * 5000, str(2**53 + 1), str(2**64)]  # fmt: skip

leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.sampled_from([2**53 + 1, 2**64, 10**30, -(10**30), 10**400, -1, 0])
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(NUMERIC_STRINGS)
    | st.sampled_from(NUMBER_TOKENS).map(Raw)
    | st.integers(1, 60).map(lambda depth: Raw("[" * depth + "]" * depth))
)
# Nesting deeper than Python's JSON decoder recurses (about 1000 levels), once per body at most.
deep = st.sampled_from([900, 999, 1000, 3000, 100_000]).map(lambda depth: Raw("[" * depth + "]" * depth))
wild = st.recursive(
    leaves,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=6,
)


def render(value: Any) -> str:
    """JSON text of `value`; `Raw` tokens verbatim, NaN/Infinity as Python's json reads them."""
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k))}:{render(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(render(v) for v in value) + "]"
    return json.dumps(value)


def mutated(document: Any) -> st.SearchStrategy[Any]:
    """`document` with up to four values (at any depth) replaced by wild ones, or keys deleted."""
    paths: list[tuple[Any, ...]] = []

    def walk(node: Any, path: tuple[Any, ...]) -> None:
        paths.append(path)
        if isinstance(node, dict):
            for key, child in node.items():
                walk(child, (*path, key))
        elif isinstance(node, list):
            for index, child in enumerate(node):
                walk(child, (*path, index))

    walk(document, ())

    def apply(edits: list[tuple[tuple[Any, ...], Any, bool]]) -> Any:
        doc = json.loads(json.dumps(document))
        for path, value, delete in edits:
            if not path:
                return value
            parent = doc
            try:
                for step in path[:-1]:
                    parent = parent[step]
                if delete and isinstance(parent, dict):
                    parent.pop(path[-1], None)
                else:
                    parent[path[-1]] = value
            except (KeyError, IndexError, TypeError):
                continue
        return doc

    edit = st.tuples(st.sampled_from(paths), wild, st.booleans())
    return st.lists(edit, min_size=1, max_size=3).map(apply)
