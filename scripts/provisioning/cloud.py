"""The Cloudflare API as provisioning uses it, through the pinned SDK (`cloudflare`).

Every call names the token permission it needs, so a token without it fails with
that name instead of an authentication error. Answers come back as plain dicts.
The token is the SDK's own `CLOUDFLARE_API_TOKEN`; `CLOUDFLARE_BASE_URL` points it
at a stand-in. A failed call is never retried here: a run that stops is run again,
and converges.
"""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

import cloudflare
from cloudflare import Cloudflare

T = TypeVar("T")

TOKEN_VARIABLE = "CLOUDFLARE_API_TOKEN"  # noqa: S105 (the variable's name)
KV_EDIT = "Account · Workers KV Storage · Edit"
GATEWAY_EDIT = "Account · AI Gateway · Edit"
ACCESS_APPS_EDIT = "Account · Access: Apps and Policies · Edit"
ACCESS_ORG_READ = "Account · Access: Organizations, Identity Providers, and Groups · Read"
SCRIPTS_EDIT = "Account · Workers Scripts · Edit"
ZONE_READ = "Zone · Zone · Read"
# The provisioning token's least privilege, as the README lists it.
PERMISSIONS = (KV_EDIT, GATEWAY_EDIT, ACCESS_APPS_EDIT, ACCESS_ORG_READ, SCRIPTS_EDIT, ZONE_READ)


class ProvisionError(Exception):
    """Provisioning cannot go on; the message says why and what to do."""


class _Missing(Exception):
    """The API answered 404 for something that may simply not exist yet."""


def _plain(value: Any) -> dict[str, Any]:
    dumped: dict[str, Any] = value.model_dump(mode="json", exclude_none=True)
    return dumped


def _accepted(method: Callable[..., Any], fields: dict[str, Any]) -> dict[str, Any]:
    """The fields an SDK update takes: what an answer holds besides (ids, timestamps)
    is not sent back. The API reads back null for a setting never set (a gateway made
    in the dashboard has `cache_ttl` and `rate_limiting_*` null), and an answer drops
    nulls, so a required field that may be null is sent back as null."""
    parameters = inspect.signature(method).parameters
    names = set(parameters) - {"id", "account_id", "app_id"}
    accepted = {k: v for k, v in fields.items() if k in names}
    for name, parameter in parameters.items():
        required = parameter.kind is parameter.KEYWORD_ONLY and parameter.default is parameter.empty
        if required and name not in accepted and "Optional" in str(parameter.annotation):
            accepted[name] = None
    return accepted


# The custom domain's 409s (Workers custom domains), and what to do about each.
DOMAIN_CONFLICTS = {
    100116: "another Worker already serves {host}: detach it from that Worker "
    "(Workers & Pages > the Worker > Settings > Domains & Routes) or choose another "
    "hostname, then run apply again",
    100117: "{host} already has a DNS record: delete that record in the zone's DNS "
    "settings (the custom domain makes its own) or choose another hostname, then run "
    "apply again",
}


def _codes(exc: cloudflare.APIStatusError) -> set[int]:
    body = exc.body if isinstance(exc.body, dict) else {}
    errors = body.get("errors") or []
    return {e["code"] for e in errors if isinstance(e, dict) and isinstance(e.get("code"), int)}


class Cloud:
    """One account, through the SDK."""

    def __init__(self, account_id: str, client: Cloudflare | None = None) -> None:
        self.account_id = account_id
        if client is None and not os.environ.get(TOKEN_VARIABLE):
            raise ProvisionError(
                f"{TOKEN_VARIABLE} is not set: export the provisioning token (see the README)"
            )
        self._client = client or Cloudflare(max_retries=0)

    def _call(
        self,
        permission: str,
        call: Callable[[], T],
        *,
        missing: bool = False,
        conflicts: Mapping[int, str] | None = None,
    ) -> T:
        """`call()`; an error becomes a ProvisionError saying what to do (`conflicts`: what
        to say for each error code of a 409)."""
        try:
            return call()
        except cloudflare.ConflictError as exc:
            said = [conflicts[code] for code in _codes(exc) if conflicts and code in conflicts]
            raise ProvisionError(
                said[0] if said else f"Cloudflare API: 409 {exc.message}"
            ) from None
        except cloudflare.NotFoundError as exc:
            if missing:
                raise _Missing from None
            raise ProvisionError(f"Cloudflare API: 404 {exc.message}") from None
        except cloudflare.PermissionDeniedError:
            raise ProvisionError(
                f"the API token lacks the permission {permission!r}; add it to the token"
            ) from None
        except cloudflare.APIStatusError as exc:
            raise ProvisionError(f"Cloudflare API: {exc.status_code} {exc.message}") from None
        except cloudflare.APIConnectionError as exc:
            raise ProvisionError(f"Cloudflare API unreachable: {exc}") from None

    def _all(self, permission: str, pages: Callable[[], Iterable[Any]]) -> list[dict[str, Any]]:
        return self._call(permission, lambda: [_plain(item) for item in pages()])

    def raw(
        self, permission: str, method: str, path: str, *, body: Any = None, commit: bool = False
    ) -> Any:
        """A call the SDK has no method for, through its own request helper: `path` below
        the account, the envelope's `result` back (`commit`: `?commit=true`)."""
        url = f"/accounts/{self.account_id}/{path}"
        options: Any = {"params": {"commit": "true"}} if commit else {}
        send = getattr(self._client, method)
        extra = {} if body is None else {"body": body}
        answer = self._call(permission, lambda: send(url, cast_to=object, options=options, **extra))
        return answer.get("result") if isinstance(answer, dict) else None

    # --- KV --------------------------------------------------------------------------------

    def namespaces(self) -> list[dict[str, Any]]:
        kv = self._client.kv.namespaces
        return self._all(KV_EDIT, lambda: kv.list(account_id=self.account_id, per_page=100))

    def create_namespace(self, title: str) -> dict[str, Any]:
        kv = self._client.kv.namespaces
        created = self._call(KV_EDIT, lambda: kv.create(account_id=self.account_id, title=title))
        if created is None:
            raise ProvisionError(f"the API created KV namespace {title!r} but returned no id")
        return _plain(created)

    # --- AI Gateway ------------------------------------------------------------------------

    def gateway(self, gateway_id: str) -> dict[str, Any] | None:
        gateways = self._client.ai_gateway
        try:
            found = self._call(
                GATEWAY_EDIT,
                lambda: gateways.get(gateway_id, account_id=self.account_id),
                missing=True,
            )
        except _Missing:
            return None
        return _plain(found)

    def put_gateway(self, gateway_id: str, fields: dict[str, Any], *, exists: bool) -> None:
        """Create, or replace with `fields` (what was read, changed): an update replaces
        every field, so only the ones the API takes are sent back."""
        gateways = self._client.ai_gateway
        fields = _accepted(gateways.update, fields)
        if exists:
            self._call(
                GATEWAY_EDIT,
                lambda: gateways.update(gateway_id, account_id=self.account_id, **fields),
            )
        else:
            self._call(
                GATEWAY_EDIT,
                lambda: gateways.create(account_id=self.account_id, id=gateway_id, **fields),
            )

    def provider_keys(self, gateway_id: str) -> set[str]:
        """The providers whose keys the gateway stores (BYOK)."""
        configs = self._client.ai_gateway.provider_configs
        found = self._all(
            GATEWAY_EDIT, lambda: configs.list(gateway_id, account_id=self.account_id)
        )
        return {str(config.get("provider_slug")) for config in found}

    # --- Access ----------------------------------------------------------------------------

    def team_domain(self) -> str:
        organizations = self._client.zero_trust.organizations
        org = self._call(ACCESS_ORG_READ, lambda: organizations.list(account_id=self.account_id))
        domain = getattr(org, "auth_domain", None)
        if not domain:
            raise ProvisionError(
                "this account has no Zero Trust team yet: choose a team name in the dashboard "
                "(Zero Trust), then run again"
            )
        return str(domain)

    def access_groups(self) -> list[dict[str, Any]]:
        groups = self._client.zero_trust.access.groups
        return self._all(ACCESS_ORG_READ, lambda: groups.list(account_id=self.account_id))

    def apps(self) -> list[dict[str, Any]]:
        apps = self._client.zero_trust.access.applications
        return self._all(ACCESS_APPS_EDIT, lambda: apps.list(account_id=self.account_id))

    def update_app(self, app_id: str, fields: dict[str, Any]) -> None:
        """Replace the application with `fields` (what was read, changed); its policies
        are managed one by one, never through the application."""
        apps = self._client.zero_trust.access.applications
        fields = {k: v for k, v in _accepted(apps.update, fields).items() if k != "policies"}
        self._call(
            ACCESS_APPS_EDIT,
            lambda: apps.update(app_id, account_id=self.account_id, **fields),
        )

    def create_app(self, fields: dict[str, Any]) -> dict[str, Any]:
        apps = self._client.zero_trust.access.applications
        return _plain(
            self._call(
                ACCESS_APPS_EDIT,
                lambda: apps.create(account_id=self.account_id, **fields),
            )
        )

    def delete_app(self, app_id: str) -> None:
        apps = self._client.zero_trust.access.applications
        self._call(ACCESS_APPS_EDIT, lambda: apps.delete(app_id, account_id=self.account_id))

    def policies(self, app_id: str) -> list[dict[str, Any]]:
        policies = self._client.zero_trust.access.applications.policies
        return self._all(
            ACCESS_APPS_EDIT, lambda: policies.list(app_id, account_id=self.account_id)
        )

    def put_policy(self, app_id: str, fields: dict[str, Any], policy_id: str | None) -> None:
        """Create, or replace with `fields` (what was read, changed): like the gateway,
        an update replaces the policy."""
        policies = self._client.zero_trust.access.applications.policies
        fields = _accepted(policies.update, fields)
        if policy_id is None:
            self._call(
                ACCESS_APPS_EDIT,
                lambda: policies.create(app_id, account_id=self.account_id, **fields),
            )
        else:
            self._call(
                ACCESS_APPS_EDIT,
                lambda: policies.update(
                    policy_id, app_id=app_id, account_id=self.account_id, **fields
                ),
            )

    def delete_policy(self, app_id: str, policy_id: str) -> None:
        policies = self._client.zero_trust.access.applications.policies
        self._call(
            ACCESS_APPS_EDIT,
            lambda: policies.delete(policy_id, app_id=app_id, account_id=self.account_id),
        )

    # --- the Worker: secrets and its custom domain ------------------------------------------

    def scripts(self) -> set[str]:
        scripts = self._client.workers.scripts
        found = self._all(SCRIPTS_EDIT, lambda: scripts.list(account_id=self.account_id))
        return {str(script["id"]) for script in found}

    def secret_names(self, script: str) -> set[str]:
        secrets = self._client.workers.scripts.secrets
        found = self._all(SCRIPTS_EDIT, lambda: secrets.list(script, account_id=self.account_id))
        return {str(secret["name"]) for secret in found}

    def put_secret(self, script: str, name: str, value: str) -> None:
        secrets = self._client.workers.scripts.secrets
        self._call(
            SCRIPTS_EDIT,
            lambda: secrets.update(
                script, account_id=self.account_id, name=name, text=value, type="secret_text"
            ),
        )

    def domain(self, hostname: str) -> dict[str, Any] | None:
        domains = self._client.workers.domains
        found = self._all(
            SCRIPTS_EDIT, lambda: domains.list(account_id=self.account_id, hostname=hostname)
        )
        return next((d for d in found if d.get("hostname") == hostname), None)

    def zone_of(self, hostname: str) -> dict[str, Any]:
        """The account's zone the hostname belongs to (the longest matching name)."""
        zones = self._client.zones
        labels = hostname.split(".")
        for start in range(len(labels) - 1):
            name = ".".join(labels[start:])
            listed = functools.partial(zones.list, account={"id": self.account_id}, name=name)
            found = self._all(ZONE_READ, listed)
            if found:
                return found[0]
        raise ProvisionError(f"no zone of this account holds {hostname}: add the zone first")

    def put_domain(self, hostname: str, script: str, zone_id: str) -> None:
        domains = self._client.workers.domains
        self._call(
            SCRIPTS_EDIT,
            lambda: domains.update(
                account_id=self.account_id, hostname=hostname, service=script, zone_id=zone_id
            ),
            conflicts={
                code: f"custom domain {hostname}: " + fix.format(host=hostname)
                for code, fix in DOMAIN_CONFLICTS.items()
            },
        )
