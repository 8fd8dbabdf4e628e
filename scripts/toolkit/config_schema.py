"""The shape of `config-src/`: one pydantic model per kind of source file.

Each model validates one file and knows how to render itself as the OpenCode
config fragment it stands for. Unknown keys are errors, so a typo fails the
build instead of silently dropping a setting.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    model_validator,
)
from pydantic_core import PydanticCustomError

from opencode_proxy.proxy import PROVIDERS

BASE_URL = "{baseURL}"


def _positive_int(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise PydanticCustomError("positive_int", "must be a positive integer")
    return value


def _non_negative_number(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise PydanticCustomError("price", "must be a number of dollars, zero or more")
    return value


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


def _permission(value: Any) -> Any:
    def check(action: Any, where: str) -> None:
        if action not in ACTIONS:
            raise PydanticCustomError(
                "permission", "{where}must be 'ask', 'allow' or 'deny'", {"where": where}
            )

    if isinstance(value, dict):
        for tool, rule in value.items():
            if isinstance(rule, dict):
                for pattern, action in rule.items():
                    check(action, f"{tool}.{pattern!r}: ")
            else:
                check(rule, f"{tool}: ")
    else:
        check(value, "")
    return value


PositiveInt = Annotated[int, BeforeValidator(_positive_int)]
Price = Annotated[float, BeforeValidator(_non_negative_number)]
Text = Annotated[StrictStr, AfterValidator(_non_empty)]
ModelRef = Annotated[StrictStr, AfterValidator(_model_ref)]
Scalar = StrictStr | StrictBool | StrictInt | StrictFloat
ACTIONS = ("ask", "allow", "deny")
Modality = Literal["text", "image", "audio", "video", "pdf"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Limit(Strict):
    context: PositiveInt
    output: PositiveInt


class Cost(Strict):
    input: Price
    output: Price
    cache_read: Price | None = None
    cache_write: Price | None = None


class Modalities(Strict):
    input: list[Modality] = Field(min_length=1)
    output: list[Modality] = Field(min_length=1)


class Model(Strict):
    """One model a provider serves, in OpenCode's model-entry shape."""

    name: Text
    limit: Limit
    cost: Cost | None = None
    modalities: Modalities | None = None
    reasoning: StrictBool = False
    tool_call: StrictBool = True
    attachment: StrictBool = False
    temperature: StrictBool = True
    options: dict[str, Scalar] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check_store(self) -> Model:
        if self.options.get("store", False) is not False:
            raise PydanticCustomError(
                "store", "options.store must be false: providers may not keep prompts"
            )
        return self


class Provider(Strict):
    """`config-src/providers/<id>.toml`: one provider reached through the proxy."""

    name: Text
    npm: Text
    base_url: StrictStr
    options: dict[str, Scalar] = Field(default_factory=dict)
    models: dict[str, Model] = Field(min_length=1)
    # Models from the hourly catalog refresh not to serve: ids or shell-style patterns.
    hide: list[Text] = Field(default_factory=list)

    @property
    def forces_no_store(self) -> bool:
        """OpenAI's API keeps responses unless told `store: false` (Zero Data Retention)."""
        return self.npm == "@ai-sdk/openai"

    @model_validator(mode="after")
    def _check_base_url(self) -> Provider:
        prefix = self.base_url.removeprefix(BASE_URL + "/").split("/", 1)[0]
        if not self.base_url.startswith(BASE_URL + "/") or prefix not in PROVIDERS:
            routes = ", ".join(f"{BASE_URL}/{p}" for p in PROVIDERS)
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


class RemoteMcp(Strict):
    type: Literal["remote"]
    url: Text
    headers: dict[str, StrictStr] = Field(default_factory=dict)
    enabled: StrictBool = True


class LocalMcp(Strict):
    type: Literal["local"]
    command: list[Text] = Field(min_length=1)
    environment: dict[str, StrictStr] = Field(default_factory=dict)
    enabled: StrictBool = True


# `config-src/mcp/<name>.toml`: one MCP server, remote or local.
McpServer = Annotated[RemoteMcp | LocalMcp, Field(discriminator="type")]

# "ask" | "allow" | "deny", or {tool: action | {pattern: action}}.
Permission = Annotated[str | dict[str, str | dict[str, str]], BeforeValidator(_permission)]


class Agent(Strict):
    """`config-src/agents/<name>.toml`: one agent."""

    description: Text
    prompt: Text
    mode: Literal["primary", "subagent", "all"] = "all"
    model: ModelRef | None = None
    temperature: Annotated[float, Field(ge=0, le=2)] | None = None
    permission: Permission | None = None


class Command(Strict):
    """`config-src/commands/<name>.toml`: one slash command."""

    template: Text
    description: Text | None = None
    agent: Text | None = None
    model: ModelRef | None = None


class Auth(Strict):
    """`config-src/auth.toml`: how OpenCode gets and stores the Access token."""

    env: Annotated[StrictStr, AfterValidator(_env_name)]
    command: list[Text] = Field(min_length=1)


class Root(Strict):
    """`config-src/opencode.toml`: top-level OpenCode settings."""

    model: ModelRef
    small_model: ModelRef
    share: Literal["manual", "auto", "disabled"] = "manual"
    autoupdate: StrictBool | None = None
    instructions: list[Text] = Field(default_factory=list)


# `config-src/permission.toml`: the default tool permissions, {tool: action | {pattern: action}}.
PermissionFile = Annotated[dict[str, str | dict[str, str]], BeforeValidator(_permission)]
