"""What a provisioning run is asked for, and what it reports."""

from __future__ import annotations

from dataclasses import dataclass, field

from opencode_proxy.caps import Budgets


@dataclass(frozen=True, kw_only=True)
class Allow:
    """Who may sign in: Access group names, emails, email domains, or (asked for
    explicitly) everyone."""

    groups: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    everyone: bool = False


@dataclass(frozen=True, kw_only=True)
class Inputs:
    account_id: str
    hostname: str
    gateway_id: str
    allow: Allow
    worker: str  # wrangler.toml's `name`
    public_paths: tuple[str, ...]
    collect_logs: bool = True
    session_duration: str = "24h"
    # The gateway providers the Worker forwards to with a stored key (BYOK).
    byok_providers: tuple[str, ...] = ()
    # config-src's spend caps, made AI Gateway policies.
    budgets: Budgets = field(default_factory=Budgets)


@dataclass
class Report:
    """What a run found and did: one line per change, what waits for a deploy, and the
    values wrangler.toml needs."""

    changes: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)
    kv_ids: dict[str, str] = field(default_factory=dict)
    variables: dict[str, str] = field(default_factory=dict)
