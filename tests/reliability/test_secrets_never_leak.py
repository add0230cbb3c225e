"""No secret value ever leaves the process: not in logs, EMF, errors, metrics or checkpoints.

Distinctive tokens are planted in (moto's) Secrets Manager and in the fakes (`lab.PLANTED`); each
collector runs its success path and every failure path (vendor 401/403 whose body even echoes the
credential back, 503 for the whole run, timeout, malformed JSON, a secret that cannot be read, a
crash in the vendor module) with its logger at DEBUG. Everything printed (Powertools' JSON lines, EMF),
every log record, every return value and exception (with its causes), every CloudWatch dimension and every
checkpoint item is scanned for the tokens. The chatbot gets the same treatment with a SigV4
`Authorization` header, a session token and AWS credentials planted. The template is scanned in
`tests/infra/test_security.py`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from shared import metric_catalogue as mc
from tests.reliability.lab import CHECKPOINT_TABLE, PLANTED, Lab, captured_output
from tests.reliability.scenarios import Harness, Invocation, fb_grow, fb_setup, scenario

SIGNATURE = "5ec2e7519a7u2e0f5197bb0e4a1c0ffee5ec2e7519a7u2e0f5197bb0e4a1c0ff"
SESSION_TOKEN = "IQoJb3JpZ2luX2VjEPL4NTEDs3ss10nT0k3n/////wEaCXVzLWVhc3QtMSJHMEUCIQ"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/PL4NTEDs3cr3tK3y00000"


def _all_text(value: Any) -> str:
    """An exception with its causes and context, or any object's repr."""
    parts = []
    seen: set[int] = set()
    while isinstance(value, BaseException) and id(value) not in seen:
        seen.add(id(value))
        parts.append(
            f"{type(value).__name__}: {value!s} {value!r} {vars(value) if hasattr(value, '__dict__') else ''}"
        )
        value = value.__cause__ or value.__context__
    parts.append(repr(value))
    return "\n".join(parts)


def _leaks(text: str, secrets: list[str]) -> list[str]:
    found = []
    for secret in secrets:
        for probe in {secret, secret[:16], secret[-16:], json.dumps(secret)[1:-1]}:
            if probe in text:
                found.append(probe)
    return found


@pytest.fixture
def debug_logs() -> Iterator[None]:
    """Every product logger at DEBUG for the test (Powertools Logger objects and their std loggers)."""
    from chatbot import chatbot_handler
    from collectors import flashback_collector, launchdarkly_collector, perf_collector

    loggers = [
        m.logger for m in (chatbot_handler, launchdarkly_collector, perf_collector, flashback_collector)
    ]
    levels = [lg.log_level for lg in loggers]
    for lg in loggers:
        lg.setLevel("DEBUG")
    # moto's server runs in this process: its own DEBUG chatter is not the product's output.
    stand_ins = [logging.getLogger(name) for name in ("moto", "werkzeug")]
    stand_in_levels = [lg.level for lg in stand_ins]
    for std in stand_ins:
        std.setLevel(logging.WARNING)
    yield
    for lg, level in zip(loggers, levels, strict=True):
        lg.setLevel(level)
    for std, std_level in zip(stand_ins, stand_in_levels, strict=True):
        std.setLevel(std_level)


def _echo_credentials(harness: Harness, fake: Any) -> None:
    """The fake answers 401 with a body that quotes the Authorization header it received."""
    from tests.fakes.vendor_base import Response

    def echo(method: str, path: str, query: Any, headers: Any) -> Any:
        credential = headers.get("authorization", "")
        return Response(401, json.dumps({"message": f"invalid credential {credential!r}"}).encode())

    harness.case.mp.setattr(fake, "_route", echo)
    harness.case.mp.setattr(fake, "_authorized", lambda headers: True)  # reach the echoing route


FAULTS: dict[str, Callable[[Harness, Any, str], None]] = {
    "success": lambda h, fake, source: None,
    "wrong token (401/403)": lambda h, fake, source: _wrong_token(h, source),
    "error body echoes the credential": lambda h, fake, source: _echo_credentials(h, fake),
    "5xx for the whole run": lambda h, fake, source: fake.fail_always(503),
    "timeout": lambda h, fake, source: h.case.delay(fake, 1.3, times=2),
    "malformed JSON": lambda h, fake, source: fake.malformed_next(times=20),
    "secret unreadable": lambda h, fake, source: h.case.mp.setenv(
        {
            "launchdarkly": "LAUNCHDARKLY_API_TOKEN_SECRET_ARN",
            "perf": "PERF_API_KEY_SECRET_ARN",
            "flashback": "FLASHBACK_API_KEY_SECRET_ARN",
        }[source],
        h.case.arns[source] + "-missing",
    ),
    "crash in the vendor module": lambda h, fake, source: _crash_parser(h, source),
}


def _wrong_token(harness: Harness, source: str) -> None:
    from collectors.common import secrets

    harness.case.put_secret(source, PLANTED[source][::-1])  # a wrong token that is a secret too
    secrets.clear_cache()


def _crash_parser(harness: Harness, source: str) -> None:
    target = {
        "launchdarkly": "collectors.launchdarkly.ai_config_datapoints",
        "perf": "collectors.perf.map_gauges",
        "flashback": "collectors.flashback.increments",
    }[source]

    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("parser exploded")

    harness.case.mp.setattr(target, boom)


@pytest.mark.usefixtures("debug_logs")
@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("source", ["launchdarkly", "perf", "flashback"])
def test_given_planted_tokens_when_a_collector_runs_any_path_then_no_token_appears_anywhere(
    lab: Lab, source: str, fault: str, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level("DEBUG", logger=None)
    secrets = [*PLANTED.values(), *(token[::-1] for token in PLANTED.values())]
    with scenario(lab, source, f"secrets: {fault}") as h:
        fake = {"launchdarkly": lab.ld, "perf": lab.perf, "flashback": lab.fb}[source]
        if source == "flashback":
            fb_setup(h)
            with captured_output():
                h.invoke("flashback")  # a baseline, so the faulted run has increments to publish
            fb_grow(h, 3)
            h.clock.shift(60)
        FAULTS[fault](h, fake, source)
        caplog.clear()  # the set-up (the test's own create_secret calls) is not the product
        capsys.readouterr()
        with captured_output() as out:
            result: Invocation = h.invoke(source)
        surfaces = {
            "stdout, stderr and log lines": out.getvalue(),
            "captured by pytest": capsys.readouterr().out + capsys.readouterr().err,
            "log records": "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records),
            "summary or error": _all_text(result.error) + json.dumps(result.summary, default=str),
            "CloudWatch dimensions": json.dumps(
                [m for ns in mc.COLLECTOR_NAMESPACES for m in _metrics(h, ns)]
            ),
            "checkpoints": json.dumps(h.case.aws("dynamodb").scan(TableName=CHECKPOINT_TABLE)["Items"]),
        }
        assert out.getvalue(), "the run logged something (the scan saw the logs)"
        if fault != "success":
            assert "ERROR" in out.getvalue() or result.failed, f"{fault}: the failure was logged"
        for surface, text in surfaces.items():
            leaks = _leaks(text, secrets)
            where = [line[:300] for line in text.splitlines() if any(leak in line for leak in leaks)][:3]
            assert leaks == [], f"{source}/{fault}: a token leaked into {surface}: {where}"


def _metrics(harness: Harness, namespace: str) -> list[Any]:
    return harness.case.aws("cloudwatch").list_metrics(Namespace=namespace)["Metrics"]


@pytest.mark.usefixtures("debug_logs")
def test_given_signed_requests_and_planted_credentials_when_chatting_any_path_then_nothing_leaks(
    lab: Lab, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    from chatbot import chatbot_handler
    from tests.fakes.bedrock_server import DROP, STREAM_ERROR, THROTTLE, Behavior
    from tests.reliability.lab import MODELS
    from tests.support import FakeLambdaContext, emf_documents, http_api_event

    caplog.set_level("DEBUG", logger=None)
    secrets = [SIGNATURE, SESSION_TOKEN, AWS_SECRET]
    outputs: list[str] = []
    with scenario(
        lab,
        "chatbot",
        "secrets",
        env={"AWS_SECRET_ACCESS_KEY": AWS_SECRET, "AWS_SESSION_TOKEN": SESSION_TOKEN},
    ):
        caplog.clear()
        capsys.readouterr()
        lab.bedrock.script(MODELS[0], Behavior(), Behavior(kind=THROTTLE), Behavior(kind=THROTTLE),
                           Behavior(kind=STREAM_ERROR), Behavior(kind=DROP))  # fmt: skip
        bodies: list[Any] = [
            {"message": "hello"},  # live
            {"message": "hello"},  # cache hit
            {"message": "throttled"},  # 429 after retries
            {"message": "mid-stream"},  # 502
            {"message": "dropped"},  # 502
            {"message": "x", "max_tokens": "many"},  # 400
            "{not json",  # 400
        ]
        for body in bodies:
            event = http_api_event(body)
            event["headers"]["authorization"] = (
                "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261123/us-east-1/execute-api/"
                "aws4_request, SignedHeaders=host;x-amz-date;x-amz-security-token, "
                f"Signature={SIGNATURE}"
            )
            event["headers"]["x-amz-security-token"] = SESSION_TOKEN
            with captured_output() as out:
                response = chatbot_handler.handler(event, FakeLambdaContext())
            outputs += [out.getvalue(), json.dumps(response)]
        outputs.append(json.dumps(emf_documents("\n".join(outputs))))
    outputs += [capsys.readouterr().out, "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)]

    assert any("request failed" in text for text in outputs), "the failure paths were logged"
    assert _leaks("\n".join(outputs), secrets) == []
