"""A local stand-in for the Cloudflare API, for `scripts/provision.py`'s tests.

It answers the calls provisioning makes in the API's own shapes: the
`{success, errors, messages, result, result_info}` envelope, pages of lists (a page
past the end comes back empty, which is where the SDK stops), and the API's error
codes (10014 for a duplicate KV title, 10000 for a token without the permission,
7002 for an unknown gateway, 10007 for an unknown Worker, 100116 and 100117 for a
custom domain another Worker or a DNS record holds), null for a gateway's
settings never set, and a gateway's Policies as drafts unless committed. Faults can be set: deny
permissions, or fail every write after a number of them (a run that dies midway).
Never deployed; state lives in memory.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from provisioning.cloud import (
    ACCESS_APPS_EDIT,
    ACCESS_ORG_READ,
    GATEWAY_EDIT,
    KV_EDIT,
    SCRIPTS_EDIT,
    ZONE_READ,
)

from devstack.api_errors import ApiError
from devstack.cloudflare_account import Account, Page
from devstack.server import LocalHttpServer, QuietHandler
from spend.logs import GATEWAY_READ

PREFIX = "/client/v4"
_ACCOUNT = "/accounts/[^/]+"
_APP = _ACCOUNT + "/access/apps/(?P<app>[^/]+)"
_SCRIPT = _ACCOUNT + "/workers/scripts/(?P<script>[^/]+)"
_POLICIES = _ACCOUNT + "/ai-gateway/gateways/(?P<gid>[^/]+)/policies"
# (method, path, the permission a token needs for it, what answers it)
ROUTES: list[tuple[str, str, str, str]] = [
    ("GET", _ACCOUNT + "/storage/kv/namespaces", KV_EDIT, "kv_list"),
    ("POST", _ACCOUNT + "/storage/kv/namespaces", KV_EDIT, "kv_create"),
    ("GET", _ACCOUNT + "/ai-gateway/gateways/(?P<gid>[^/]+)", GATEWAY_EDIT, "gw_get"),
    ("POST", _ACCOUNT + "/ai-gateway/gateways", GATEWAY_EDIT, "gw_create"),
    ("PUT", _ACCOUNT + "/ai-gateway/gateways/(?P<gid>[^/]+)", GATEWAY_EDIT, "gw_put"),
    (
        "GET",
        _ACCOUNT + "/ai-gateway/gateways/(?P<gid>[^/]+)/provider_configs",
        GATEWAY_EDIT,
        "provider_configs",
    ),
    ("GET", _ACCOUNT + "/ai-gateway/gateways/(?P<gid>[^/]+)/logs", GATEWAY_READ, "logs"),
    ("GET", _POLICIES, GATEWAY_EDIT, "gw_policies"),
    ("POST", _POLICIES, GATEWAY_EDIT, "gw_policy_create"),
    ("PUT", _POLICIES + "/(?P<pid>[^/]+)", GATEWAY_EDIT, "gw_policy_put"),
    ("DELETE", _POLICIES + "/(?P<pid>[^/]+)", GATEWAY_EDIT, "gw_policy_delete"),
    ("GET", _ACCOUNT + "/access/organizations", ACCESS_ORG_READ, "org"),
    ("GET", _ACCOUNT + "/access/groups", ACCESS_ORG_READ, "groups"),
    ("GET", _ACCOUNT + "/access/apps", ACCESS_APPS_EDIT, "apps"),
    ("POST", _ACCOUNT + "/access/apps", ACCESS_APPS_EDIT, "app_create"),
    ("PUT", _APP, ACCESS_APPS_EDIT, "app_put"),
    ("DELETE", _APP, ACCESS_APPS_EDIT, "app_delete"),
    ("GET", _APP + "/policies", ACCESS_APPS_EDIT, "policies"),
    ("POST", _APP + "/policies", ACCESS_APPS_EDIT, "policy_create"),
    ("PUT", _APP + "/policies/(?P<pid>[^/]+)", ACCESS_APPS_EDIT, "policy_put"),
    ("DELETE", _APP + "/policies/(?P<pid>[^/]+)", ACCESS_APPS_EDIT, "policy_delete"),
    ("GET", _ACCOUNT + "/workers/scripts", SCRIPTS_EDIT, "scripts"),
    ("GET", _SCRIPT + "/secrets", SCRIPTS_EDIT, "secrets"),
    ("PUT", _SCRIPT + "/secrets", SCRIPTS_EDIT, "secret_put"),
    ("GET", _ACCOUNT + "/workers/domains", SCRIPTS_EDIT, "domains"),
    ("PUT", _ACCOUNT + "/workers/domains", SCRIPTS_EDIT, "domain_put"),
    ("GET", "/zones", ZONE_READ, "zones"),
]


@dataclass
class LocalCloudflareApi(LocalHttpServer):
    """The API at http://127.0.0.1:<port>/client/v4 for one token and one account."""

    token: str = "local-provisioning-token"  # noqa: S105 (only this stand-in knows it)
    account: Account = field(default_factory=Account)
    denied: set[str] = field(default_factory=set)  # permissions the token lacks
    fail_writes_after: int | None = None  # succeed this many writes, then fail every one
    writes: list[tuple[str, str]] = field(default_factory=list)  # (method, path) that changed
    secret_values: dict[str, str] = field(default_factory=dict)  # what was sent, for tests

    @property
    def base_url(self) -> str:
        return self.origin + PREFIX

    def answer(self, method: str, target: str, headers: Any, body: bytes) -> tuple[int, Any]:
        parts = urlsplit(target)
        path = parts.path.removeprefix(PREFIX)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if headers.get("authorization") != f"Bearer {self.token}":
            raise ApiError(400, 6003, "Invalid request headers")
        for verb, pattern, permission, name in ROUTES:
            match = re.fullmatch(pattern, path)
            if verb == method and match:
                if permission in self.denied:
                    raise ApiError(403, 10000, "Authentication error")
                failing = self.fail_writes_after
                if method != "GET" and failing is not None and len(self.writes) >= failing:
                    raise ApiError(500, 10001, "Internal server error")
                payload = json.loads(body) if body else {}
                result = getattr(self.account, "on_" + name)(payload, query, **match.groupdict())
                if name == "secret_put":
                    self.secret_values[payload["name"]] = payload["text"]
                if method != "GET":
                    self.writes.append((method, path))
                return 200, result
        raise ApiError(404, 7003, f"No route for that URI: {method} {path}")

    def handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(QuietHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                try:
                    status, result = api.answer(self.command, self.path, self.headers, body)
                    envelope: dict[str, Any] = {"success": True, "errors": [], "messages": []}
                    if isinstance(result, Page):
                        envelope["result"] = result.items
                        if result.info is not None:
                            envelope["result_info"] = result.info
                    else:
                        envelope["result"] = result
                except ApiError as exc:
                    status = exc.status
                    envelope = {
                        "success": False,
                        "messages": [],
                        "result": None,
                        "errors": [{"code": exc.code, "message": exc.message}],
                    }
                data = json.dumps(envelope).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

        return Handler
