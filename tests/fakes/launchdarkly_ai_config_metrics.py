"""The LaunchDarkly fake's AI Config metrics endpoint and the traffic it serves (see
`launchdarkly_ai_config_model.py` for the model).

AI Config metrics, `GET /api/v2/projects/{projectKey}/ai-configs/{configKey}/metrics?from=&to=&env=`:
`LD-API-Version: beta` is required (else 400). `from`, `to` and `env` are required; `from`/`to` are Unix
MILLISECONDS (official OpenAPI; the seed's "seconds" is wrong), `from` inclusive, `to` exclusive,
`from < to`, at most 100 days apart (else 400). The answer is a flat object of the seed's twelve fields.

`ai_config_time_unit` (`ms`, the official OpenAPI, default; `s`, the seed's snippet) is the unit in which
the metrics endpoint reads `from`/`to`: a server speaking seconds, for configuration-change tests. `reset()`
restores `ms`.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from tests.fakes.launchdarkly_ai_config_model import (
    CYCLE_LENGTH,
    DEFAULT_ACTIVE_FROM_MS,
    AIConfigTraffic,
    Generation,
    metrics_from_sums,
    price_units,
    zero_metrics,
)
from tests.fakes.launchdarkly_common import DAY_MS, UNIT_NAMES, parse_int
from tests.fakes.vendor_base import FakeVendorServer, Response, json_bytes

MAX_METRICS_WINDOW_MS = 100 * DAY_MS


class LaunchDarklyAIConfigMetrics(FakeVendorServer):
    """Registered traffic per (project, config, env) and `GET .../ai-configs/{configKey}/metrics`."""

    def __init__(self, **kwargs: Any) -> None:
        self._ai_configs: dict[tuple[str, str, str], AIConfigTraffic] = {}
        self.ai_config_time_unit = "ms"
        super().__init__(**kwargs)

    def _reset_data(self) -> None:
        self._ai_configs = {}
        self.ai_config_time_unit = "ms"
        super()._reset_data()

    def add_ai_config(
        self,
        project_key: str,
        config_key: str,
        env: str,
        *,
        generations_per_hour: float,
        error_ratio: float = 0.02,
        input_tokens_per_generation: int = 850,
        output_tokens_per_generation: int = 320,
        input_cost_per_1m_tokens: float = 3.0,
        output_cost_per_1m_tokens: float = 15.0,
        duration_ms: int = 1400,
        ttft_ms: int = 380,
        feedback_ratio: float = 0.08,
        thumbs_up_ratio: float = 0.8,
        active_from_ms: int = DEFAULT_ACTIVE_FROM_MS,
        seed: int = 0,
    ) -> AIConfigTraffic:
        """Register traffic for (project, config, env); replaces any previous registration.

        Per generation, tokens, duration and TTFT vary by up to +-40% around the given means (seeded,
        cyclic over `CYCLE_LENGTH` generations); exactly `round(error_ratio * CYCLE_LENGTH)` of each
        cycle fail; `feedback_ratio` of the successes get a thumb, `thumbs_up_ratio` of those up."""
        rng = random.Random(f"{project_key}/{config_key}/{env}/{seed}")
        errors = set(rng.sample(range(CYCLE_LENGTH), min(CYCLE_LENGTH, round(error_ratio * CYCLE_LENGTH))))
        successes = [i for i in range(CYCLE_LENGTH) if i not in errors]
        rated = rng.sample(successes, min(len(successes), round(feedback_ratio * len(successes))))
        ups = set(rated[: round(thumbs_up_ratio * len(rated))])
        downs = set(rated) - ups

        def vary(mean: int) -> int:
            return max(1, round(mean * rng.uniform(0.6, 1.4))) if mean > 0 else 0

        cycle = tuple(
            Generation(
                error=i in errors,
                input_tokens=vary(input_tokens_per_generation),
                output_tokens=0 if i in errors else vary(output_tokens_per_generation),
                duration_ms=vary(duration_ms),
                ttft_ms=vary(ttft_ms),
                thumbs_up=int(i in ups),
                thumbs_down=int(i in downs),
            )
            for i in range(CYCLE_LENGTH)
        )
        gph = (
            Fraction(str(generations_per_hour))
            if isinstance(generations_per_hour, float)
            else Fraction(generations_per_hour)
        )
        traffic = AIConfigTraffic(
            generations_per_hour=gph,
            active_from_ms=active_from_ms,
            cycle=cycle,
            input_price_units=price_units(input_cost_per_1m_tokens),
            output_price_units=price_units(output_cost_per_1m_tokens),
        )
        with self._lock:
            self._ai_configs[(project_key, config_key, env)] = traffic
        return traffic

    def remove_ai_config(self, project_key: str, config_key: str, env: str) -> None:
        with self._lock:
            self._ai_configs.pop((project_key, config_key, env), None)

    @property
    def ai_configs(self) -> list[tuple[str, str, str]]:
        """The registered (project_key, config_key, env) triples."""
        with self._lock:
            return list(self._ai_configs)

    def ai_config_traffic(self, project_key: str, config_key: str, env: str) -> AIConfigTraffic | None:
        with self._lock:
            return self._ai_configs.get((project_key, config_key, env))

    def expected_ai_config_metrics(
        self, project_key: str, config_key: str, env: str, from_ms: int, to_ms: int
    ) -> dict[str, Any]:
        """What the fake answers for this window (the truth a collector test compares against)."""
        traffic = self.ai_config_traffic(project_key, config_key, env)
        if traffic is None or to_ms <= from_ms:
            return zero_metrics()
        first, last = traffic.index_range(from_ms, to_ms)
        return metrics_from_sums(traffic.sums(first, last), traffic)

    def ai_config_generation_instants(
        self, project_key: str, config_key: str, env: str, from_ms: int, to_ms: int
    ) -> list[int]:
        """Unix-ms instants of the generations inside [from_ms, to_ms) (for small windows)."""
        traffic = self.ai_config_traffic(project_key, config_key, env)
        if traffic is None:
            return []
        first, last = traffic.index_range(from_ms, to_ms)
        return [traffic.instant_ms(i) for i in range(first, last)]

    def _ai_config_metrics(
        self, project_key: str, config_key: str, query: dict[str, list[str]], headers: Mapping[str, str]
    ) -> Response:
        if headers.get("ld-api-version") != "beta":
            return self._error(400, "This endpoint is in beta: send the header LD-API-Version: beta")
        bounds: dict[str, int] = {}
        unit = UNIT_NAMES[self.ai_config_time_unit]
        scale = 1000 if self.ai_config_time_unit == "s" else 1
        for name in ("from", "to"):
            raw = self._single(query, name)
            if raw is None or raw == "":
                return self._error(400, f"{name} is required ({unit} since epoch)")
            parsed = parse_int(raw)
            if parsed is None or parsed < 0:
                return self._error(400, f"{name} must be an integer number of {unit} since epoch")
            bounds[name] = parsed * scale
        env = self._single(query, "env")
        if not env:
            return self._error(400, "env is required")
        from_ms, to_ms = bounds["from"], bounds["to"]
        if from_ms >= to_ms:
            return self._error(400, "from must be before to")
        if to_ms - from_ms > MAX_METRICS_WINDOW_MS:
            return self._error(400, "to may not be more than 100 days after from")
        metrics = self.expected_ai_config_metrics(project_key, config_key, env, from_ms, to_ms)
        return Response(200, json_bytes(metrics))

