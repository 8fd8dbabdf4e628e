"""The state of one account in the Cloudflare API stand-in, and what each route answers,
in the API's own shapes (what the SDK's types parse)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from devstack.api_errors import ApiError
from devstack.gateway_policies import GatewayPolicyRoutes

NOW = "2026-12-01T00:00:00Z"


@dataclass
class Page:
    """A list answer: its items, and `result_info` when the route pages."""

    items: list[dict[str, Any]]
    info: dict[str, int] | None


def _id() -> str:
    return uuid.uuid4().hex


def _page(items: list[dict[str, Any]], query: dict[str, str]) -> Page:
    """One page; a page past the end is empty, which is where the SDK stops."""
    page, per_page = int(query.get("page", 1)), int(query.get("per_page", 20))
    chunk = items[(page - 1) * per_page : page * per_page]
    info = {"page": page, "per_page": per_page, "count": len(chunk), "total_count": len(items)}
    return Page(chunk, info)


@dataclass
class Account(GatewayPolicyRoutes):
    """What one account holds, in the API's own shapes."""

    team: str = "example-team.cloudflareaccess.com"
    namespaces: list[dict[str, Any]] = field(default_factory=list)
    gateways: dict[str, dict[str, Any]] = field(default_factory=dict)
    apps: list[dict[str, Any]] = field(default_factory=list)
    policies: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    groups: list[dict[str, Any]] = field(default_factory=list)
    scripts: dict[str, dict[str, str]] = field(default_factory=dict)  # name -> secrets
    domains: list[dict[str, Any]] = field(default_factory=list)
    zones: list[dict[str, Any]] = field(default_factory=list)
    # Hostnames with a DNS record of their own (a custom domain cannot take them).
    dns_records: set[str] = field(default_factory=set)
    # gateway id -> the providers whose keys it stores (BYOK provider configs).
    provider_keys: dict[str, list[str]] = field(default_factory=dict)
    # gateway id -> its request logs, in the API's shape (LogListResponse).
    logs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # gateway id -> its Policies, staged drafts included (gateway_policies.py).
    gateway_policies: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # Accounts created since 2026-09-24 keep logs about 7 days (AI Gateway's docs).
    log_retention_days: int = 7

    # --- what each route answers: the envelope's result, or a Page -------------------------

    def on_kv_list(self, body: Any, query: dict[str, str]) -> Any:
        return _page(self.namespaces, query)

    def on_kv_create(self, body: Any, query: dict[str, str]) -> Any:
        if any(ns["title"] == body["title"] for ns in self.namespaces):
            raise ApiError(400, 10014, "A namespace with this account ID and title already exists.")
        namespace = {"id": _id(), "title": body["title"], "supports_url_encoding": True}
        self.namespaces.append(namespace)
        return namespace

    def on_gw_get(self, body: Any, query: dict[str, str], gid: str) -> Any:
        if gid not in self.gateways:
            raise ApiError(404, 7002, "Not Found")
        return self.gateways[gid]

    def on_logs(self, body: Any, query: dict[str, str], gid: str) -> Any:
        """A gateway's logs from `start_date` to `end_date` (inclusive), oldest first,
        none older than the retention; 50 to a page at most, as the API allows."""
        if gid not in self.gateways:
            raise ApiError(404, 7002, "Not Found")
        if int(query.get("per_page", 20)) > 50:
            raise ApiError(400, 7001, "per_page must be at most 50")
        kept_since = datetime.now(UTC) - timedelta(days=self.log_retention_days)
        start = datetime.fromisoformat(query.get("start_date", "1970-01-01T00:00:00+00:00"))
        end = datetime.fromisoformat(query.get("end_date", "9999-12-31T00:00:00+00:00"))
        chosen = [
            log
            for log in self.logs.get(gid, [])
            if max(start, kept_since) <= datetime.fromisoformat(log["created_at"]) <= end
        ]
        return _page(sorted(chosen, key=lambda log: log["created_at"]), query)

    def add_dashboard_gateway(self, gid: str) -> dict[str, Any]:
        """A gateway as the dashboard makes one: settings never set read back as null
        (the SDK's AIGatewayGetResponse types cache_ttl and rate_limiting_* Optional)."""
        return self._gw_store(
            gid,
            {
                "cache_invalidate_on_update": False,
                "cache_ttl": None,
                "collect_logs": True,
                "rate_limiting_interval": None,
                "rate_limiting_limit": None,
                "rate_limiting_technique": None,
                "authentication": False,
                "byok_only": False,
            },
            NOW,
        )

    def on_provider_configs(self, body: Any, query: dict[str, str], gid: str) -> Any:
        configs = [
            {
                "id": _id(),
                "alias": "default",
                "default_config": True,
                "gateway_id": gid,
                "modified_at": NOW,
                "provider_slug": slug,
                "secret_id": _id(),
                "secret_preview": "sk-...abcd",
            }
            for slug in self.provider_keys.get(gid, [])
        ]
        return _page(configs, query)

    def on_gw_create(self, body: Any, query: dict[str, str]) -> Any:
        if body["id"] in self.gateways:
            raise ApiError(400, 7001, "A gateway with this id already exists")
        return self._gw_store(body["id"], body, NOW)

    def on_gw_put(self, body: Any, query: dict[str, str], gid: str) -> Any:
        created = self.on_gw_get(body, query, gid)["created_at"]
        return self._gw_store(gid, body, created)  # an update replaces every field

    def _gw_store(self, gid: str, body: dict[str, Any], created: str) -> dict[str, Any]:
        stamp = datetime.now(UTC).isoformat()
        gateway = {
            "id": gid,
            **{k: v for k, v in body.items() if k != "id"},
            "created_at": created,
            "modified_at": stamp,
        }
        self.gateways[gid] = gateway
        return gateway

    def on_org(self, body: Any, query: dict[str, str]) -> Any:
        return {"auth_domain": self.team, "name": self.team.split(".")[0]}

    def on_groups(self, body: Any, query: dict[str, str]) -> Any:
        return _page(self.groups, query)

    def on_apps(self, body: Any, query: dict[str, str]) -> Any:
        return _page(self.apps, query)

    def on_app_create(self, body: Any, query: dict[str, str]) -> Any:
        app = {
            **body,
            "id": str(uuid.uuid4()),
            "aud": uuid.uuid4().hex + uuid.uuid4().hex,
            "created_at": NOW,
            "updated_at": NOW,
        }
        app.setdefault("session_duration", "24h")
        self.apps.append(app)
        self.policies[app["id"]] = []
        return app

    def on_app_put(self, body: Any, query: dict[str, str], app: str) -> Any:
        """An update replaces the application's settings; its id and AUD stay."""
        index = next(i for i, a in enumerate(self.apps) if a["id"] == app)
        kept = {k: self.apps[index][k] for k in ("id", "aud", "created_at")}
        self.apps[index] = {**body, **kept, "updated_at": NOW}
        return self.apps[index]

    def on_app_delete(self, body: Any, query: dict[str, str], app: str) -> Any:
        self.apps = [a for a in self.apps if a["id"] != app]
        self.policies.pop(app, None)
        return {"id": app}

    def on_policies(self, body: Any, query: dict[str, str], app: str) -> Any:
        return _page(self.policies.get(app, []), query)

    def on_policy_create(self, body: Any, query: dict[str, str], app: str) -> Any:
        policy = {**body, "id": str(uuid.uuid4()), "created_at": NOW, "updated_at": NOW}
        self.policies[app].append(policy)
        return policy

    def on_policy_delete(self, body: Any, query: dict[str, str], app: str, pid: str) -> Any:
        self.policies[app] = [p for p in self.policies[app] if p["id"] != pid]
        return {"id": pid}

    def on_policy_put(self, body: Any, query: dict[str, str], app: str, pid: str) -> Any:
        policies = self.policies[app]
        index = next(i for i, p in enumerate(policies) if p["id"] == pid)
        policies[index] = {**body, "id": pid, "created_at": NOW, "updated_at": NOW}
        return policies[index]

    def on_scripts(self, body: Any, query: dict[str, str]) -> Any:
        return Page(
            [{"id": name, "created_on": NOW, "modified_on": NOW} for name in self.scripts],
            None,
        )

    def _known_script(self, script: str) -> dict[str, str]:
        if script not in self.scripts:
            raise ApiError(404, 10007, "This Worker does not exist on your account.")
        return self.scripts[script]

    def on_secrets(self, body: Any, query: dict[str, str], script: str) -> Any:
        names = sorted(self._known_script(script))
        return Page([{"name": name, "type": "secret_text"} for name in names], None)

    def on_secret_put(self, body: Any, query: dict[str, str], script: str) -> Any:
        self._known_script(script)[body["name"]] = body["text"]
        return {"name": body["name"], "type": "secret_text"}

    def on_domains(self, body: Any, query: dict[str, str]) -> Any:
        found = [d for d in self.domains if d["hostname"] == query.get("hostname", d["hostname"])]
        return Page(found, None)

    def on_domain_put(self, body: Any, query: dict[str, str]) -> Any:
        """Attach a custom domain; the API refuses, with 409, a hostname another Worker
        holds (100116) or one that has a DNS record of its own (100117)."""
        zone = next(z for z in self.zones if z["id"] == body["zone_id"])
        hostname = body["hostname"]
        if any(d["hostname"] == hostname and d["service"] != body["service"] for d in self.domains):
            raise ApiError(409, 100116, "Hostname already has an existing Worker attached to it.")
        if hostname in self.dns_records:
            raise ApiError(409, 100117, "Hostname already has an externally managed DNS record.")
        domain = {
            "id": _id(),
            "cert_id": _id(),
            "environment": body.get("environment", "production"),
            "hostname": body["hostname"],
            "service": body["service"],
            "zone_id": zone["id"],
            "zone_name": zone["name"],
        }
        self.domains = [d for d in self.domains if d["hostname"] != body["hostname"]]
        self.domains.append(domain)
        return domain

    def on_zones(self, body: Any, query: dict[str, str]) -> Any:
        found = [z for z in self.zones if z["name"] == query.get("name", z["name"])]
        return _page(found, query)

    def add_zone(self, name: str) -> dict[str, Any]:
        """A zone in the account, shaped as the API lists one."""
        zone = {
            "id": _id(),
            "name": name,
            "account": {"id": "account", "name": "Example"},
            "created_on": NOW,
            "modified_on": NOW,
            "development_mode": 0,
            "meta": {"cdn_only": False},
            "name_servers": ["a.ns.cloudflare.com"],
            "owner": {"id": None, "type": "user"},
            "plan": {"id": "free", "name": "Free"},
            "status": "active",
            "type": "full",
        }
        self.zones.append(zone)
        return zone
