"""The shape of `config-src/`: what the project itself decides about each file.

OpenCode's own settings pass through as written: the compiled config is checked
against the pinned OpenCode CLI's schema (opencode_cli.py), so the build
accepts exactly what OpenCode accepts. These models check only what is the
proxy's business: routes, the token, Zero Data Retention, the model menu and the
references between files.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    StrictStr,
    model_validator,
)
from pydantic_core import PydanticCustomError

from opencode_proxy.endpoints import PREFIXES, BadEndpoint, Endpoint
from opencode_proxy.identity import NotAnAddress, normalise_email

BASE_URL = "{baseURL}"
# Set by the Worker from the model menu; config-src says it with `serve` and `hide`.
MENU_KEYS = ("whitelist", "blacklist", "enabled_providers", "disabled_providers")
# Built from the folders of config-src/, never from opencode.toml.
FOLDER_KEYS = {
    "provider": "providers/",
    "mcp": "mcp/",
    "agent": "agents/",
    "command": "commands/",
    "permission": "permission.toml",
}


def _non_empty(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError("non_empty", "must not be empty")
    return value


def _env_name(value: str) -> str:
    if not re.fullmatch(r"[A-Z][A-Z0-9_]*", value):
        raise PydanticCustomError("env_name", "must be an environment variable name like MY_TOKEN")
    return value


def _model_ref(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_.-]+/\S+", value):
        raise PydanticCustomError("model_ref", "must look like 'provider/model-id'")
    return value


def _refuse(data: Any, keys: tuple[str, ...], why: str) -> None:
    if isinstance(data, dict):
        for key in keys:
            if key in data:
                raise PydanticCustomError("reserved", "{key}: {why}", {"key": key, "why": why})


Text = Annotated[StrictStr, AfterValidator(_non_empty)]
ModelRef = Annotated[StrictStr, AfterValidator(_model_ref)]


class OpenCodeFields(BaseModel):
    """A file whose other keys are OpenCode's, passed through and checked by its schema."""

    model_config = ConfigDict(extra="allow", frozen=True)

    def opencode(self, *, exclude: set[str] | None = None) -> dict[str, Any]:
        return self.model_dump(exclude_none=True, exclude=exclude)


class Model(OpenCodeFields):
    """One model entry; `options.store` may never turn retention on."""

    options: dict[str, Any] = Field(default_factory=dict)

    def own(self) -> dict[str, Any]:
        """The fields config-src writes for this model, and nothing it left out."""
        return self.opencode(exclude=None if self.options else {"options"})

    @model_validator(mode="after")
    def _check_store(self) -> Model:
        if self.options.get("store", False) is not False:
            raise PydanticCustomError(
                "store", "options.store must be false: providers may not keep prompts"
            )
        return self


class ExtraEndpoint(BaseModel):
    """`[[endpoints]]` in a provider file: one more endpoint its route serves."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    method: StrictStr
    path: StrictStr
    # Where its requests name their models; "nested" checks every `model` in the body.
    model: StrictStr

    @model_validator(mode="after")
    def _usable(self) -> ExtraEndpoint:
        try:
            Endpoint.from_json(self.model_dump())
        except BadEndpoint as exc:
            raise PydanticCustomError("endpoint", "{why}", {"why": str(exc)}) from None
        return self


class Provider(OpenCodeFields):
    """`config-src/providers/<id>.toml`: one provider reached through the proxy."""

    base_url: StrictStr
    # The models.dev provider whose catalog models this provider may serve, and what
    # their ids need in front on this route (Workers AI through /compat: "workers-ai/").
    models_dev: Text
    models_dev_prefix: StrictStr = ""
    options: dict[str, Any] = Field(default_factory=dict)
    models: dict[str, Model] = Field(default_factory=dict)
    # Which catalog models to serve: shell-style patterns, then patterns to leave out.
    serve: list[Text] = Field(default_factory=lambda: ["*"])
    hide: list[Text] = Field(default_factory=list)
    # Endpoints its route serves beyond the shipped ones (batches, say).
    endpoints: list[ExtraEndpoint] = Field(default_factory=list)

    @property
    def route(self) -> str:
        """The proxy route its requests use: `{baseURL}/<route>/...`."""
        return self.base_url.removeprefix(BASE_URL + "/").split("/", 1)[0]

    @model_validator(mode="before")
    @classmethod
    def _menu_is_ours(cls, data: Any) -> Any:
        _refuse(data, MENU_KEYS, "set by the Worker from the served models; use serve and hide")
        return data

    @property
    def forces_no_store(self) -> bool:
        """OpenAI's API keeps responses unless told `store: false` (Zero Data Retention)."""
        return self.model_extra is not None and self.model_extra.get("npm") == "@ai-sdk/openai"

    @model_validator(mode="after")
    def _check_base_url(self) -> Provider:
        if not self.base_url.startswith(BASE_URL + "/") or self.route not in PREFIXES:
            routes = ", ".join(f"{BASE_URL}/{p}" for p in PREFIXES)
            raise PydanticCustomError(
                "base_url", "base_url must start with one of: {routes}", {"routes": routes}
            )
        for reserved in ("baseURL", "apiKey", "headers"):
            if reserved in self.options:
                raise PydanticCustomError(
                    "reserved_option",
                    "options.{key} is set by the build; remove it",
                    {"key": reserved},
                )
        return self


class Agent(OpenCodeFields):
    """`config-src/agents/<name>.toml`: one agent."""

    model: ModelRef | None = None


class Command(OpenCodeFields):
    """`config-src/commands/<name>.toml`: one slash command."""

    agent: Text | None = None
    model: ModelRef | None = None


class Auth(BaseModel):
    """`config-src/auth.toml`: how OpenCode gets and stores the Access token."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    env: Annotated[StrictStr, AfterValidator(_env_name)]
    command: list[Text] = Field(min_length=1)


class Root(OpenCodeFields):
    """`config-src/opencode.toml`: top-level OpenCode settings."""

    model: ModelRef
    small_model: ModelRef

    @model_validator(mode="before")
    @classmethod
    def _folders_and_menu_are_ours(cls, data: Any) -> Any:
        _refuse(data, MENU_KEYS, "set by the Worker from the served providers")
        if isinstance(data, dict):
            for key, source in FOLDER_KEYS.items():
                if key in data:
                    raise PydanticCustomError(
                        "folder",
                        "{key}: comes from config-src/{source}",
                        {"key": key, "source": source},
                    )
        return data


def _address(value: str) -> str:
    try:
        return normalise_email(value)
    except NotAnAddress as exc:
        raise PydanticCustomError(
            "email", "not an email address: {why}", {"why": str(exc)}
        ) from None


def _domain(value: str) -> str:
    return _address(f"x@{value}").partition("@")[2]


class GroupModels(BaseModel):
    """`[providers.<id>]` in a group file: patterns of that provider's models."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    serve: list[Text] = Field(default_factory=list)
    hide: list[Text] = Field(default_factory=list)


# A cap's dollars: more than nothing (AI Gateway refuses 0) and less than absurd.
Dollars = Annotated[StrictInt | StrictFloat, Field(gt=0, le=1_000_000, allow_inf_nan=False)]


class Caps(BaseModel):
    """Dollars per calendar period (caps.PERIODS), each optional."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    hourly: Dollars | None = None
    daily: Dollars | None = None
    weekly: Dollars | None = None
    monthly: Dollars | None = None


class Budget(BaseModel):
    """`config-src/budgets.toml` (the default) or a group file's `[budget]`: caps per
    person and for a group's shared budget."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    per_person: Caps = Caps()
    per_group: Caps = Caps()

    def amounts(self) -> dict[str, dict[str, float]]:
        """What caps.Budgets reads: kind -> period -> dollars, the periods set."""
        return {
            kind: caps.model_dump(exclude_none=True)
            for kind, caps in (("per_person", self.per_person), ("per_group", self.per_group))
        }


class Group(BaseModel):
    """`config-src/groups/<name>.toml`: who is in the group and what its menu changes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    access_groups: list[Text] = Field(default_factory=list)
    emails: list[Annotated[StrictStr, AfterValidator(_address)]] = Field(default_factory=list)
    email_domains: list[Annotated[StrictStr, AfterValidator(_domain)]] = Field(default_factory=list)
    replace_default: bool = False
    providers: dict[str, GroupModels] = Field(default_factory=dict)
    budget: Budget | None = None

    @model_validator(mode="after")
    def _has_members(self) -> Group:
        if not (self.access_groups or self.emails or self.email_domains):
            raise PydanticCustomError(
                "members", "name its members: access_groups, emails or email_domains"
            )
        return self
