"""No AWS client is built at import time; the first request builds each one, later requests reuse it. The
import loads only what the handler uses."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_given_fresh_interpreter_when_handlers_imported_then_no_client_built() -> None:
    code = (
        "import chatbot.chatbot_handler, collectors.launchdarkly_collector, collectors.perf_collector, "
        "collectors.flashback_collector\n"
        "from shared import aws_clients\n"
        "assert aws_clients.client.cache_info().currsize == 0, aws_clients.client.cache_info()\n"
        "print('ok')\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": f"{ROOT / 'lambdas'}{os.pathsep}{ROOT}",
        "POWERTOOLS_TRACE_DISABLED": "1",
    }
    result = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith("ok")


def test_given_active_tracing_when_the_handler_is_imported_then_only_botocore_is_patched_no_boto3() -> None:
    # The chatbot's only I/O is botocore's: patching every library X-Ray knows (requests, httplib, the
    # database drivers) costs import time for nothing; boto3 adds nothing the clients use (aws_clients).
    code = (
        "import sys, chatbot.chatbot_handler as h\n"
        "assert not h.tracer.disabled\n"
        "loaded = [m for m in ('boto3', 'requests', 'aws_xray_sdk.ext.httplib', 'aws_xray_sdk.ext.sqlite3')"
        " if m in sys.modules]\n"
        "print(loaded, 'aws_xray_sdk.ext.botocore' in sys.modules)\n"
    )
    env = {
        **{k: v for k, v in os.environ.items() if k != "POWERTOOLS_TRACE_DISABLED"},
        "PYTHONPATH": f"{ROOT / 'lambdas'}{os.pathsep}{ROOT}",
        "LAMBDA_TASK_ROOT": str(ROOT / "lambdas"),
    }
    result = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "[] True"
