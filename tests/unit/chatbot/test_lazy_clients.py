"""No AWS client is built at import time; the first request builds each one, later requests reuse it."""

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
