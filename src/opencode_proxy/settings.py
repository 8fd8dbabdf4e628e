"""The Worker's settings: `[vars]` and secrets, read once per isolate."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from .origins import canonical_origin

# Every setting the Worker reads ([vars] and secrets), see the README's table.
NAMES = (
    "ACCESS_TEAM_DOMAIN",
    "ACCESS_AUD",
    "USER_ID_KEY",
    "ALLOW_SERVICE_TOKENS",
    "AI_GATEWAY_ID",
    "GATEWAY_TOKEN",
    "WORKERS_AI_TOKEN",
    "CATALOG_URL",
    "PUBLIC_ORIGIN",
    "GROUPS_FROM",
    "REQUEST_LOG",
)
# Settings that are secrets: set with `wrangler secret put`, never in wrangler.toml.
SECRETS = frozenset({"GATEWAY_TOKEN", "USER_ID_KEY", "WORKERS_AI_TOKEN"})
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})


class SettingError(Exception):
    """A setting is missing or unusable; the message names it and says how to fix it."""

    def __init__(self, name: str, problem: str, fix: str | None = None) -> None:
        if fix is None and name in SECRETS:
            fix = f"run `npx wrangler secret put {name}`"
        elif fix is None:
            fix = f"set {name} under [vars] in wrangler.toml"
        super().__init__(f"{name} {problem}: {fix}.")
        self.name = name


@dataclass(frozen=True, slots=True)
class Settings:
    """Raw values as the runtime gave them; `require` turns a gap into a `SettingError`."""

    values: dict[str, str]

    @classmethod
    def from_lookup(cls, lookup: Callable[[str], object]) -> Settings:
        """The non-empty values of every known setting, as `lookup` finds them."""
        found = {}
        for name in NAMES:
            value = lookup(name)
            if isinstance(value, str) and value.strip():
                found[name] = value.strip()
        return cls(found)

    def require(self, name: str) -> str:
        value = self.values.get(name)
        if value is None:
            raise SettingError(name, "is not set")
        return value

    def flag(self, name: str) -> bool:
        return self.values.get(name, "").lower() in TRUE_WORDS


def access_team_origin(value: str) -> str:
    """`<team>.cloudflareaccess.com` (or its https URL) as an origin: the tokens' issuer.

    Plain http is accepted only for a loopback host, for local stand-ins of Access.
    """
    return origin_setting("ACCESS_TEAM_DOMAIN", value, "a team domain")


GET_IDENTITY = "get-identity"
CLAIM = "claim:"


def groups_claim(value: str | None) -> str | None:
    """GROUPS_FROM as the token claim it names, or None for Access's get-identity."""
    if value is None or value == GET_IDENTITY:
        return None
    claim = value.removeprefix(CLAIM).strip() if value.startswith(CLAIM) else ""
    if not claim:
        raise SettingError(
            "GROUPS_FROM", f"is not {GET_IDENTITY!r} or 'claim:<token claim>' ({value!r})"
        )
    return claim


LOG_ALL, LOG_ERRORS = "all", "errors"


def logs_every_request(value: str | None) -> bool:
    """REQUEST_LOG: whether a provider request answered under 400 gets a log line too.

    "errors" (the default) logs only those answered 400 or more and those the gateway
    never answered: AI Gateway's own logs already hold every forwarded request with the
    same metadata, and the line costs about 0.2 ms of CPU per request. The Worker's own
    refusals are logged either way."""
    if value is None or value == LOG_ERRORS:
        return False
    if value == LOG_ALL:
        return True
    raise SettingError("REQUEST_LOG", f"is not {LOG_ERRORS!r} or {LOG_ALL!r} ({value!r})")


def origin_setting(name: str, value: str, what: str = "an https origin") -> str:
    """A host (or its https URL, with no path) as an origin; http only for loopback."""
    try:
        parts = urlsplit(value if "://" in value else f"https://{value}")
    except ValueError:
        raise SettingError(name, f"is not {what} ({value!r})") from None
    origin = canonical_origin(parts.scheme, parts.netloc)
    host = parts.hostname or ""
    loopback = host == "localhost" or _is_loopback_ip(host)
    if (
        origin is None
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or (parts.scheme != "https" and not (parts.scheme == "http" and loopback))
    ):
        raise SettingError(name, f"is not {what} ({value!r})")
    return origin


def _is_loopback_ip(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
