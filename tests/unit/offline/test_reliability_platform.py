"""`make reliability`'s service-alarm and scanner rows (offline/reliability_platform.py): a failure before our
code runs must fire the alarm meant for it in the default template, and a scanner's finding is broken."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest

from offline import reliability_platform as rp
from offline.local_cloudwatch import enable_percentiles
from shared import metric_catalogue as mc
from tests.fakes.moto_server import MotoServer

KINDS = {kind.name: kind for kind in rp.FAILURES}
IMPORT_ERROR, THROTTLES = rp.FAILURES[0], rp.FAILURES[1]


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return rp.default_template()  # cached by content digest after the first synth


@pytest.fixture
def cloudwatch(aws: MotoServer) -> Any:
    enable_percentiles()
    return boto3.client("cloudwatch", endpoint_url=aws.endpoint)


def _without_alarm(template: dict[str, Any], metric: mc.MetricDef) -> dict[str, Any]:
    """The template without the chatbot's alarm on `metric` (the one the failure is meant to fire)."""
    changed = copy.deepcopy(template)
    resources = changed["Resources"]
    (logical,) = [
        lid
        for lid, r in resources.items()
        if r["Type"] == "AWS::CloudWatch::Alarm"
        and str(r["Properties"].get("AlarmName", "")).endswith(f"-Lambda-{metric.name}-chatbot")
    ]
    del resources[logical]
    return changed


@pytest.mark.parametrize("name", list(KINDS))
def test_given_a_failure_before_our_code_when_replayed_then_its_alarms_fire_and_no_emf_is_written(
    cloudwatch: Any, template: dict[str, Any], name: str
) -> None:
    replay = rp.replay_failure(cloudwatch, template, KINDS[name], datetime.now(UTC))

    entry = replay.entry()
    assert entry.broken == 0, entry.detail
    assert replay.emf_documents == 0
    assert entry.inputs == entry.faults == rp.OUTAGE_MINUTES * 3
    assert all(status >= 500 for status in replay.statuses)
    assert any(alarm.endswith("5xx-rate-above-5pct") for alarm in replay.fired), replay.fired


def test_given_the_template_without_the_throttles_alarm_when_lambda_throttles_then_the_row_is_broken(
    cloudwatch: Any, template: dict[str, Any]
) -> None:
    replay = rp.replay_failure(
        cloudwatch, _without_alarm(template, mc.LAMBDA_THROTTLES), THROTTLES, datetime.now(UTC)
    )

    entry = replay.entry()
    assert entry.broken == 1
    assert "AWS/Lambda Throttles (none in the template)" in entry.detail


def test_given_an_errors_alarm_that_cannot_fire_when_the_handler_cannot_be_imported_then_the_row_is_broken(
    cloudwatch: Any, template: dict[str, Any]
) -> None:
    changed = copy.deepcopy(template)
    for resource in changed["Resources"].values():
        if str(resource["Properties"].get("AlarmName", "")).endswith("-Lambda-Errors-chatbot"):
            resource["Properties"]["Threshold"] = 1_000_000

    entry = rp.replay_failure(cloudwatch, changed, IMPORT_ERROR, datetime.now(UTC)).entry()

    assert entry.broken == 1
    assert "check failed: AIGatewayTokenMetrics-Lambda-Errors-chatbot did not fire" in entry.detail


# -- scanners ---------------------------------------------------------------------------------------------
def _checkov(failed: list[dict[str, Any]], skipped: list[str], passed: int = 120) -> str:
    return json.dumps({
        "check_type": "cloudformation",
        "results": {
            "failed_checks": failed,
            "skipped_checks": [{"check_id": c, "resource": "AWS::Lambda::Function.F"} for c in skipped],
        },
        "summary": {"passed": passed, "failed": len(failed), "skipped": len(skipped), "parsing_errors": 0},
    })  # fmt: skip


def test_given_a_clean_checkov_report_then_every_check_is_an_input_and_nothing_is_broken() -> None:
    entry = rp.checkov_entry(_checkov([], ["CKV_AWS_117", "CKV_AWS_116"]), 0, {"CKV_AWS_117", "CKV_AWS_116"})

    assert (entry.inputs, entry.broken) == (122, 0)
    assert entry.figures == ["checkov: 120 passed, 0 failed, 2 skipped (listed in docs/security.md)"]


def test_given_a_checkov_report_with_a_failed_check_then_it_is_broken_and_named() -> None:
    failed = [{"check_id": "CKV_AWS_173", "resource": "AWS::Lambda::Function.ChatbotFunction"}]

    entry = rp.checkov_entry(_checkov(failed, []), 1, set())

    assert (entry.inputs, entry.broken) == (121, 1)
    assert "failed check: CKV_AWS_173 AWS::Lambda::Function.ChatbotFunction" in entry.detail


def test_given_a_skip_the_security_page_does_not_list_then_it_is_broken() -> None:
    entry = rp.checkov_entry(_checkov([], ["CKV_AWS_117", "CKV_AWS_999"]), 0, {"CKV_AWS_117"})

    assert entry.broken == 1
    assert "skip not in docs/security.md: CKV_AWS_999" in entry.detail


def test_given_the_security_page_then_its_listed_skips_are_read() -> None:
    listed = rp._skips_listed(rp.SECURITY_DOC.read_text())

    assert {"CKV_AWS_117", "CKV_AWS_116", "CKV_AWS_27", "CKV_AWS_119"} <= listed


@pytest.mark.parametrize("runner", [rp.checkov_entry, rp.bandit_entry])
def test_given_a_scanner_that_gives_no_json_then_the_row_is_broken_not_a_crash(runner: Any) -> None:
    args = ("Traceback ...\nImportError: no module", 2)
    entry = runner(*args, set()) if runner is rp.checkov_entry else runner(*args)

    assert entry.broken == 1 and "gave no JSON (exit 2): ImportError: no module" in entry.detail


def _bandit(results: list[dict[str, Any]]) -> str:
    metrics = {"_totals": {"loc": 900, "nosec": 0}, "lambdas/a.py": {}, "infra/b.py": {}}
    return json.dumps({"errors": [], "metrics": metrics, "results": results})


def test_given_bandit_reports_then_files_are_inputs_and_each_issue_is_broken() -> None:
    issue = {"test_id": "B602", "filename": "infra/b.py", "line_number": 7, "issue_text": "shell=True"}

    clean, found = rp.bandit_entry(_bandit([]), 0), rp.bandit_entry(_bandit([issue]), 1)

    assert (clean.inputs, clean.broken) == (2, 0)
    assert clean.figures[0].startswith("bandit: 2 files (900 lines) scanned, 0 issues, 0 findings exempted")
    assert (found.inputs, found.broken) == (2, 1)
    assert "issue: B602 infra/b.py:7 shell=True" in found.detail


def test_given_no_scan_venv_when_checkov_runs_then_the_row_says_so_as_broken(tmp_path: Path) -> None:
    entry = rp.run_checkov({"Resources": {}}, checkov=tmp_path / ".venv-scan" / "bin" / "checkov")

    assert entry.broken == 1
    assert "checkov: not run" in entry.figures[0] and ".venv-scan" in entry.figures[0]
