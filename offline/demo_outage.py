"""The demo's failing-gateway story: the chatbot cannot even start, writes no EMF, and still pages.

Before the replayed hour, a deploy shipped the chatbot without its Powertools layer (a bad
`powertools_layer_version`): every cold start fails to import the handler module
(`Runtime.ImportModuleError`), so our code never runs and no EMF document, no ModelErrors, nothing of
ours reaches CloudWatch. Callers get API Gateway's own 500. For `OUTAGE_MINUTES` requests keep coming;
then the deploy is rolled back, and the replayed hour follows.

The stand-in for the platform (offline/local_lambda_platform.py) records what Lambda and API Gateway
would; the local evaluator steps the service alarms on the chatbot and the HTTP API minute by minute
through the outage, as CloudWatch evaluates them, and each one that fires is paged through SNS at the
minute it fired (alarm_notify.page), like the caller alarm of demo_limits.py.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from offline.alarm_eval import AlarmEvaluator, AlarmResult
from offline.alarm_notify import page
from offline.emf import capture_emf
from offline.local_lambda_platform import DEFAULT_TIMEOUT_SECONDS, Invocation, LocalLambdaPlatform
from offline.template_resources import TemplateResources
from offline.traffic import QUESTIONS, chat_event
from tests.support import FakeLambdaContext

OUTAGE_MINUTES = 15
# CloudWatch reads EvaluationPeriods + 2 periods: a 2-of-3 alarm on 5-minute periods holds ALARM until its
# breaching points leave that range, up to 25 minutes after the last failed request.
CLEARS_WITHIN = timedelta(minutes=30)
REQUESTS_PER_MINUTE = 3  # enough for the 5xx rate's floor of 10 requests per five-minute period
ROLLED_BACK_BEFORE_REPLAY = timedelta(minutes=5)
MISSING_LAYER = ("aws_lambda_powertools",)  # what the Powertools layer brings: gone with it
CHATBOT_HANDLER = "chatbot/chatbot_handler.handler"


@dataclass
class OutageStory:
    started_at: datetime
    ended_at: datetime
    invocations: list[Invocation] = field(default_factory=list)
    emf_documents: int = 0
    paged: list[tuple[AlarmResult, datetime]] = field(default_factory=list)  # (first ALARM, its minute)
    cleared: dict[str, datetime] = field(default_factory=dict)  # alarm name -> minute it returned to OK
    seconds: float = 0.0  # how long the story took to replay and evaluate

    def lines(self) -> list[str]:
        def hhmm(moment: datetime | None) -> str:
            return moment.strftime("%H:%M") if moment else "never"

        statuses = sorted({i.status for i in self.invocations})
        errors = sorted({(i.error or "").split(":", 1)[0] for i in self.invocations if i.error})
        lines = [
            "A failing gateway (before the replayed hour): a deploy without the Powertools layer",
            f"  {hhmm(self.started_at)}-{hhmm(self.ended_at)}: {len(self.invocations)} requests, statuses "
            f"{statuses}, function errors {errors}, EMF documents {self.emf_documents} "
            f"(replayed and evaluated in {self.seconds:.1f} s)",
        ]
        example = next((i.error for i in self.invocations if i.error), None)
        if example:
            lines.append(f"  the runtime's error: {example}")
        for result, at in self.paged:
            name = result.name.removeprefix("AIGatewayTokenMetrics-")
            back = self.cleared.get(result.name)
            lines.append(f"  {name}: ALARM at {hhmm(at)} (paged through SNS), OK again at {hhmm(back)}")
        if not self.paged:
            lines.append("  no service alarm fired")
        return lines


def _dimension_values(props: dict[str, Any]) -> set[str]:
    """Every dimension value an alarm's metrics name (top-level form, or each query of `Metrics`)."""
    dimensions = list(props.get("Dimensions", []))
    for query in props.get("Metrics", []):
        dimensions += query.get("MetricStat", {}).get("Metric", {}).get("Dimensions", [])
    return {str(d["Value"]) for d in dimensions}


def watching(resources: TemplateResources, names: set[str]) -> list[dict[str, Any]]:
    """The template's alarms (resolved) on the metrics of the chatbot function or the HTTP API."""
    alarms = (
        resources.resolve(a["Properties"]) for a in resources.of_type("AWS::CloudWatch::Alarm").values()
    )
    return [props for props in alarms if _dimension_values(props) & names]


def chatbot_platform(cloudwatch: Any, resources: TemplateResources) -> LocalLambdaPlatform:
    """The platform stand-in for the template's chatbot function behind its HTTP API (names resolved as
    the template's alarms resolve them, the function's own Timeout)."""
    function_id, function = next(
        (lid, r["Properties"])
        for lid, r in resources.of_type("AWS::Lambda::Function").items()
        if r["Properties"].get("Handler") == CHATBOT_HANDLER
    )
    api_id = next(iter(resources.of_type("AWS::ApiGatewayV2::Api")))
    return LocalLambdaPlatform(
        cloudwatch,
        handler=CHATBOT_HANDLER,
        function_name=str(resources.resolve({"Ref": function_id})),
        api_id=str(resources.resolve({"Ref": api_id})),
        timeout_seconds=float(function.get("Timeout", DEFAULT_TIMEOUT_SECONDS)),
    )


def replay_requests(
    platform: LocalLambdaPlatform, started: datetime, minutes: int, **failure: Any
) -> tuple[list[Invocation], int]:
    """`REQUESTS_PER_MINUTE` chat requests a minute from `started`, each on a new execution environment
    (Lambda retries a failed init each time), failing as `failure` says (`missing_modules=`, `fault=`:
    LocalLambdaPlatform.invoke); the invocations and the EMF documents written, then flushed."""
    invocations, documents = [], 0
    for i in range(minutes * REQUESTS_PER_MINUTE):
        at = started + timedelta(seconds=i * 60 / REQUESTS_PER_MINUTE + 5)
        event = chat_event({"message": QUESTIONS[i % len(QUESTIONS)]}, int(at.timestamp() * 1000))

        def cold_start(event: dict[str, Any] = event) -> Invocation:
            return platform.invoke(event, FakeLambdaContext(), cold=True, **failure)

        invocation, written = capture_emf(cold_start)
        invocations.append(invocation)
        documents += len(written)
    platform.flush()
    return invocations, documents


def step_alarms(
    evaluator: AlarmEvaluator,
    alarms: list[dict[str, Any]],
    started: datetime,
    ended: datetime,
    on_alarm: Callable[[AlarmResult, datetime], object] = lambda result, minute: None,
) -> list[tuple[AlarmResult, datetime]]:
    """Evaluate each alarm minute by minute from `started` to a minute after `ended`, as CloudWatch does;
    (first ALARM, its minute) of each that fires, `on_alarm` called at that minute."""
    pending = {props["AlarmName"]: props for props in alarms}
    fired: list[tuple[AlarmResult, datetime]] = []
    minute = started + timedelta(minutes=1)
    while pending and minute <= ended + timedelta(minutes=1):
        for name, props in list(pending.items()):
            result = evaluator.at(minute).evaluate(name, props)
            if result.state == "ALARM":
                on_alarm(result, minute)
                fired.append((result, minute))
                del pending[name]
        minute += timedelta(minutes=1)
    return fired


def outage_story(
    cloudwatch: Any, sns: Any, resources: TemplateResources, region: str, *, replay_start: datetime
) -> OutageStory:
    """Replay the outage before `replay_start`, step the alarms through it and page those that fire."""
    platform = chatbot_platform(cloudwatch, resources)
    ended = (replay_start - ROLLED_BACK_BEFORE_REPLAY).replace(second=0, microsecond=0)
    started = ended - timedelta(minutes=OUTAGE_MINUTES)
    story = OutageStory(started, ended)
    clock = time.perf_counter()
    story.invocations, story.emf_documents = replay_requests(
        platform, started, OUTAGE_MINUTES, missing_modules=MISSING_LAYER
    )

    evaluator = AlarmEvaluator(cloudwatch, started)
    alarms = watching(resources, {platform.function_name, platform.api_id})
    story.paged = step_alarms(
        evaluator,
        alarms,
        started,
        ended,
        lambda result, minute: page(cloudwatch, sns, result, region, at=minute),
    )
    # After the rollback no request fails: each paged alarm returns to OK (CloudWatch would send OK too).
    for result, _ in story.paged:
        minute = ended + timedelta(minutes=1)
        while minute <= ended + CLEARS_WITHIN:
            if evaluator.at(minute).evaluate(result.name, result.properties).state == "OK":
                story.cleared[result.name] = minute
                break
            minute += timedelta(minutes=1)
    story.seconds = time.perf_counter() - clock
    return story
