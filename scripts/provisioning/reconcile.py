"""What the Worker needs in a Cloudflare account, compared with what is there.

One pass per run: each resource is read, compared with what it should be, and (when
applying) changed at once, so a later step can use what an earlier one made (the
Access application's AUD). Every resource is found by a key that survives a run
that died midway (KV by title, the gateway by id, Access applications by name and
domain, secrets and the custom domain by name), so a run after a failed one
converges without duplicates. Settings it does not manage are read back and kept.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable
from typing import Any

from . import policies
from .cloud import Cloud, ProvisionError
from .plan import Inputs, Report

KV_BINDINGS = ("CATALOG", "USERS")
# Fields a gateway must be created with; an update sends back what it read.
GATEWAY_DEFAULTS = {
    "cache_invalidate_on_update": False,
    "cache_ttl": 0,
    "rate_limiting_interval": 0,
    "rate_limiting_limit": 0,
}
PENDING = "(created by apply)"
# The Worker's secrets that are API tokens an operator makes (this token cannot).
SECRET_TOKENS = {
    "GATEWAY_TOKEN": "the gateway's authentication token (an API token with AI Gateway: Run)",
    "WORKERS_AI_TOKEN": "an API token with Workers AI: Read",
}


class Reconciler:
    def __init__(
        self,
        cloud: Cloud,
        inputs: Inputs,
        *,
        apply: bool,
        gateway_token: str | None,
        workers_ai_token: str | None = None,
        new_key: Callable[[], str] = lambda: secrets.token_urlsafe(32),
    ) -> None:
        self.cloud, self.inputs, self.apply = cloud, inputs, apply
        self._gateway_token = gateway_token
        self._workers_ai_token = workers_ai_token
        self._new_key = new_key
        self._apps: list[dict[str, Any]] = []
        self._gateway_existed = False
        self.report = Report()

    def _change(self, line: str, write: Callable[[], Any]) -> Any:
        self.report.changes.append(line)
        return write() if self.apply else None

    def run(self) -> Report:
        wanted = policies.wanted(self.inputs.worker, self.inputs.budgets)  # before any change
        self._namespaces()
        self._gateway()
        self._policies(wanted)
        self.report.variables["ACCESS_TEAM_DOMAIN"] = self.cloud.team_domain()
        include = self._include()
        self._apps = self.cloud.apps()
        self._main_app(include)
        self._public_apps()
        self._worker()
        inputs = self.inputs
        self.report.variables["AI_GATEWAY_ID"] = inputs.gateway_id
        self.report.variables["PUBLIC_ORIGIN"] = f"https://{inputs.hostname}"
        return self.report

    def _namespaces(self) -> None:
        existing = {ns["title"]: ns for ns in self.cloud.namespaces()}
        for binding in KV_BINDINGS:
            title = f"{self.inputs.worker}-{binding}"
            found = existing.get(title)
            if found is None:
                found = self._change(
                    f"+ KV namespace {title}", functools.partial(self.cloud.create_namespace, title)
                )
            self.report.kv_ids[binding] = found["id"] if found else PENDING

    def _gateway(self) -> None:
        inputs = self.inputs
        managed = {"authentication": True, "byok_only": True, "collect_logs": inputs.collect_logs}
        found = self.cloud.gateway(inputs.gateway_id)
        self._gateway_existed = found is not None
        stored = self.cloud.provider_keys(inputs.gateway_id) if found is not None else set()
        if missing := [p for p in inputs.byok_providers if p not in stored]:
            self.report.waiting.append(
                f"AI Gateway {inputs.gateway_id} stores no provider key for "
                f"{', '.join(missing)}: add each under AI Gateway > {inputs.gateway_id} > "
                "Provider Keys before the first request (BYOK only is on, so a request "
                "without one fails)"
            )
        if found is None:
            fields = {**GATEWAY_DEFAULTS, **managed}
            self._change(
                f"+ AI Gateway {inputs.gateway_id}: authentication on, BYOK only, "
                f"logs {'on' if inputs.collect_logs else 'off'}",
                lambda: self.cloud.put_gateway(inputs.gateway_id, fields, exists=False),
            )
            return
        self._undo_drift(
            f"AI Gateway {inputs.gateway_id}",
            found,
            managed,
            lambda fields: self.cloud.put_gateway(inputs.gateway_id, fields, exists=True),
        )

    def _policies(self, wanted: list[dict[str, Any]]) -> None:
        """The gateway's policies for config-src's caps: made in order (the no-limit one
        first), changed where they drifted, ours no longer wanted removed (the no-limit
        one last); policies not named by provisioning are left alone."""
        api = policies.GatewayPolicies(self.cloud, self.inputs.gateway_id)
        start = policies.prefix(self.inputs.worker)
        found = api.list() if self._gateway_existed else []
        mine = {str(p.get("name")): p for p in found if str(p.get("name", "")).startswith(start)}
        for want in wanted:
            name, have = want["name"], mine.pop(want["name"], None)
            if have is None:
                line = f"+ AI Gateway policy {name}: {policies.describe(want)}"
                self._change(line, functools.partial(api.create, want))
            elif drift := policies.differs(have, want):
                line = f"~ AI Gateway policy {name}: {policies.describe(want)}"
                self._change(line, functools.partial(api.update, str(have["id"]), drift))
        for have in sorted(mine.values(), key=policies.allows_all):
            self._change(
                f"- AI Gateway policy {have.get('name')}: no longer in config-src's budgets",
                functools.partial(api.delete, str(have["id"])),
            )

    def _include(self) -> list[dict[str, Any]]:
        allow = self.inputs.allow
        if not (allow.groups or allow.emails or allow.domains or allow.everyone):
            raise ProvisionError(
                "say who may sign in: --allow-group, --allow-email or --allow-domain "
                "(--allow-everyone only if you mean every identity your IdP knows)"
            )
        include: list[dict[str, Any]] = []
        if allow.groups:
            ids = {g.get("name"): g.get("id") for g in self.cloud.access_groups()}
            for name in allow.groups:
                if name not in ids:
                    raise ProvisionError(f"no Access group is named {name!r}")
                include.append({"group": {"id": ids[name]}})
        include += [{"email": {"email": email}} for email in allow.emails]
        include += [{"email_domain": {"domain": domain}} for domain in allow.domains]
        if allow.everyone:
            include.append({"everyone": {}})
        return include

    def _apps_named(self, name: str, domain: str) -> dict[str, Any] | None:
        found = [a for a in self._apps if a.get("name") == name and a.get("domain") == domain]
        if len(found) > 1:
            ids = ", ".join(str(a.get("id")) for a in found)
            raise ProvisionError(
                f"{len(found)} Access applications are named {name!r} on {domain} ({ids}): "
                "delete or rename all but one, then run again"
            )
        return found[0] if found else None

    def _app(self, name: str, domain: str) -> dict[str, Any] | None:
        found = self._apps_named(name, domain)
        wanted = {
            "destinations": [{"type": "public", "uri": domain}],
            "session_duration": self.inputs.session_duration,
        }
        if found is None:
            fields = {"name": name, "domain": domain, "type": "self_hosted", **wanted}
            created: dict[str, Any] | None = self._change(
                f"+ Access application {name} ({domain})", lambda: self.cloud.create_app(fields)
            )
            return created
        self._undo_drift(
            f"Access application {name} ({domain})",
            found,
            wanted,
            lambda fields: self.cloud.update_app(found["id"], fields),
        )
        return found

    def _undo_drift(
        self,
        what: str,
        found: dict[str, Any],
        wanted: dict[str, Any],
        update: Callable[[dict[str, Any]], None],
    ) -> None:
        """One change that sets back the `wanted` fields `found` no longer has; an update
        replaces the object, so what is not ours is sent back as it was read."""
        drift = {k: v for k, v in wanted.items() if found.get(k) != v}
        if drift:
            said = ", ".join(f"{k} {found.get(k)} -> {v}" for k, v in drift.items())
            self._change(f"~ {what}: {said}", functools.partial(update, {**found, **drift}))

    def _unmanaged_app_on(self, domain: str, name: str) -> None:
        """Stop when an application not made by provisioning protects `domain`: a second
        one would leave Access to choose between them."""
        for app in self._apps:
            uris = {str(d.get("uri")) for d in app.get("destinations") or [] if d.get("uri")}
            if app.get("name") != name and (app.get("domain") == domain or domain in uris):
                raise ProvisionError(
                    f"the Access application {app.get('name')!r} ({app.get('id')}) already "
                    f"protects {domain}: rename it to {name!r} for provisioning to adopt it "
                    "(its settings are then managed here), or delete it, then run again"
                )

    def _policy(self, app: dict[str, Any] | None, name: str, decision: str, include: Any) -> None:
        """The application's one policy: `name` as wanted; any other is removed, since it
        would let in someone the allow rule does not."""
        policies = self.cloud.policies(app["id"]) if app else []
        for other in (p for p in policies if p.get("name") != name):
            assert app is not None
            self._change(
                f"- Access policy {other.get('name')} on {app['domain']} (not provisioning's: "
                f"{other.get('decision')} {other.get('include')})",
                functools.partial(self.cloud.delete_policy, app["id"], str(other["id"])),
            )
        existing = [p for p in policies if p.get("name") == name]
        wanted = {"name": name, "decision": decision, "include": include}
        if existing and all(existing[0].get(k) == v for k, v in wanted.items()):
            return
        where = app["domain"] if app else "the new application"
        policy_id = existing[0]["id"] if existing else None
        fields = {**existing[0], **wanted} if existing else wanted  # keep what is not ours
        self._change(
            f"{'~' if existing else '+'} Access policy {name} on {where}: {decision} {include}",
            lambda: self.cloud.put_policy(app["id"] if app else "", fields, policy_id),
        )

    def _main_app(self, include: list[dict[str, Any]]) -> None:
        worker, hostname = self.inputs.worker, self.inputs.hostname
        self._unmanaged_app_on(hostname, worker)
        app = self._app(worker, hostname)
        self._policy(app, f"{worker} allow", "allow", include)
        self.report.variables["ACCESS_AUD"] = app["aud"] if app else PENDING

    def _public_apps(self) -> None:
        worker, hostname = self.inputs.worker, self.inputs.hostname
        prefix = f"{worker} public "
        wanted = {f"{hostname}{path}" for path in self.inputs.public_paths}
        for domain in sorted(wanted):
            app = self._app(prefix + domain.removeprefix(hostname), domain)
            self._policy(app, f"{worker} bypass", "bypass", [{"everyone": {}}])
        for app in self._apps:
            name, domain = str(app.get("name", "")), str(app.get("domain", ""))
            if name.startswith(prefix) and domain.startswith(hostname) and domain not in wanted:
                self._change(
                    f"- Access application {name} ({domain}): no longer a public path",
                    functools.partial(self.cloud.delete_app, app["id"]),
                )

    def _worker(self) -> None:
        worker, hostname = self.inputs.worker, self.inputs.hostname
        if worker not in self.cloud.scripts():
            self.report.waiting.append(
                f"the Worker {worker} is not deployed yet: its secrets and the custom domain "
                "follow once `npx wrangler deploy` has run; then run apply again"
            )
            return
        present = self.cloud.secret_names(worker)
        if "USER_ID_KEY" not in present:
            self._change(
                "+ secret USER_ID_KEY (generated; never rotated)",
                lambda: self.cloud.put_secret(worker, "USER_ID_KEY", self._new_key()),
            )
        for name, value in (
            ("GATEWAY_TOKEN", self._gateway_token),
            ("WORKERS_AI_TOKEN", self._workers_ai_token),
        ):
            if name not in present:
                put = functools.partial(self._put_secret_from_environment, name, value)
                self._change(f"+ secret {name} (from the environment)", put)
        domain = self.cloud.domain(hostname)
        if domain is not None and domain.get("service") != worker:
            raise ProvisionError(
                f"custom domain {hostname} is attached to the Worker {domain.get('service')!r}: "
                "detach it there (Workers & Pages > that Worker > Settings > Domains & "
                "Routes) or choose another hostname, then run again"
            )
        if domain is None:
            self._change(f"+ custom domain {hostname} -> Worker {worker}", self._put_domain)

    def _put_secret_from_environment(self, name: str, value: str | None) -> None:
        if not value:
            raise ProvisionError(
                f"{name} is not set: create {SECRET_TOKENS[name]} and export it as {name} "
                "for this run"
            )
        self.cloud.put_secret(self.inputs.worker, name, value)

    def _put_domain(self) -> None:
        zone = self.cloud.zone_of(self.inputs.hostname)
        self.cloud.put_domain(self.inputs.hostname, self.inputs.worker, str(zone["id"]))
