"""The demo's template cache: keyed by every input of the synth, so a hit is never a stale template."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from offline import template_resources as tr


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in tr.SYNTH_INPUTS:
        if "." in name:
            (tmp_path / name).write_text(f"{name} v1")
        else:
            (tmp_path / name / "pkg").mkdir(parents=True)
            (tmp_path / name / "pkg" / "module.py").write_text("X = 1\n")
    monkeypatch.setattr(tr, "REPO", tmp_path)
    return tmp_path


def test_given_the_same_inputs_when_keyed_twice_then_the_key_is_the_same(repo: Path) -> None:
    assert tr.synth_key({"a": 1}) == tr.synth_key({"a": 1})


@pytest.mark.parametrize(
    "changed", ["infra/pkg/module.py", "lambdas/pkg/module.py", "cdk.json", "requirements.txt"]
)
def test_given_any_input_file_changed_when_keyed_then_the_key_changes(repo: Path, changed: str) -> None:
    before = tr.synth_key({})
    (repo / changed).write_text("changed")
    assert tr.synth_key({}) != before


def test_given_a_new_lambda_data_file_when_keyed_then_the_key_changes(repo: Path) -> None:
    before = tr.synth_key({})
    (repo / "lambdas" / "pkg" / "prices.json").write_text("{}")  # in the asset, so in the template's hash
    assert tr.synth_key({}) != before


def test_given_bytecode_caches_when_keyed_then_the_key_is_unchanged(repo: Path) -> None:
    before = tr.synth_key({})
    (repo / "lambdas" / "pkg" / "__pycache__").mkdir()
    (repo / "lambdas" / "pkg" / "__pycache__" / "module.cpython-311.pyc").write_bytes(b"\0")
    assert tr.synth_key({}) == before  # excluded from the asset, so from the key


def test_given_another_context_or_region_when_keyed_then_the_key_changes(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = tr.synth_key({"aigateway": {"x": 1}})
    assert tr.synth_key({"aigateway": {"x": 2}}) != before
    monkeypatch.setenv("CDK_DEFAULT_REGION", "eu-west-3")
    assert tr.synth_key({"aigateway": {"x": 1}}) != before


def test_given_a_cached_template_when_synthesizing_then_it_is_read_without_a_synth(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import infra.application

    def no_synth(**_: object) -> None:
        raise AssertionError("synthesized although the template was cached")

    monkeypatch.setattr(infra.application, "create_app", no_synth)
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / f"{tr.synth_key({'k': 1})}.json").write_text(json.dumps({"Resources": {"T": {}}}))

    assert tr.synthesize_template({"k": 1}, cache=cache) == {"Resources": {"T": {}}}
    with pytest.raises(AssertionError, match="synthesized"):
        tr.synthesize_template({"k": 2}, cache=cache)  # another key: a real synth
