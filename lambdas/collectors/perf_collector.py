"""Perf collector Lambda (EventBridge Scheduler target). Thin: the run is `collectors.perf.collect`.

Entry point `handler`. Configuration, metrics and the exactly-once rules: see `collectors.perf` and
`collectors.common.runner`. Clients (HTTP pool, boto3) are built on first use, never at import.
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from collectors import perf
from collectors.common.runner import run_collector
from shared.env import logger_level
from shared.metric_catalogue import SOURCE_PERF

# A broken POWERTOOLS_LOG_LEVEL must not fail the import: the run reports it (collectors.common.runner).
logger = Logger(
    service=os.environ.get("POWERTOOLS_SERVICE_NAME") or "perf-collector",
    level=logger_level(os.environ),
)


@logger.inject_lambda_context(log_event=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return run_collector(SOURCE_PERF, event, context, logger, perf.collect)
