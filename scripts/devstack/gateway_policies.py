"""A gateway's Policies in the Cloudflare API stand-in, as AI Gateway's docs describe them
("Policies", "Manage policies with the API"): a change without `?commit=true` is only
a staged draft, listed (with `"staging": true`) only when `includeStaging=true` is
asked, and not enforced; only a committed policy can be updated; an action is checked
(`limit` needs an amount above zero, an `hourly`/`daily`/`weekly`/`monthly` period and
the `named-interval` technique) and a malformed expression answers 400."""

from __future__ import annotations

import uuid
from typing import Any

from devstack.api_errors import ApiError

PERIODS = ("hourly", "daily", "weekly", "monthly")
ACTIONS = ("no-limit", "block", "limit")
_FIELDS = ("name", "actor", "resource", "condition", "action")
STAGED = "staging"
CREATED_AT = 1791244351  # Unix seconds, as the API gives `created_at`


def _balanced(text: str) -> bool:
    """A stand-in's idea of a well-formed expression: quotes closed, brackets paired."""
    depth, quoted = 0, False
    for char in text:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in "({[":
            depth += 1
        elif not quoted and char in ")}]":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0 and not quoted


def _checked(policy: dict[str, Any]) -> dict[str, Any]:
    for name in ("name", "actor", "condition"):
        if not isinstance(policy.get(name), str) or not policy[name]:
            raise ApiError(400, 7001, f"{name} is required")
    for name in ("actor", "condition"):
        if not _balanced(policy[name]):
            raise ApiError(400, 7001, f"{name}: syntax error")
    action = policy.get("action")
    if not isinstance(action, dict) or action.get("type") not in ACTIONS:
        raise ApiError(400, 7001, f"action.type must be one of {', '.join(ACTIONS)}")
    if action["type"] == "limit":
        amount = action.get("amount")
        if isinstance(amount, bool) or not isinstance(amount, int | float) or amount <= 0:
            raise ApiError(400, 7001, "action.amount must be greater than zero")
        if action.get("period") not in PERIODS:
            raise ApiError(400, 7001, f"action.period must be one of {', '.join(PERIODS)}")
        if action.get("technique") != "named-interval":
            raise ApiError(400, 7001, "action.technique must be named-interval")
    return policy


class GatewayPolicyRoutes:
    """What the policy routes answer, over `gateway_policies` (gateway id -> policies,
    drafts included) and `gateways` of the account this is mixed into."""

    gateways: dict[str, dict[str, Any]]
    gateway_policies: dict[str, list[dict[str, Any]]]

    def _policies_of(self, gid: str) -> list[dict[str, Any]]:
        if gid not in self.gateways:
            raise ApiError(404, 7002, "Not Found")
        return self.gateway_policies.setdefault(gid, [])

    def enforced(self, gid: str) -> list[dict[str, Any]]:
        """The committed policies: what the gateway enforces."""
        return [p for p in self.gateway_policies.get(gid, []) if not p.get(STAGED)]

    def on_gw_policies(self, body: Any, query: dict[str, str], gid: str) -> Any:
        found = self._policies_of(gid)
        return found if query.get("includeStaging") == "true" else self.enforced(gid)

    def on_gw_policy_create(self, body: Any, query: dict[str, str], gid: str) -> Any:
        fields = {name: body.get(name) for name in _FIELDS if name in body}
        fields.setdefault("resource", "*")
        policy = {"id": str(uuid.uuid4()), **_checked(fields), "created_at": CREATED_AT}
        policy["updated_at"] = CREATED_AT
        if query.get("commit") != "true":
            policy[STAGED] = True
        self._policies_of(gid).append(policy)
        return {k: v for k, v in policy.items() if k != STAGED}

    def on_gw_policy_put(self, body: Any, query: dict[str, str], gid: str, pid: str) -> Any:
        policies = self._policies_of(gid)
        found = next((p for p in policies if p["id"] == pid and not p.get(STAGED)), None)
        if found is None:
            raise ApiError(404, 7002, "Not Found")
        changed = _checked({**found, **{k: v for k, v in body.items() if k in _FIELDS}})
        if query.get("commit") == "true":
            found.update(changed)
        else:
            policies.append({**changed, STAGED: True})
        return None

    def on_gw_policy_delete(self, body: Any, query: dict[str, str], gid: str, pid: str) -> Any:
        policies = self._policies_of(gid)
        if not any(p["id"] == pid for p in policies):
            raise ApiError(404, 7002, "Not Found")
        self.gateway_policies[gid] = [p for p in policies if p["id"] != pid]
        return None
