"""Run in a fresh interpreter by `bench.cold_start`: import one module, optionally invoke the chatbot once.

Usage: python bench/_probe.py <module> <result.json> [invoke]
Writes {"import_s", "rss_after_import_kb", ["invoke_s", "status", "maxrss_kb"]} (peak RSS, KB) to
<result.json> (stdout belongs to the handler: EMF and logs). Run as a script, not `-m`, so that nothing
but the interpreter itself is loaded before the timed import.
"""

import json
import resource
import sys
import time


def peak_rss_kb() -> int:
    """Peak resident set of this process, in KB.

    Linux's `VmHWM` is the high-water mark of this process's own address space. `getrusage`'s ru_maxrss
    is not usable after fork+exec: exec keeps the forking parent's high-water mark when that is larger
    (a probe started by a 100 MB benchmark process would report at least 100 MB).
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main() -> None:
    module, out = sys.argv[1], sys.argv[2]
    invoke = len(sys.argv) > 3 and sys.argv[3] == "invoke"
    started = time.perf_counter()
    __import__(module)  # the C-level import statement (importtime does not see importlib.import_module)
    loaded = sys.modules[module]
    result: dict[str, object] = {
        "import_s": time.perf_counter() - started,
        "rss_after_import_kb": peak_rss_kb(),
        "modules": len(sys.modules),
    }
    if invoke:
        from tests.support import FakeLambdaContext, http_api_event

        event = http_api_event({"message": "What does a cold start cost in memory?"})
        started = time.perf_counter()
        response = loaded.handler(event, FakeLambdaContext())
        result["invoke_s"] = time.perf_counter() - started
        result["status"] = response.get("statusCode")
        result["maxrss_kb"] = peak_rss_kb()
    with open(out, "w") as handle:
        json.dump(result, handle)


if __name__ == "__main__":
    main()
