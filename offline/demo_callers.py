"""Who sends the demo's chat traffic: IAM users and assumed-role sessions, as an IAM-authorized HTTP API
tells the function (payload 2.0 `requestContext.authorizer.iam`), and the demo's own limits.

The caller is the `userArn` of that block (contract "Callers"): an IAM user's ARN, or an assumed role's
session ARN (`arn:aws:sts::<account>:assumed-role/<role>/<session>`), so every session is its own caller.
The runaway agent loop is one such session. Ids and keys have the documented shapes (`AIDA...` user ids
and `AKIA...` long-term keys for users, `AROA...:<session>` and `ASIA...` temporary keys for sessions)
and are made up.
"""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass
from typing import Any

ACCOUNT = "123456789012"  # the account tests/support.py's events come from
ORG = "o-a1b2c3d4e5"


@dataclass(frozen=True, slots=True)
class Caller:
    arn: str
    unique_id: str  # AIDA... for a user, AROA... for a role
    access_key: str

    @property
    def session(self) -> str | None:
        return self.arn.rsplit("/", 1)[1] if ":assumed-role/" in self.arn else None

    def authorizer(self) -> dict[str, Any]:
        """`requestContext.authorizer` of a SigV4-signed request to an HTTP API route with IAM auth."""
        caller_id = f"{self.unique_id}:{self.session}" if self.session else self.unique_id
        return {
            "iam": {
                "accessKey": self.access_key,
                "accountId": ACCOUNT,
                "callerId": caller_id,
                "cognitoIdentity": None,
                "principalOrgId": ORG,
                "userArn": self.arn,
                "userId": caller_id,
            }
        }


def _user(name: str, unique: str, key: str) -> Caller:
    return Caller(f"arn:aws:iam::{ACCOUNT}:user/{name}", unique, key)


def _session(role: str, session: str, unique: str, key: str) -> Caller:
    return Caller(f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session}", unique, key)


ALICE = _user("alice", "AIDAEXAMPLEALICE00001", "AKIAEXAMPLEALICE0001")
BOB = _user("bob", "AIDAEXAMPLEBOB0000002", "AKIAEXAMPLEBOB000002")
CAROL = _session(
    "AWSReservedSSO_DataScience_0123456789abcdef",
    "carol@example.com",
    "AROAEXAMPLESSO000003",
    "ASIAEXAMPLESSO000003",
)
SUPPORT_BOT = _session("support-bot", "ticket-triage", "AROAEXAMPLEBOT000004", "ASIAEXAMPLEBOT000004")
# The runaway agent loop: one assumed-role session of the agent runner's role.
RUNAWAY = _session("agent-runner", "nightly-refactor-loop", "AROAEXAMPLEAGENT0005", "ASIAEXAMPLEAGENT0005")
# Everyday traffic, with how often each caller asks (the loop only sends the spike).
EVERYDAY: tuple[tuple[Caller, int], ...] = ((ALICE, 4), (BOB, 2), (CAROL, 3), (SUPPORT_BOT, 5))
CALLERS: tuple[Caller, ...] = (*(caller for caller, _ in EVERYDAY), RUNAWAY)

# The demo's limits: the default's day caps for everyone, and the runaway session capped at 1,000,000
# tokens a day, which its 45 prompts of ~47,000 tokens pass about two thirds of the way through (the
# approaching-limit alarm at 80% first, then 429s). A day window, not an hour: the replayed hour may
# straddle a clock hour, a day only right after midnight UTC.
RUNAWAY_DAY_TOKENS = 1_000_000
DEMO_CALLER_LIMITS: dict[str, Any] = {"callers": {RUNAWAY.arn: {"day_tokens": RUNAWAY_DAY_TOKENS}}}


def everyday_callers(count: int, seed: int) -> list[Caller]:
    """Who sends each of `count` everyday requests (its own random stream: the plan's stays unchanged)."""
    rng = random.Random(seed * 7919 + 1)
    callers, weights = zip(*EVERYDAY, strict=True)
    return rng.choices(callers, weights=weights, k=count)


def with_demo_limits(context: dict[str, Any]) -> dict[str, Any]:
    """The cdk.json overrides of `context` plus the demo's caller limits (`chatbot.caller_limits`)."""
    merged = copy.deepcopy(context)
    chatbot = merged.setdefault("aigateway", {}).setdefault("chatbot", {})
    chatbot["caller_limits"] = copy.deepcopy(DEMO_CALLER_LIMITS)
    return merged
