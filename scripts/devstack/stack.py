"""The local stack: the Worker offline, with stand-ins for everything out of reach.

- Access: a dev signing key (kept in the state folder), its certs endpoint, and a
  login command (`python -m devstack.dev_token`) served in discovery instead of cloudflared;
- the Access edge in front of the Worker, with the applications provisioning creates
  (the page behind Access, signing the dev identity in; the rest left to the Worker);
- AI Gateway: provider-shaped streamed answers (`scripts/fake_providers.py`) that
  check the `cf-aig-*` headers the proxy adds;
- models.dev: a sample document, so the catalog refresh has something to read.

Used by `scripts/dev` and by the end-to-end tests. Nothing here is deployed.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from provisioning.routes import public_paths

import build_config
from devstack.access import LocalAccess, SigningKey
from devstack.access_edge import LocalAccessEdge, apps_for
from devstack.dev_token import DEFAULT_EMAIL, DEV_EMAIL, KEY_FILE, SETTINGS_FILE, mint
from devstack.gateway import FakeGateway
from devstack.models_dev import LocalModelsDev
from devstack.providers import RESPONDERS
from devstack.runtime import LocalWorker
from devstack.server import Service
from toolkit.worker_files import ROOT

SAMPLE_MODELS_DEV = ROOT / "tests" / "fixtures" / "models_dev.json"
DEV_AUDIENCE = "local-dev-aud"
DEV_GATEWAY_ID = "local-dev"
DEV_GATEWAY_TOKEN = "local-dev-gateway-token"  # noqa: S105 (only the local stand-in knows it)
DEV_WORKERS_AI_TOKEN = "local-dev-workers-ai-token"  # noqa: S105 (likewise)
DEV_USER_ID_KEY = "local-dev-user-id-key"
DEV_KID = "local-dev"
# miniflare's own paths (the cron's trigger): production has none, so Access has none.
LOCAL_ONLY_PATHS = ("/cdn-cgi/local",)


def dev_key(state: Path) -> SigningKey:
    """The stack's signing key: made once, then reused so stored tokens stay valid."""
    path = state / KEY_FILE
    if not path.exists():
        key = SigningKey.generate(DEV_KID)
        pem = key.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        path.write_bytes(pem)
        path.chmod(0o600)
    return SigningKey.from_pem(path, kid=DEV_KID)


def served_document(state: Path) -> Path:
    """The api.json the models.dev stand-in of the stack in `state` serves (or last served)."""
    try:
        return Path(json.loads((state / SETTINGS_FILE).read_text())["models_dev"])
    except (OSError, ValueError, KeyError):
        return SAMPLE_MODELS_DEV


@dataclass
class DevStack(Service):
    """All local services; a context manager. `port` 0 picks a free one."""

    state: Path
    port: int = 0
    # The document the models.dev stand-in serves (`scripts/dev --models-dev FILE`).
    models_dev_file: Path = SAMPLE_MODELS_DEV
    # The organisation's config the Worker serves (tests try groups with their own).
    config_src: Path = build_config.DEFAULT_SRC
    # The Access groups get-identity gives the dev identity (`scripts/dev --groups`).
    dev_groups: tuple[str, ...] = ()
    access: LocalAccess = field(init=False)
    # Discovery's `auth` as the stack serves it (its login command is the dev one).
    auth: dict[str, Any] = field(init=False)
    gateway: FakeGateway = field(init=False)
    models_dev: LocalModelsDev = field(init=False)
    worker: LocalWorker = field(init=False)
    edge: LocalAccessEdge = field(init=False)

    @property
    def url(self) -> str:
        """Where clients reach the Worker: through the Access edge, as in production."""
        return self.edge.origin

    def login_command(self) -> list[str]:
        return [sys.executable, "-m", "devstack.dev_token", "--state", str(self.state)]

    def token(self, email: str = DEFAULT_EMAIL, **claims: Any) -> str:
        return mint(self.state, email, **claims)

    def _team(self, access: LocalAccess) -> LocalAccess:
        """The Access stand-in, on the port of the team the state folder's tokens name
        when it is free: the port is part of the issuer, so stored tokens stay valid
        across restarts."""
        try:
            issuer = json.loads((self.state / SETTINGS_FILE).read_text())["issuer"]
            access.bind_port = urlsplit(issuer).port or 0
            return access.start()
        except (OSError, ValueError, KeyError):
            access.bind_port = 0
            return access.start()

    def start(self) -> DevStack:
        self.state.mkdir(parents=True, exist_ok=True)
        key = dev_key(self.state)
        email = os.environ.get(DEV_EMAIL, DEFAULT_EMAIL)
        groups = {email: list(self.dev_groups)} if self.dev_groups else {}
        self.access = self._team(LocalAccess(published=[key], login_email=email, groups=groups))
        self.gateway = FakeGateway(
            token=DEV_GATEWAY_TOKEN,
            workers_ai_token=DEV_WORKERS_AI_TOKEN,
            responders=dict(RESPONDERS),
        ).start()
        self.models_dev = LocalModelsDev(self.models_dev_file.read_bytes()).start()
        settings = {
            "issuer": self.access.origin,
            "audience": DEV_AUDIENCE,
            "kid": DEV_KID,
            "models_dev": str(self.models_dev_file.resolve()),
        }
        (self.state / SETTINGS_FILE).write_text(json.dumps(settings) + "\n")
        document = build_config.compile_config(self.config_src)
        document["auth"]["command"] = self.login_command()
        self.auth = document["auth"]
        self.worker = LocalWorker(
            self.state,
            gateway_origin=self.gateway.origin,
            compiled=document,
            variables={
                "ACCESS_TEAM_DOMAIN": self.access.origin,
                "ACCESS_AUD": DEV_AUDIENCE,
                "USER_ID_KEY": DEV_USER_ID_KEY,
                "AI_GATEWAY_ID": DEV_GATEWAY_ID,
                "GATEWAY_TOKEN": DEV_GATEWAY_TOKEN,
                "WORKERS_AI_TOKEN": DEV_WORKERS_AI_TOKEN,
                "CATALOG_URL": self.models_dev.url,
            },
        )
        try:
            self.worker.start()
            self.edge = LocalAccessEdge(
                upstream=self.worker.url,
                access=self.access,
                audience=DEV_AUDIENCE,
                apps=apps_for([*public_paths(), *LOCAL_ONLY_PATHS]),
                bind_port=self.port,
            ).start()
            # Fill the catalog at once instead of waiting for the hourly cron.
            trigger = urllib.request.Request(
                f"{self.worker.url}/cdn-cgi/local/scheduled", method="POST"
            )
            urllib.request.urlopen(trigger, timeout=60).close()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for part in ("edge", "worker", "models_dev", "gateway", "access"):
            service = self.__dict__.get(part)
            if service is not None:
                service.stop()
