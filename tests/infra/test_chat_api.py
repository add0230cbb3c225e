"""The chat API construct: HTTP API, chatbot function, response cache and the chatbot's IAM."""

from __future__ import annotations

import json
from typing import Any

from chatbot.platform_limits import BEDROCK_CONNECT_TIMEOUT_SECONDS
from infra.config import DEFAULTS
from shared.table_schema import CACHE_PARTITION_KEY, CACHE_TTL_ATTRIBUTE, USAGE_TABLE_ACTIONS
from tests.infra.conftest import Synth, render


def _chatbot(synth: Synth) -> dict[str, Any]:
    functions = synth.resources("AWS::Lambda::Function").values()
    return next(
        f["Properties"] for f in functions if f["Properties"]["Handler"] == "chatbot/chatbot_handler.handler"
    )


def _chatbot_statements(synth: Synth) -> list[dict[str, Any]]:
    for name, policy in synth.resources("AWS::IAM::Policy").items():
        if name.startswith("ChatApiChatbotFunctionRole"):
            return policy["Properties"]["PolicyDocument"]["Statement"]
    raise AssertionError("no chatbot policy")


def test_given_default_config_when_synthesized_then_chat_route_requires_iam(default: Synth) -> None:
    default.template.has_resource_properties(
        "AWS::ApiGatewayV2::Route", {"RouteKey": "POST /chat", "AuthorizationType": "AWS_IAM"}
    )
    default.template.resource_count_is("AWS::ApiGatewayV2::Route", 1)
    default.template.has_resource_properties(
        "AWS::ApiGatewayV2::Integration", {"IntegrationType": "AWS_PROXY", "PayloadFormatVersion": "2.0"}
    )


def test_given_default_config_when_synthesized_then_stage_throttles_and_writes_json_access_logs(
    default: Synth,
) -> None:
    stage = default.one("AWS::ApiGatewayV2::Stage")

    assert stage["StageName"] == "$default"
    assert stage["DefaultRouteSettings"] == {
        "ThrottlingRateLimit": DEFAULTS["api"]["throttle_rate_limit"],
        "ThrottlingBurstLimit": DEFAULTS["api"]["throttle_burst_limit"],
    }
    log_format = json.loads(stage["AccessLogSettings"]["Format"])
    assert log_format["requestId"] == "$context.requestId"
    assert log_format["caller"] == "$context.identity.userArn"
    log_group = stage["AccessLogSettings"]["DestinationArn"]["Fn::GetAtt"][0]
    assert (
        default.json["Resources"][log_group]["Properties"]["RetentionInDays"]
        == DEFAULTS["log_retention_days"]
    )


def test_given_default_config_when_synthesized_then_chatbot_runs_python314_arm64_with_powertools_and_tracing(
    default: Synth,
) -> None:
    chatbot = _chatbot(default)

    assert chatbot["Runtime"] == "python3.14"
    assert chatbot["Architectures"] == ["arm64"]
    assert chatbot["MemorySize"] == DEFAULTS["chatbot"]["memory_mb"]
    assert chatbot["Timeout"] == DEFAULTS["chatbot"]["timeout_seconds"]
    assert chatbot["TracingConfig"] == {"Mode": "Active"}
    assert [render(layer) for layer in chatbot["Layers"]] == [
        "arn:aws:lambda:${AWS::Region}:017000801446:layer:AWSLambdaPowertoolsPythonV3-python314-arm64:38"
    ]
    log_group = chatbot["LoggingConfig"]["LogGroup"]["Ref"]
    assert default.json["Resources"][log_group]["Properties"]["RetentionInDays"] == 30


def test_given_default_config_when_synthesized_then_chatbot_timeout_exceeds_the_bedrock_retry_budget(
    default: Synth,
) -> None:
    chatbot = _chatbot(default)
    env = chatbot["Environment"]["Variables"]
    attempts, read_timeout = int(env["BEDROCK_MAX_ATTEMPTS"]), int(env["BEDROCK_READ_TIMEOUT_SECONDS"])

    # Every attempt times out (the client's 3 s connect + read) and every back-off is botocore's longest.
    assert (
        chatbot["Timeout"]
        >= attempts * (BEDROCK_CONNECT_TIMEOUT_SECONDS + read_timeout) + (attempts - 1) * 20
    )
    assert BEDROCK_CONNECT_TIMEOUT_SECONDS == 3


def test_given_default_config_when_synthesized_then_chatbot_environment_matches_the_contract(
    default: Synth,
) -> None:
    env = _chatbot(default)["Environment"]["Variables"]

    assert set(env) == {
        "MODEL_ID",
        "ALLOWED_MODEL_IDS",
        "CACHE_TABLE_NAME",
        "CACHE_TTL_SECONDS",
        "MAX_MESSAGE_CHARS",
        "MAX_BODY_BYTES",
        "MODEL_PRICES",
        "BEDROCK_MAX_ATTEMPTS",
        "BEDROCK_READ_TIMEOUT_SECONDS",
        "USAGE_TABLE_NAME",
        "CALLER_LIMITS",
        "LIMITS_FAIL_MODE",
        "ANSWER_DEADLINE_SECONDS",
        "POWERTOOLS_SERVICE_NAME",
        "POWERTOOLS_LOG_LEVEL",
        "POWERTOOLS_TRACER_CAPTURE_RESPONSE",
        "POWERTOOLS_TRACER_CAPTURE_ERROR",
    }
    assert env["MODEL_ID"] == DEFAULTS["models"]["default"]
    assert env["ALLOWED_MODEL_IDS"].split(",") == DEFAULTS["models"]["allowed"]
    cache_table = next(k for k in default.resources("AWS::DynamoDB::Table") if k.startswith("ChatApiCache"))
    assert env["CACHE_TABLE_NAME"] == {"Ref": cache_table}
    assert env["CACHE_TTL_SECONDS"] == "86400"
    assert env["MAX_MESSAGE_CHARS"] == "8000"
    assert env["MAX_BODY_BYTES"] == "65536"
    assert json.loads(env["MODEL_PRICES"]) == DEFAULTS["models"]["prices"]
    assert env["POWERTOOLS_SERVICE_NAME"] == "chatbot"
    assert env["POWERTOOLS_LOG_LEVEL"] == "INFO"
    # No answer or error text in X-Ray (Powertools Tracer captures both by default).
    assert (env["POWERTOOLS_TRACER_CAPTURE_RESPONSE"], env["POWERTOOLS_TRACER_CAPTURE_ERROR"]) == (
        "false",
        "false",
    )


def test_given_default_config_when_synthesized_then_the_chatbot_settings_parser_accepts_its_environment(
    default: Synth,
) -> None:
    from chatbot.settings import settings_from_env

    env = {
        k: v if isinstance(v, str) else "cache-table"
        for k, v in _chatbot(default)["Environment"]["Variables"].items()
    }
    settings = settings_from_env(env)

    assert settings.model_id == DEFAULTS["models"]["default"]
    assert set(settings.model_prices) == set(DEFAULTS["models"]["allowed"])


def test_given_default_config_when_synthesized_then_cache_table_is_on_demand_with_ttl_and_pitr(
    default: Synth,
) -> None:
    default.template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "KeySchema": [{"AttributeName": CACHE_PARTITION_KEY, "KeyType": "HASH"}],
            "BillingMode": "PAY_PER_REQUEST",
            "TimeToLiveSpecification": {"AttributeName": CACHE_TTL_ATTRIBUTE, "Enabled": True},
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "SSESpecification": {"SSEEnabled": True},
        },
    )


def test_given_default_config_when_synthesized_then_chatbot_may_only_get_and_put_cache_items_and_meter_usage(
    default: Synth,
) -> None:
    statements = [s for s in _chatbot_statements(default) if any("dynamodb:" in a for a in _actions(s))]
    tables = default.resources("AWS::DynamoDB::Table")
    cache_table = next(k for k in tables if k.startswith("ChatApiCache"))
    usage_table = next(k for k in tables if k.startswith("ChatApiUsage"))

    assert sorted(statements, key=json.dumps) == sorted(
        [
            {
                "Action": ["dynamodb:GetItem", "dynamodb:PutItem"],
                "Effect": "Allow",
                "Resource": {"Fn::GetAtt": [cache_table, "Arn"]},
            },
            {
                "Action": sorted(USAGE_TABLE_ACTIONS),
                "Effect": "Allow",
                "Resource": {"Fn::GetAtt": [usage_table, "Arn"]},
            },
        ],
        key=json.dumps,
    )


def test_given_default_config_when_synthesized_then_bedrock_is_limited_to_the_configured_models(
    default: Synth,
) -> None:
    (bedrock,) = [s for s in _chatbot_statements(default) if s.get("Sid") == "InvokeConfiguredModels"]

    assert bedrock["Action"] == "bedrock:InvokeModelWithResponseStream"
    base = "arn:${AWS::Partition}:bedrock"
    assert sorted(render(r) for r in bedrock["Resource"]) == sorted(
        [
            f"{base}:${{AWS::Region}}:${{AWS::AccountId}}:inference-profile/us.anthropic.claude-sonnet-4-5-20250929-v1:0",
            f"{base}:*::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0",
            f"{base}:${{AWS::Region}}:${{AWS::AccountId}}:inference-profile/us.anthropic.claude-haiku-4-5-20251001-v1:0",
            f"{base}:*::foundation-model/anthropic.claude-haiku-4-5-20251001-v1:0",
            f"{base}:${{AWS::Region}}::foundation-model/amazon.nova-lite-v1:0",
        ]
    )


def test_given_a_global_profile_when_synthesized_then_its_profile_and_models_in_any_region_are_allowed(
    custom: Synth,
) -> None:
    (bedrock,) = [s for s in _chatbot_statements(custom) if s.get("Sid") == "InvokeConfiguredModels"]
    resources = {render(r) for r in bedrock["Resource"]}

    assert (
        "arn:${AWS::Partition}:bedrock:${AWS::Region}:${AWS::AccountId}:inference-profile/"
        "global.anthropic.claude-sonnet-4-5-20250929-v1:0"
    ) in resources
    assert (
        "arn:${AWS::Partition}:bedrock:*::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0"
        in resources
    )
    assert (
        "arn:${AWS::Partition}:bedrock:${AWS::Region}::foundation-model/amazon.titan-text-lite-v1"
        in resources
    )


def test_given_a_model_without_price_when_synthesized_then_model_prices_omits_it(custom: Synth) -> None:
    env = _chatbot(custom)["Environment"]["Variables"]

    assert json.loads(env["MODEL_PRICES"]) == {
        "global.anthropic.claude-sonnet-4-5-20250929-v1:0": {"input_per_1k": 0.003, "output_per_1k": 0.015}
    }


def test_given_default_config_when_synthesized_then_code_asset_excludes_caches(default: Synth) -> None:
    chatbot = _chatbot(default)
    asset = default.outdir / f"asset.{chatbot['Code']['S3Key'].removesuffix('.zip')}"

    assert (asset / "chatbot" / "chatbot_handler.py").is_file()
    assert (asset / "shared" / "metric_catalogue" / "__init__.py").is_file()
    assert not list(asset.rglob("__pycache__"))


def _actions(statement: dict[str, Any]) -> list[str]:
    actions = statement["Action"]
    return [actions] if isinstance(actions, str) else actions


def test_given_a_reserved_concurrency_when_synthesized_then_the_chatbot_can_never_take_more(
    default: Synth, custom: Synth
) -> None:
    # A flood of requests stops at the chatbot's own reservation; the account's other functions keep theirs.
    assert _chatbot(default)["ReservedConcurrentExecutions"] == DEFAULTS["chatbot"]["reserved_concurrency"]
    assert _chatbot(custom)["ReservedConcurrentExecutions"] == 50
