"""Forwarding to AI Gateway: the upstream host always comes from the AI binding; the
client only chooses the path below the provider, and only a path that means what it
says."""

from __future__ import annotations

import functools
import json
import logging
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from .budget import gateway_refusal
from .callers import client_of
from .caps import Budgets
from .endpoints import ProviderRoute
from .headers import gateway_metadata, outbound_headers, outbound_query, session_of
from .http import Request, Response
from .identity import Identity
from .ports import Clock, GatewayUrl, LogLine, Upstream
from .refusal import Refusal
from .settings import SettingError

log = logging.getLogger(__name__)

# RFC 3986 path characters, with percent-escapes checked separately.
_PATH_CHARS = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*")
# Escapes that would change the path's meaning once decoded upstream:
# dots, slashes, backslashes, percent signs (double encoding) and NUL.
_RISKY_ESCAPES = re.compile(r"%(2e|2f|5c|25|00)", re.IGNORECASE)
_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def check_rest(rest: str) -> None:
    """Refuse (400 bad_path) anything that could change the upstream path's meaning."""
    if not _PATH_CHARS.fullmatch(rest):
        raise _unsafe("the path contains characters that are not allowed")
    if _RISKY_ESCAPES.search(rest) or _ESCAPE.search(rest):
        raise _unsafe("the path contains an encoded dot, slash, backslash or percent sign")
    segments = rest.split("/")[1:]
    if any(segment in ("", ".", "..") for segment in segments[:-1]) or (
        segments and segments[-1] in (".", "..")
    ):
        raise _unsafe("the path has empty, '.' or '..' segments")


def _unsafe(why: str) -> Refusal:
    return Refusal(400, "bad_path", f"Refused: {why}.")


@functools.lru_cache(maxsize=4096)
def _metadata(user_id: str, group: str | None, client: str, session: str | None) -> str:
    """`cf-aig-metadata`: what AI Gateway's spend limits and policies can key on."""
    entries = {"userId": user_id, "client": client}
    if group is not None:
        entries["group"] = group
    if session is not None:
        entries["session"] = session
    return gateway_metadata(entries)


@dataclass(frozen=True, slots=True)
class Gateway:
    """The AI Gateway this Worker forwards to, and how."""

    gateway_id: str
    token: str
    gateway_url: GatewayUrl
    upstream: Upstream
    # Monotonic; in the Worker it moves only across I/O, so a duration is the time spent
    # waiting for the gateway's answer to begin.
    timer: Clock
    log_line: LogLine
    # WORKERS_AI_TOKEN: a Cloudflare API token (Workers AI Read), for Workers AI models.
    workers_ai_token: str | None = None
    # config-src's spend caps, named when the gateway says one is used up.
    budgets: Budgets = field(default_factory=Budgets)
    clock: Clock = time.time  # wall time, in seconds: when a cap's window resets
    # REQUEST_LOG: a line for every request, or only for those answered 400 or more.
    log_every_request: bool = True

    async def forward(
        self,
        request: Request,
        identity: Identity,
        route: ProviderRoute,
        rest: str,
        *,
        models: tuple[str, ...] = (),
        group: str | None = None,
    ) -> Response:
        """Send the request for `models` on; `group` is the caller's group for attribution."""
        provider = route.provider
        base = await self.gateway_url(self.gateway_id, provider)
        query = outbound_query(request.query)
        url = base.rstrip("/") + route.upstream_path(rest) + (f"?{query}" if query else "")
        client = client_of(request.headers.get("user-agent", ""))
        metadata = _metadata(identity.user_id, group, client, session_of(request.headers))
        headers = outbound_headers(request.headers, gateway_token=self.token, metadata=metadata)
        if route.runs_on_workers_ai(models):
            headers.append(("authorization", f"Bearer {self._workers_ai_token()}"))
        started = self.timer()
        said = (identity, group, client, provider, rest)
        try:
            answer = await self.upstream(request.method.upper(), url, headers, request.body)
        except OSError:
            self.log_line(request_line(*said, 502, self._since(started)))
            raise Refusal(
                502, "gateway_unreachable", "AI Gateway could not be reached; try again shortly."
            ) from None
        if self.log_every_request or answer.status >= 400:
            self.log_line(request_line(*said, answer.status, self._since(started)))
        if answer.error is not None:
            refusal = gateway_refusal(
                answer.status,
                answer.error,
                caps=self.budgets.caps_of(group),
                now=datetime.fromtimestamp(self.clock(), UTC),
            )
            if refusal is not None:
                raise refusal
        return Response(answer.status, upstream=answer.handle)

    def _since(self, started: float) -> float:
        return (self.timer() - started) * 1000

    def _workers_ai_token(self) -> str:
        if self.workers_ai_token is None:
            raise SettingError(
                "WORKERS_AI_TOKEN",
                "is not set, and AI Gateway wants it for Workers AI models",
                "create an API token with Workers AI Read and run "
                "`npx wrangler secret put WORKERS_AI_TOKEN`",
            )
        return self.workers_ai_token


def request_line(
    identity: Identity,
    group: str | None,
    client: str,
    provider: str,
    rest: str,
    status: int,
    duration_ms: float,
) -> str:
    """The one log line of a provider request, forwarded or answered from the menu: no
    token, email, query or body ever goes here."""
    return json.dumps(
        {
            "event": "proxy",
            "userId": identity.user_id,
            "group": group,
            "client": client,
            "provider": provider,
            "path": rest or "/",
            "status": status,
            "durationMs": round(duration_ms, 1),
        },
        separators=(",", ":"),
    )
