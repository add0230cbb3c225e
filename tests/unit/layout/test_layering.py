"""The layering of the code: lambdas < infra < tools < offline < bench; no import runs back up.

lambdas/ ships as the Lambdas' code: its packages import none of the repository's other directories,
and the chatbot and the collectors share only `shared`. infra/ (the CDK app) reads the Lambdas' names
(catalogue, table schema, settings), never the commands, the offline run or the benchmark. tools/ (the
product's commands) runs against any account, so it needs none of the local stand-ins; offline/ (the
product on this machine: stand-ins, demo) uses the commands and the loopback fakes of tests/fakes; the
benchmark may use everything below it. tests/ is on top.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.layout.sources import REPO, first_party_imports, layer_of, python_files

# layer -> the first-party packages it must not import.
FORBIDDEN: dict[str, frozenset[str]] = {
    "shared": frozenset({"chatbot", "collectors", "infra", "tools", "bench", "tests", "lambdas"}),
    "chatbot": frozenset({"collectors", "infra", "tools", "bench", "tests", "lambdas"}),
    "collectors": frozenset({"chatbot", "infra", "tools", "bench", "tests", "lambdas"}),
    "infra": frozenset({"tools", "offline", "bench", "tests", "lambdas"}),
    "tools": frozenset({"offline", "bench", "tests", "lambdas"}),
    "offline": frozenset({"bench", "lambdas"}),
    "bench": frozenset({"lambdas"}),
}
CHECKED = ("lambdas", "infra", "tools", "offline", "bench")


def violations(*directories: str, root: Path = REPO) -> list[str]:
    found = []
    for path in python_files(*directories, root=root):
        forbidden = FORBIDDEN.get(layer_of(path, root), frozenset())
        for imported in first_party_imports(path):
            if imported.package in forbidden:
                name = path.relative_to(root).as_posix()
                found.append(f"{name}:{imported.line} imports {imported.module}")
    return found


def test_given_an_import_running_back_up_when_scanned_then_it_is_reported(tmp_path: Path) -> None:
    module = tmp_path / "lambdas" / "collectors" / "bad.py"
    module.parent.mkdir(parents=True)
    module.write_text(
        "def f():\n    from tools.report import main\n\nimport infra.config\nimport shared.env\n"
    )

    assert sorted(violations("lambdas", root=tmp_path)) == [
        "lambdas/collectors/bad.py:2 imports tools.report",
        "lambdas/collectors/bad.py:4 imports infra.config",
    ]


@pytest.mark.parametrize("directory", CHECKED)
def test_given_the_repository_when_imports_are_scanned_then_none_runs_back_up(directory: str) -> None:
    assert violations(directory) == []
