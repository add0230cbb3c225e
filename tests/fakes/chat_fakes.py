"""In-memory stand-ins for the chatbot's dependencies (cache, Bedrock client, clock) for fast tests."""

from __future__ import annotations

from typing import Any

from chatbot.cache import CachedAnswer, CacheUnavailable


class MemoryCache:
    def __init__(self, *, read_fails: bool = False, write_fails: bool = False) -> None:
        self.items: dict[str, CachedAnswer] = {}
        self.read_fails, self.write_fails = read_fails, write_fails

    def get(self, key: str) -> CachedAnswer | None:
        if self.read_fails:
            raise CacheUnavailable("down")
        return self.items.get(key)

    def put(self, key: str, model_id: str, answer: CachedAnswer) -> None:
        if self.write_fails:
            raise CacheUnavailable("down")
        self.items[key] = answer


class ScriptedBedrock:
    """A converse_stream that returns pre-decoded events (what botocore yields) or raises."""

    def __init__(self, events: list[dict[str, Any]] | None = None, error: Exception | None = None) -> None:
        self.events, self.error, self.calls = events or [], error, 0

    def converse_stream(self, **request: Any) -> dict[str, Any]:
        self.calls += 1
        if self.error:
            raise self.error
        return {"stream": iter(self.events)}


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        self.now += 0.010  # every reading is 10 ms later
        return self.now


class ManualClock:
    """A clock that reads what the test set last (`clock.now = ...`)."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now
