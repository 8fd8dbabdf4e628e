"""config-src's spend caps as AI Gateway Policies on the metadata the Worker sends.

Why Policies and not the gateway's spend-limit rules: a Policy's window is a calendar
period in UTC (hourly, daily, weekly from Monday, monthly from the 1st), so the
Worker can say when a cap resets; a spend-limit rule's window is a fixed length
from an unknown start. And Policies let a group's cap take the default's place
(AI Gateway docs, "Policies", "How policies are evaluated"):

- caps whose actors resolve to the same bucket with the same period: the highest
  applies. A group's cap at or above the default uses the default's actor, so it
  raises the default for the group's members;
- every bucket must be under its cap. A group's cap below the default uses an actor
  of its own, so it lowers the default for them (both are checked).

Everything keys on `cf-aig-metadata` (`userId`, `group`), which the Worker sets for
every request and no client can forge. With a first policy the gateway refuses (403)
every request no policy matches, so a no-limit policy for everyone comes with the
caps: the Worker's menu, not the gateway, decides what may be used. A request whose
metadata lacks a key an actor or condition names is not matched by that policy
(people in no group have no group cap).
"""

from __future__ import annotations

from typing import Any

from opencode_proxy.caps import KINDS, PER_GROUP, PER_PERSON, PERIODS, Budgets

from .cloud import GATEWAY_EDIT, Cloud, ProvisionError

# AI Gateway documents 20 spend-limit rules per gateway and no number for policies;
# staying within 20 keeps a setup that works today working if the same limit applies.
MAX_POLICIES = 20
PERSON, GROUP = "user:{metadata.userId}", "group:{metadata.group}"
# Per kind of cap: whose bucket it is, and how its policy's name says so.
_ACTORS = {PER_PERSON: PERSON, PER_GROUP: GROUP}
_WHOSE = {PER_PERSON: "per person", PER_GROUP: "per group"}


def prefix(worker: str) -> str:
    """The start of the name of every policy provisioning makes (and may delete)."""
    return f"{worker} budget: "


def _cap(name: str, actor: str, condition: str, usd: float, period: str) -> dict[str, Any]:
    return {
        "name": name,
        "actor": actor,
        "resource": "*",
        "condition": condition,
        "action": {"type": "limit", "amount": usd, "period": period, "technique": "named-interval"},
    }


def wanted(worker: str, budgets: Budgets) -> list[dict[str, Any]]:
    """The policies `budgets` needs, the no-limit one first (apply creates in this
    order, so no cap is ever live without it); none when there are no caps."""
    if not budgets:
        return []
    start = prefix(worker)
    found: list[dict[str, Any]] = [
        {
            "name": f"{start}everyone may use the gateway",
            "actor": "everyone",
            "resource": "*",
            "condition": "true",
            "action": {"type": "no-limit"},
        }
    ]
    for kind in KINDS:
        actor = _ACTORS[kind]
        for period in PERIODS:
            default = budgets.default.get(kind, {}).get(period)
            if default is not None:
                found.append(
                    _cap(f"{start}{_WHOSE[kind]}, {period}", actor, "true", default, period)
                )
            for group, amounts in sorted(budgets.groups.items()):
                usd = amounts.get(kind, {}).get(period)
                if usd is None:
                    continue
                own = actor if default is None or usd >= default else f"{group}/{actor}"
                found.append(
                    _cap(
                        f"{start}{_WHOSE[kind]}, {period}, group {group}",
                        own,
                        f'metadata.group == "{group}"',
                        usd,
                        period,
                    )
                )
    if len(found) > MAX_POLICIES:
        raise ProvisionError(
            f"config-src's budgets need {len(found)} AI Gateway policies (one per cap, one "
            f"to allow everyone), more than {MAX_POLICIES}: state fewer caps in "
            "config-src/budgets.toml and the groups' [budget] tables"
        )
    return found


def allows_all(policy: dict[str, Any]) -> bool:
    """Whether `policy` is the no-limit one (removed last, so no cap is live without it)."""
    return (policy.get("action") or {}).get("type") == "no-limit"


def differs(found: dict[str, Any], want: dict[str, Any]) -> dict[str, Any]:
    """The fields of `want` that `found` does not have as wanted."""
    return {key: value for key, value in want.items() if found.get(key) != value}


def describe(policy: dict[str, Any]) -> str:
    """One line of `plan`: what the policy does and on whom."""
    action = policy.get("action") or {}
    if action.get("type") != "limit":
        return f"{action.get('type')} for {policy.get('actor')}"
    return (
        f"${action.get('amount'):,.2f} {action.get('period')} per {policy.get('actor')} "
        f"when {policy.get('condition')}"
    )


class GatewayPolicies:
    """A gateway's Policies through the SDK's raw request helper (SDK 5.9 has no
    method for them); every change is committed at once (`?commit=true`), since a
    change without it is only a draft the gateway does not enforce (AI Gateway docs,
    "Policies", "Stage, test, and commit changes")."""

    def __init__(self, cloud: Cloud, gateway_id: str) -> None:
        self._cloud, self._path = cloud, f"ai-gateway/gateways/{gateway_id}/policies"

    def list(self) -> list[dict[str, Any]]:
        found = self._cloud.raw(GATEWAY_EDIT, "get", self._path)
        return [p for p in found if isinstance(p, dict)] if isinstance(found, list) else []

    def create(self, fields: dict[str, Any]) -> None:
        self._cloud.raw(GATEWAY_EDIT, "post", self._path, body=fields, commit=True)

    def update(self, policy_id: str, fields: dict[str, Any]) -> None:
        self._cloud.raw(GATEWAY_EDIT, "put", f"{self._path}/{policy_id}", body=fields, commit=True)

    def delete(self, policy_id: str) -> None:
        self._cloud.raw(GATEWAY_EDIT, "delete", f"{self._path}/{policy_id}")
