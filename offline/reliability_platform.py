"""`make reliability`'s rows for what watches the product from outside our code: the service alarms and the
independent scanners (sources appended to `offline.reliability_rows.ROWS`).

- "service alarms": each failure that happens before our code runs (the handler cannot be imported, Lambda
  throttles the chatbot, the function times out, API Gateway cannot invoke it) is replayed for
  `OUTAGE_MINUTES` through the platform stand-in (offline/local_lambda_platform.py, the demo's outage code
  in offline/demo_outage.py) on the lab's moto, and the default template's alarms on the chatbot and the
  HTTP API are stepped minute by minute (offline/alarm_eval.py). Broken: an alarm meant for the failure
  that did not fire (or is not in the template), an EMF document written, a request not answered 5xx.
- "scanners": checkov's CloudFormation checks on the same template and bandit on `lambdas/` and
  `infra/`, as `make scan` runs them, read from their JSON. Broken: a failed check, a bandit issue, a
  checkov skip docs/security.md does not list, a scanner that could not run.

The default template is the one `cdk synth` builds from cdk.json's context, synthesized in-process and
cached by content digest (template_resources.synthesize_template).
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from offline.alarm_eval import AlarmEvaluator
from offline.demo_outage import MISSING_LAYER, OUTAGE_MINUTES, chatbot_platform, replay_requests, step_alarms
from offline.local_cloudwatch import enable_percentiles
from offline.local_lambda_platform import NOT_INVOKED, THROTTLED, TIMED_OUT
from offline.reliability_rows import Context, Entry, progress
from offline.template_resources import REPO, TemplateResources, synthesize_template
from shared import metric_catalogue as mc

SERVICE_ALARMS, SCANNERS = "service alarms", "scanners"
CHECKOV = REPO / ".venv-scan" / "bin" / "checkov"
BANDIT = REPO / ".venv" / "bin" / "bandit"
SECURITY_DOC = REPO / "docs" / "security.md"
SCANNER_TIMEOUT_SECONDS = 600


def default_template() -> dict[str, Any]:
    """The stack `cdk synth` builds (cdk.json's context), as tests/infra and `make scan` see it."""
    return synthesize_template(json.loads((REPO / "cdk.json").read_text())["context"])


# -- service alarms ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FailureKind:
    name: str
    failure: dict[str, Any]  # LocalLambdaPlatform.invoke's keywords: missing_modules= or fault=
    meant: tuple[mc.MetricDef, ...]  # an alarm on each of these metrics must fire


FAILURES = (
    FailureKind("handler cannot be imported (layer missing)", {"missing_modules": MISSING_LAYER},
                (mc.LAMBDA_ERRORS, mc.API_5XX)),
    FailureKind("Lambda throttles the chatbot", {"fault": THROTTLED}, (mc.LAMBDA_THROTTLES, mc.API_5XX)),
    FailureKind("the function times out", {"fault": TIMED_OUT},
                (mc.LAMBDA_DURATION, mc.LAMBDA_ERRORS, mc.API_5XX)),
    FailureKind("the API cannot invoke the function", {"fault": NOT_INVOKED}, (mc.API_5XX,)),
)  # fmt: skip


def _alarm_metrics(props: dict[str, Any]) -> set[tuple[str, str, str]]:
    """(namespace, metric name, dimension value) of every metric an alarm reads."""
    stats = [props] if "MetricName" in props else []
    stats += [q["MetricStat"]["Metric"] for q in props.get("Metrics", []) if "MetricStat" in q]
    return {
        (s["Namespace"], s["MetricName"], str(d["Value"])) for s in stats for d in s.get("Dimensions", [])
    }


@dataclass
class AlarmReplay:
    kind: FailureKind
    statuses: dict[int, int] = field(default_factory=dict)
    emf_documents: int = 0
    fired: dict[str, int] = field(default_factory=dict)  # alarm name (short) -> minutes into the failure
    missing: list[str] = field(default_factory=list)  # what should have fired and did not

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    def entry(self) -> Entry:
        bad_statuses = sum(n for status, n in self.statuses.items() if status < 500)
        broken = len(self.missing) + bool(self.emf_documents) + bool(bad_statuses)
        fired = ", ".join(f"{name} at +{minutes} min" for name, minutes in self.fired.items()) or "none"
        detail = (
            f"  {'ok' if not broken else 'FAILED':6}    {SERVICE_ALARMS:20} {self.kind.name:52} requests "
            f"{self.requests:3}  statuses {dict(sorted(self.statuses.items()))}  EMF {self.emf_documents}"
            f"\n            fired: {fired}"
        )
        detail += "".join(f"\n            check failed: {m} did not fire" for m in self.missing)
        if self.emf_documents:
            detail += f"\n            check failed: {self.emf_documents} EMF documents written"
        if bad_statuses:
            detail += f"\n            check failed: {bad_statuses} requests answered below 500"
        return Entry(SERVICE_ALARMS, self.kind.name, inputs=self.requests, faults=self.requests,
                     broken=broken, detail=detail)  # fmt: skip


def replay_failure(
    cloudwatch: Any, template: dict[str, Any], kind: FailureKind, now: datetime
) -> AlarmReplay:
    """Replay `kind` for OUTAGE_MINUTES up to `now` into an empty CloudWatch and step the template's alarms
    on the chatbot and the API through it."""
    resources = TemplateResources(template)
    platform = chatbot_platform(cloudwatch, resources)
    ended = now.replace(second=0, microsecond=0)
    started = ended - timedelta(minutes=OUTAGE_MINUTES)
    invocations, documents = replay_requests(platform, started, OUTAGE_MINUTES, **kind.failure)
    replay = AlarmReplay(kind, emf_documents=documents)
    for invocation in invocations:
        replay.statuses[invocation.status] = replay.statuses.get(invocation.status, 0) + 1

    names = {platform.function_name, platform.api_id}
    alarms = [
        resources.resolve(a["Properties"]) for a in resources.of_type("AWS::CloudWatch::Alarm").values()
    ]
    watching = [props for props in alarms if {value for _, _, value in _alarm_metrics(props)} & names]
    fired = step_alarms(AlarmEvaluator(cloudwatch, started), watching, started, ended)
    fired_names = {result.name for result, _ in fired}
    for result, minute in fired:
        short = result.name.removeprefix(f"{resources.stack_name}-")
        replay.fired[short] = int((minute - started).total_seconds() // 60)
    for metric in kind.meant:
        owner = platform.function_name if metric.namespace == mc.NS_AWS_LAMBDA else platform.api_id
        meant = [
            p["AlarmName"] for p in watching if (metric.namespace, metric.name, owner) in _alarm_metrics(p)
        ]
        if not meant:
            replay.missing.append(f"an alarm on {metric.namespace} {metric.name} (none in the template)")
        elif not fired_names & set(meant):
            replay.missing.append(", ".join(meant))
    return replay


def service_alarms(context: Context) -> Iterator[Entry]:
    import boto3

    kinds = [kind for kind in FAILURES if context.wants(f"{SERVICE_ALARMS} {kind.name}")]
    if not kinds:
        return
    enable_percentiles()  # the API's integration latency alarm reads p99, which moto does not answer itself
    template = default_template()
    moto = context.lab.moto
    for kind in kinds:
        progress(f"platform  {SERVICE_ALARMS}: {kind.name}")
        moto.reset()  # each failure alone in an empty CloudWatch
        cloudwatch = boto3.client("cloudwatch", endpoint_url=moto.endpoint)
        try:
            yield replay_failure(cloudwatch, template, kind, datetime.now(UTC)).entry()
        except Exception as exc:  # a stand-in or evaluator failure is the row's crash, not the table's
            detail = f"  FAILED    {SERVICE_ALARMS:20} {kind.name:52} crashed: {type(exc).__name__}: {exc}"
            yield Entry(SERVICE_ALARMS, kind.name, crashes=1, detail=detail[:600])
    moto.reset()


# -- scanners ---------------------------------------------------------------------------------------------
def _skips_listed(doc: str) -> set[str]:
    return set(re.findall(r"`(CKV2?_[A-Z0-9_]+)`", doc))


def checkov_entry(output: str, returncode: int, listed: set[str]) -> Entry:
    """checkov's `-o json` output (one framework: a dict; several: a list of them) as the row's entry."""
    try:
        data = json.loads(output)
    except json.JSONDecodeError:
        text = output.strip().splitlines()[-1:] or ["no output"]
        detail = f"  FAILED    {SCANNERS:20} checkov gave no JSON (exit {returncode}): {text[0][:200]}"
        return Entry(SCANNERS, "checkov", broken=1, detail=detail, figures=["checkov: did not run"])
    reports = data if isinstance(data, list) else [data]
    passed = failed = skipped = errors = 0
    failures: list[str] = []
    unlisted: set[str] = set()
    for report in reports:
        summary = report.get("summary", {})
        passed += int(summary.get("passed", 0))
        failed += int(summary.get("failed", 0))
        skipped += int(summary.get("skipped", 0))
        errors += int(summary.get("parsing_errors", 0))
        results = report.get("results", {})
        failures += [f"{c['check_id']} {c.get('resource', '')}" for c in results.get("failed_checks", [])]
        unlisted |= {c["check_id"] for c in results.get("skipped_checks", [])} - listed
    broken = failed + errors + len(unlisted)
    figure = f"checkov: {passed} passed, {failed} failed, {skipped} skipped (listed in docs/security.md)"
    detail = (
        f"  {'ok' if not broken else 'FAILED':6}    {SCANNERS:20} {'checkov (CloudFormation)':52} checks "
        f"{passed + failed + skipped}  passed {passed}  failed {failed}  skipped {skipped}  parsing errors "
        f"{errors}"
    )
    detail += "".join(f"\n            failed check: {f}" for f in failures)
    detail += "".join(f"\n            skip not in docs/security.md: {c}" for c in sorted(unlisted))
    if unlisted:
        figure += f"; {len(unlisted)} skipped checks not in docs/security.md"
    return Entry(SCANNERS, "checkov", inputs=passed + failed + skipped, broken=broken, detail=detail,
                 figures=[figure])  # fmt: skip


def bandit_entry(output: str, returncode: int) -> Entry:
    """bandit's `-f json` output as the row's entry: files scanned, issues (each broken), errors."""
    try:
        data = json.loads(output)
    except json.JSONDecodeError:
        text = output.strip().splitlines()[-1:] or ["no output"]
        detail = f"  FAILED    {SCANNERS:20} bandit gave no JSON (exit {returncode}): {text[0][:200]}"
        return Entry(SCANNERS, "bandit", broken=1, detail=detail, figures=["bandit: did not run"])
    metrics = data.get("metrics", {})
    totals = metrics.get("_totals", {})
    files = len([name for name in metrics if name != "_totals"])
    issues = [f"{r['test_id']} {r['filename']}:{r['line_number']} {r['issue_text']}" for r in data["results"]]
    errors = [f"{e.get('filename')}: {e.get('reason')}" for e in data.get("errors", [])]
    broken = len(issues) + len(errors)
    exempted = int(totals.get("nosec", 0)) + int(totals.get("skipped_tests", 0))
    figure = (
        f"bandit: {files} files ({totals.get('loc', 0)} lines) scanned, {len(issues)} issues, "
        f"{exempted} findings exempted on their line "
        "(`# nosec`, each with its reason)"
    )
    detail = (
        f"  {'ok' if not broken else 'FAILED':6}    {SCANNERS:20} {'bandit (lambdas, infra)':52} files "
        f"{files}  issues {len(issues)}  errors {len(errors)}"
    )
    detail += "".join(f"\n            issue: {i}" for i in issues)
    detail += "".join(f"\n            error: {e}" for e in errors)
    return Entry(SCANNERS, "bandit", inputs=files, broken=broken, detail=detail, figures=[figure])


def _missing(name: str, path: Path, how: str) -> Entry:
    said = f"{name}: not run, {path} is missing ({how})"
    return Entry(SCANNERS, name, broken=1, detail=f"  FAILED    {SCANNERS:20} {said}", figures=[said])


def _run(command: list[str]) -> tuple[str, int]:
    done = subprocess.run(  # noqa: S603 - the pinned scanners of `make scan`, fixed arguments, no shell
        command, cwd=REPO, capture_output=True, text=True, timeout=SCANNER_TIMEOUT_SECONDS, check=False
    )
    return done.stdout, done.returncode


def run_checkov(template: dict[str, Any], checkov: Path = CHECKOV) -> Entry:
    if not checkov.is_file():
        return _missing("checkov", checkov, "`make install` creates .venv-scan")
    listed = _skips_listed(SECURITY_DOC.read_text())
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "AIGatewayTokenMetrics.template.json"
        path.write_text(json.dumps(template))
        output, code = _run([str(checkov), "--framework", "cloudformation", "--skip-download", "--compact",
                             "-o", "json", "-f", str(path)])  # fmt: skip
    return checkov_entry(output, code, listed)


def run_bandit(bandit: Path = BANDIT) -> Entry:
    if not bandit.is_file():
        return _missing("bandit", bandit, "`make install` installs it in .venv")
    output, code = _run([str(bandit), "-c", "pyproject.toml", "-q", "-r", "lambdas", "infra", "-f", "json"])
    return bandit_entry(output, code)


def scanners(context: Context) -> Iterator[Entry]:
    if context.wants(f"{SCANNERS} checkov"):
        progress(f"scanner   {SCANNERS}: checkov on the default template")
        yield run_checkov(default_template())
    if context.wants(f"{SCANNERS} bandit"):
        progress(f"scanner   {SCANNERS}: bandit on lambdas/ and infra/")
        yield run_bandit()
