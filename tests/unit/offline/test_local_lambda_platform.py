"""The demo's stand-in for the platform (offline/local_lambda_platform.py): whatever the handler does, even
failing to import, Lambda's and API Gateway's own metrics are recorded, as the services would."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from offline.local_lambda_platform import (
    IMPORT_ERROR,
    NOT_INVOKED,
    THROTTLED,
    TIMED_OUT,
    LocalLambdaPlatform,
)
from shared import metric_catalogue as mc
from tests.fakes.moto_server import MotoServer
from tests.support import FakeLambdaContext, http_api_event

FUNCTION = "AIGatewayTokenMetrics-ChatbotFunction"
API = "a1b2c3"
HANDLERS = {
    "answers": 'def handler(event, context):\n    return {"statusCode": 200, "body": "{}"}\n',
    "refuses": 'def handler(event, context):\n    return {"statusCode": 429, "body": "{}"}\n',
    "raises": 'def handler(event, context):\n    raise RuntimeError("boom")\n',
    "layered": (
        "import sampledep\n\n"
        'def handler(event, context):\n    return {"statusCode": 200, "body": sampledep.X}\n'
    ),
}


@pytest.fixture
def handlers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A code root with one package of small handlers and a 'layer' package they may import."""
    package = tmp_path / "sample"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for name, code in HANDLERS.items():
        (package / f"{name}.py").write_text(code)
    (tmp_path / "sampledep.py").write_text('X = "from the layer"\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in [n for n in sys.modules if n == "sample" or n.startswith("sample.") or n == "sampledep"]:
        del sys.modules[name]


@pytest.fixture
def cloudwatch(aws: MotoServer) -> Any:
    return boto3.client("cloudwatch", endpoint_url=aws.endpoint)


def _platform(cloudwatch: Any, handler: str) -> LocalLambdaPlatform:
    return LocalLambdaPlatform(cloudwatch, handler=handler, function_name=FUNCTION, api_id=API)


def _event(at: datetime) -> dict[str, Any]:
    return http_api_event({"message": "hi"}, time_epoch_ms=int(at.timestamp() * 1000))


def _recorded(platform: LocalLambdaPlatform) -> dict[str, float]:
    return {datum["MetricName"]: datum["Value"] for _, datum in platform.recorded}


@pytest.mark.parametrize(
    ("handler", "status", "errors", "client", "server"),
    [("answers", 200, 0.0, 0.0, 0.0), ("refuses", 429, 0.0, 1.0, 0.0), ("raises", 500, 1.0, 0.0, 1.0)],
)
def test_given_a_handler_outcome_when_invoked_then_lambda_and_api_gateway_metrics_are_recorded(
    cloudwatch: Any, handlers: Path, handler: str, status: int, errors: float, client: float, server: float
) -> None:
    platform = _platform(cloudwatch, f"sample/{handler}.handler")

    invocation = platform.invoke(_event(datetime.now(UTC)), FakeLambdaContext())

    recorded = _recorded(platform)
    assert invocation.status == status
    assert (invocation.error is not None) == bool(errors)
    assert recorded[mc.LAMBDA_INVOCATIONS.name] == 1.0
    assert recorded[mc.LAMBDA_ERRORS.name] == errors
    assert recorded[mc.API_COUNT.name] == 1.0
    assert (recorded[mc.API_4XX.name], recorded[mc.API_5XX.name]) == (client, server)
    assert recorded[mc.API_LATENCY.name] > recorded[mc.API_INTEGRATION_LATENCY.name] >= 0


def test_given_a_handler_that_raises_when_invoked_then_api_gateway_answers_its_own_500(
    cloudwatch: Any, handlers: Path
) -> None:
    invocation = _platform(cloudwatch, "sample/raises.handler").invoke(_event(datetime.now(UTC)), None)

    assert invocation.body == '{"message": "Internal Server Error"}'
    assert invocation.error == "RuntimeError: boom"


def test_given_a_cold_start_without_the_layer_when_invoked_then_the_import_fails_as_the_runtime_reports_it(
    cloudwatch: Any, handlers: Path
) -> None:
    platform = _platform(cloudwatch, "sample/layered.handler")
    warm = platform.invoke(_event(datetime.now(UTC)), None)  # imported once: the layer was there
    module = sys.modules["sample.layered"]

    failed = platform.invoke(_event(datetime.now(UTC)), None, cold=True, missing_modules=("sampledep",))

    assert warm.status == 200 and warm.body == "from the layer"
    assert failed.status == 500
    assert (
        failed.error
        == f"{IMPORT_ERROR}: Unable to import module 'sample/layered': No module named 'sampledep'"
    )
    # The process is as it was: the same handler module, the layer importable again.
    assert sys.modules["sample.layered"] is module
    assert sys.modules["sample"].layered is module  # type: ignore[attr-defined]
    assert "sampledep" in sys.modules
    assert platform.invoke(_event(datetime.now(UTC)), None, cold=True).status == 200


def test_given_the_chatbot_without_its_powertools_layer_when_cold_started_then_it_fails_before_any_emf(
    cloudwatch: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from chatbot import chatbot_handler

    platform = _platform(cloudwatch, "chatbot/chatbot_handler.handler")

    invocation = platform.invoke(
        _event(datetime.now(UTC)), FakeLambdaContext(), cold=True, missing_modules=("aws_lambda_powertools",)
    )

    assert invocation.status == 500
    assert invocation.error == (
        f"{IMPORT_ERROR}: Unable to import module 'chatbot/chatbot_handler': "
        "No module named 'aws_lambda_powertools'"
    )
    assert "_aws" not in capsys.readouterr().out  # no EMF document: our code never ran
    assert _recorded(platform)[mc.LAMBDA_ERRORS.name] == 1.0
    assert sys.modules["chatbot.chatbot_handler"] is chatbot_handler
    assert "aws_lambda_powertools" in sys.modules


def test_given_recorded_invocations_when_flushed_then_cloudwatch_has_them_at_the_requests_time(
    cloudwatch: Any, handlers: Path
) -> None:
    platform = _platform(cloudwatch, "sample/raises.handler")
    received = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=30)
    for seconds in (0, 20, 40):
        platform.invoke(_event(received + timedelta(seconds=seconds)), None)

    written = platform.flush()

    assert written == 3 * 8 and platform.recorded == []
    for definition, dims in (
        (mc.LAMBDA_ERRORS, [{"Name": mc.DIM_FUNCTION_NAME, "Value": FUNCTION}]),
        (
            mc.API_5XX,
            [{"Name": mc.DIM_API_ID, "Value": API}, {"Name": mc.DIM_STAGE, "Value": mc.DEFAULT_STAGE}],
        ),
    ):
        (point,) = cloudwatch.get_metric_statistics(
            Namespace=definition.namespace,
            MetricName=definition.name,
            Dimensions=dims,
            StartTime=received,
            EndTime=received + timedelta(minutes=5),
            Period=300,
            Statistics=["Sum", "SampleCount"],
        )["Datapoints"]
        assert (point["Sum"], point["SampleCount"]) == (3.0, 3.0)


@pytest.mark.parametrize(
    ("fault", "timeout", "status", "expected"),
    [
        (THROTTLED, 150.0, 500, {mc.LAMBDA_THROTTLES.name: 1.0}),
        (
            TIMED_OUT,
            150.0,
            503,
            {
                mc.LAMBDA_INVOCATIONS.name: 1.0,
                mc.LAMBDA_ERRORS.name: 1.0,
                mc.LAMBDA_DURATION.name: 150000.0,
                mc.API_INTEGRATION_LATENCY.name: 30000.0,
            },
        ),
        (
            TIMED_OUT,
            10.0,
            500,
            {
                mc.LAMBDA_ERRORS.name: 1.0,
                mc.LAMBDA_DURATION.name: 10000.0,
                mc.API_INTEGRATION_LATENCY.name: 10000.0,
            },
        ),
        (NOT_INVOKED, 150.0, 500, {}),
    ],
)
def test_given_a_platform_fault_when_invoked_then_the_handler_never_runs_and_the_services_record_it(
    cloudwatch: Any, handlers: Path, fault: str, timeout: float, status: int, expected: dict[str, float]
) -> None:
    platform = LocalLambdaPlatform(
        cloudwatch,
        handler="sample/raises.handler",
        function_name=FUNCTION,
        api_id=API,
        timeout_seconds=timeout,
    )

    invocation = platform.invoke(_event(datetime.now(UTC)), None, fault=fault)

    recorded = _recorded(platform)
    assert invocation.status == status
    assert invocation.error != "RuntimeError: boom"  # the handler (which raises) was never called
    assert (recorded[mc.API_COUNT.name], recorded[mc.API_5XX.name], recorded[mc.API_4XX.name]) == (
        1.0,
        1.0,
        0.0,
    )
    assert {k: v for k, v in recorded.items() if k in expected} == expected
    lambda_names = {
        datum["MetricName"] for ns, datum in platform.recorded if ns == mc.LAMBDA_ERRORS.namespace
    }
    assert lambda_names == {k for k in expected if k != mc.API_INTEGRATION_LATENCY.name} | (
        {mc.LAMBDA_INVOCATIONS.name} if fault == TIMED_OUT else set()
    )


def test_given_a_timeout_when_invoked_then_the_error_is_lambdas_own_message(
    cloudwatch: Any, handlers: Path
) -> None:
    platform = LocalLambdaPlatform(
        cloudwatch, handler="sample/answers.handler", function_name=FUNCTION, api_id=API, timeout_seconds=150
    )

    invocation = platform.invoke(_event(datetime.now(UTC)), None, fault=TIMED_OUT)

    assert invocation.error == "Task timed out after 150.00 seconds"
    assert invocation.body == '{"message": "Service Unavailable"}'
    with pytest.raises(ValueError, match="unknown platform fault"):
        platform.invoke(_event(datetime.now(UTC)), None, fault="gremlins")
