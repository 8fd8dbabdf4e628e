"""What each provider route serves: a list of endpoints, and nothing else.

An endpoint is a method and an exact path shape below the route (case and API
version exact), and where its request names the model:

* `body`: the top-level `model` of a JSON object body;
* `nested`: every `model` key anywhere in the body (batches and the like);
* `path`: the `{model}` part of the path;
* `none`: nowhere (a read that generates nothing, added by config-src);
* `listing`: a model listing, answered by the Worker from the menu.

In a path shape `{model}` is one path segment, `{model:path}` a Workers AI model
path (`@cf/...`), `{id}` any other one-segment name. Percent-escapes never match
a placeholder, so the model checked is the model the provider reads.

The shipped lists cover what OpenCode, Claude Code, Codex CLI and the anthropic,
openai and google-genai SDKs call; config-src adds more per provider file.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from .dialects import Dialect
from .http import method_not_allowed
from .refusal import Refusal

ModelSource = Literal["body", "nested", "path", "none", "listing"]
MODEL_SOURCES: tuple[ModelSource, ...] = ("body", "nested", "path", "none", "listing")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
_PLACEHOLDERS = {
    "{model}": r"(?P<model>[^/:%]+)",
    "{model:path}": r"(?P<model>@[^:%]+)",
    "{id}": r"[^/:%]+",
}
_PLACEHOLDER = re.compile(r"\{[^}]*\}")
_TEMPLATE_CHARS = re.compile(r"(/[A-Za-z0-9._~@:-]*)+")


class BadEndpoint(ValueError):
    """An endpoint definition that cannot be used; the message says why."""


def _pattern(template: str) -> re.Pattern[str]:
    parts, end = [], 0
    for found in _PLACEHOLDER.finditer(template):
        if found.group() not in _PLACEHOLDERS:
            raise BadEndpoint(
                f"unknown placeholder {found.group()} (use {', '.join(_PLACEHOLDERS)})"
            )
        parts += [re.escape(template[end : found.start()]), _PLACEHOLDERS[found.group()]]
        end = found.end()
    literal = _PLACEHOLDER.sub("x", template)
    if not template.startswith("/") or not _TEMPLATE_CHARS.fullmatch(literal):
        raise BadEndpoint(f"{template!r} must be a path starting with '/', in plain characters")
    return re.compile("".join([*parts, re.escape(template[end:])]))


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One method and path shape a route serves, and where its model is named."""

    method: str
    path: str
    model: ModelSource
    # The error and listing format, when it is not the route's (Gemini's OpenAI-style API).
    dialect: Dialect | None = None
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise BadEndpoint(f"method {self.method!r} is not one of {', '.join(METHODS)}")
        if self.model not in MODEL_SOURCES:
            raise BadEndpoint(f"model {self.model!r} is not one of {', '.join(MODEL_SOURCES)}")
        object.__setattr__(self, "pattern", _pattern(self.path))
        names_model = "(?P<model>" in self.pattern.pattern
        if (self.model == "path") != names_model and self.model != "listing":
            raise BadEndpoint(f"{self.path}: `{{model}}` in the path goes with model = 'path'")

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    def methods(self) -> frozenset[str]:
        """A listing also answers HEAD; everything else only its own method."""
        return frozenset({"GET", "HEAD"}) if self.model == "listing" else frozenset({self.method})

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> Endpoint:
        """An endpoint as config-src writes it; raises BadEndpoint (__post_init__ checks)."""
        model = cast(ModelSource, value.get("model"))
        return cls(str(value.get("method", "")), str(value.get("path", "")), model)


@dataclass(frozen=True, slots=True)
class Match:
    """The endpoint a request hit, and the model its path names (for `path` endpoints)."""

    endpoint: Endpoint
    path_model: str | None


@dataclass(frozen=True, slots=True)
class ProviderRoute:
    """`/<prefix>/...`: forwarded to AI Gateway's `provider` route, for these endpoints.

    `strip` is what the client's path has that the gateway's does not: clients reach
    OpenAI at `.../v1`, the gateway's OpenAI route is the part after it.

    `workers_ai` is how the ids of models that run on Workers AI start ("" for all of
    the route's): for those, AI Gateway wants a Cloudflare API token with Workers AI
    Read in `Authorization` (AI Gateway docs, "Workers AI"), not a stored key."""

    prefix: str
    provider: str
    dialect: Dialect
    endpoints: tuple[Endpoint, ...]
    strip: str = ""
    workers_ai: str | None = None
    # Where the provider's own SDKs and agents send their API key; there the Access token
    # signs in too (and, like every credential, never goes further).
    key_header: str | None = None

    def with_extra(self, extra: Iterable[Endpoint]) -> ProviderRoute:
        return dataclasses.replace(self, endpoints=(*self.endpoints, *extra))

    def runs_on_workers_ai(self, models: Iterable[str]) -> bool:
        """Whether a request for `models` goes to Workers AI."""
        prefix = self.workers_ai
        return prefix is not None and all(model.startswith(prefix) for model in models)

    def match(self, method: str, rest: str) -> Match:
        """The endpoint `method rest` is; raises Refusal (404, 405) for anything else."""
        allowed: set[str] = set()
        for endpoint in self.endpoints:
            found = endpoint.pattern.fullmatch(rest)
            if found is None:
                continue
            if method in endpoint.methods():
                return Match(endpoint, found.groupdict().get("model"))
            allowed |= endpoint.methods()
        if allowed:
            raise method_not_allowed(method, f"/{self.prefix}{rest}", allowed)
        served = "; ".join(endpoint.label for endpoint in self.endpoints)
        raise Refusal(
            404,
            "unknown_endpoint",
            f"{method} /{self.prefix}{rest or '/'} is not an endpoint this proxy serves. "
            f"/{self.prefix} serves: {served}.",
        )

    def dialect_for(self, rest: str) -> Dialect:
        """The error format for a request to `rest`, known from its path alone (so a
        refusal before the endpoint is matched, a 401 say, speaks it too)."""
        for endpoint in self.endpoints:
            if endpoint.dialect is not None and endpoint.pattern.fullmatch(rest):
                return endpoint.dialect
        return self.dialect

    def upstream_path(self, rest: str) -> str:
        return rest.removeprefix(self.strip) if self.strip else rest


def _endpoints(*rows: tuple[str, str, ModelSource]) -> tuple[Endpoint, ...]:
    return tuple(Endpoint(method, path, model) for method, path, model in rows)


def _gemini(version: str) -> tuple[Endpoint, ...]:
    """Gemini's native API at one version: the google-genai SDK calls v1, the AI SDK
    (OpenCode) v1beta."""
    model = f"/{version}/models/{{model}}"
    return _endpoints(
        ("POST", model + ":generateContent", "path"),
        ("POST", model + ":streamGenerateContent", "path"),
        ("POST", model + ":countTokens", "path"),
        ("GET", f"/{version}/models", "listing"),
        ("GET", model, "listing"),
    )


SHIPPED: tuple[ProviderRoute, ...] = (
    ProviderRoute(
        "anthropic",
        "anthropic",
        Dialect.ANTHROPIC,
        _endpoints(
            ("POST", "/v1/messages", "body"),
            ("POST", "/v1/messages/count_tokens", "body"),
            ("GET", "/v1/models", "listing"),
            ("GET", "/v1/models/{model}", "listing"),
        ),
        key_header="x-api-key",
    ),
    ProviderRoute(
        "openai",
        "openai",
        Dialect.OPENAI,
        _endpoints(
            ("POST", "/v1/responses", "body"),
            ("POST", "/v1/chat/completions", "body"),
            ("GET", "/v1/models", "listing"),
            ("GET", "/v1/models/{model}", "listing"),
        ),
        strip="/v1",
    ),
    ProviderRoute(
        "google-ai-studio",
        "google-ai-studio",
        Dialect.GOOGLE,
        (
            *_gemini("v1beta"),
            *_gemini("v1"),
            Endpoint("POST", "/v1beta/openai/chat/completions", "body", Dialect.OPENAI),
            Endpoint("GET", "/v1beta/openai/models", "listing", Dialect.OPENAI),
        ),
        key_header="x-goog-api-key",
    ),
    ProviderRoute(
        "compat",
        "compat",
        Dialect.OPENAI,
        _endpoints(
            ("POST", "/chat/completions", "body"),
            ("GET", "/models", "listing"),
        ),
        workers_ai="workers-ai/",
    ),
    ProviderRoute(
        "workers-ai",
        "workers-ai",
        Dialect.OPENAI,
        _endpoints(
            ("POST", "/v1/chat/completions", "body"),
            ("GET", "/v1/models", "listing"),
            ("POST", "/{model:path}", "path"),
        ),
        workers_ai="",
    ),
)
PREFIXES: tuple[str, ...] = tuple(route.prefix for route in SHIPPED)


def provider_routes(extra: Mapping[str, Sequence[Mapping[str, Any]]]) -> tuple[ProviderRoute, ...]:
    """The shipped routes with config-src's extra endpoints (`{prefix: [endpoint, ...]}`)
    after their own; raises BadEndpoint for an unknown prefix or a bad endpoint."""
    unknown = set(extra) - set(PREFIXES)
    if unknown:
        raise BadEndpoint(f"no provider route {', '.join(sorted(unknown))}")
    return tuple(
        route.with_extra(Endpoint.from_json(value) for value in extra.get(route.prefix, ()))
        for route in SHIPPED
    )
