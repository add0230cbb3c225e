"""The independent scanners (docs/security.md) on what this suite already built: checkov's CloudFormation
checks on both synthesized templates (the session synth, so `make test` synthesizes once) and bandit on
the Lambdas and the CDK app. `make scan` runs the same two on their own, after a `cdk synth`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.infra.conftest import ROOT, Assembly

CHECKOV = ROOT / ".venv-scan" / "bin" / "checkov"  # its own venv: checkov pins an older boto3 than ours
BANDIT = Path(sys.executable).parent / "bandit"


def _run(command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - fixed arguments
        command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False
    )


def test_given_both_templates_when_checkov_scans_them_then_no_check_fails(assembly: Assembly) -> None:
    assert CHECKOV.exists(), f"{CHECKOV} is missing: `make install` builds .venv-scan (requirements-scan.txt)"
    templates = sorted(assembly.outdir.glob("*.template.json"))
    assert {t.name for t in templates} >= {"AIGatewayTokenMetrics.template.json"}, templates

    files = [arg for template in templates for arg in ("-f", str(template))]
    # --skip-download: no look-up on checkov's platform, the scan stays offline.
    result = _run([str(CHECKOV), "--framework", "cloudformation", "--skip-download", "--compact", *files])

    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "Failed checks: 0" in result.stdout and "Passed checks:" in result.stdout, result.stdout[-2000:]


def test_given_the_lambdas_and_the_app_when_bandit_scans_them_then_it_finds_nothing() -> None:
    result = _run([str(BANDIT), "-c", "pyproject.toml", "-q", "-r", "lambdas", "infra"])

    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
