"""The model catalog: models.dev turned into OpenCode model entries, kept in KV.

The hourly cron reads models.dev, keeps the chat models of the configured
providers, forces `options.store = false` on every one (Zero Data Retention)
and stores the result with the time it was fetched. Nothing that goes wrong
(network, status, JSON, a missing provider, a suspiciously small result) ever
replaces the last good catalog. Plain Python: this runs inside the Worker.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .ports import Clock, HttpGet, KeyValue, LogLine

log = logging.getLogger(__name__)

KV_KEY = "catalog:v1"
DEFAULT_URL = "https://models.dev/api.json"
DEFAULT_PROVIDERS = ("openai",)
# A refresh that would keep fewer than this share of a provider's models is refused.
KEEP_AT_LEAST = 0.5
# Kinds of model that cannot hold a chat, whatever their modalities say.
NOT_CHAT = (
    "embed",
    "moderation",
    "whisper",
    "transcribe",
    "tts",
    "realtime",
    "dall-e",
    "gpt-image",
    "search-preview",
)
ISOLATE_CACHE_SECONDS = 60.0


class CatalogError(Exception):
    """A refresh that cannot be used; the message says why, for the cron's log."""


@dataclass(frozen=True, slots=True)
class Catalog:
    """The stored catalog: OpenCode model entries by provider, and where they came from."""

    providers: Mapping[str, Mapping[str, Mapping[str, Any]]]
    fetched_at: float
    checked_at: float
    etag: str | None
    digest: str

    def model_count(self) -> int:
        return sum(len(models) for models in self.providers.values())

    def to_json(self) -> str:
        return json.dumps(
            {
                "fetched_at": self.fetched_at,
                "checked_at": self.checked_at,
                "etag": self.etag,
                "digest": self.digest,
                "providers": self.providers,
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> Catalog:
        data = json.loads(text)
        return cls(
            providers=data["providers"],
            fetched_at=float(data["fetched_at"]),
            checked_at=float(data.get("checked_at", data["fetched_at"])),
            etag=data.get("etag"),
            digest=str(data["digest"]),
        )


def _flag(value: Any) -> bool:
    """A capability that models.dev gives as a boolean or as an object."""
    if isinstance(value, bool):
        return value
    if isinstance(value, Mapping):
        return bool(value.get("supported", value.get("enabled", bool(value))))
    return False


def _count(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return None
    return int(value)


def _price(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return None
    return value


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def model_entry(model_id: str, model: Mapping[str, Any]) -> dict[str, Any] | None:
    """One models.dev model as an OpenCode model entry, or None if it cannot serve chat."""
    if model.get("status") == "deprecated":
        return None
    family = str(model.get("family") or "")
    if any(word in f"{model_id} {family}".lower() for word in NOT_CHAT):
        return None
    modalities = model.get("modalities")
    modalities = modalities if isinstance(modalities, Mapping) else {}
    inputs, outputs = _strings(modalities.get("input")), _strings(modalities.get("output"))
    if (inputs and "text" not in inputs) or (outputs and "text" not in outputs):
        return None
    limit = model.get("limit")
    limit = limit if isinstance(limit, Mapping) else {}
    context, output = _count(limit.get("context")), _count(limit.get("output"))
    if context is None or output is None:
        return None
    entry: dict[str, Any] = {
        "name": model["name"] if isinstance(model.get("name"), str) else model_id,
        "limit": {"context": context, "output": output},
    }
    cost = model.get("cost")
    if isinstance(cost, Mapping):
        prices = {
            key: _price(cost.get(key)) for key in ("input", "output", "cache_read", "cache_write")
        }
        if prices["input"] is not None and prices["output"] is not None:
            entry["cost"] = {key: price for key, price in prices.items() if price is not None}
    if inputs and outputs:
        entry["modalities"] = {"input": inputs, "output": outputs}
    entry["reasoning"] = _flag(model.get("reasoning"))
    entry["tool_call"] = _flag(model.get("tool_call"))
    entry["attachment"] = _flag(model.get("attachment"))
    entry["temperature"] = _flag(model.get("temperature", True))
    if isinstance(model.get("release_date"), str):
        entry["release_date"] = model["release_date"]
    entry["options"] = {"store": False}
    return entry


def transform(document: Any, providers: Sequence[str]) -> dict[str, dict[str, dict[str, Any]]]:
    """The chat models of `providers` in a models.dev document, as OpenCode entries."""
    if not isinstance(document, Mapping):
        raise CatalogError("the document is not a JSON object")
    result: dict[str, dict[str, dict[str, Any]]] = {}
    for provider_id in providers:
        provider = document.get(provider_id)
        models = provider.get("models") if isinstance(provider, Mapping) else None
        if not isinstance(models, Mapping):
            raise CatalogError(f"provider {provider_id!r} is missing from the document")
        entries = {}
        for model_id, model in models.items():
            if isinstance(model_id, str) and isinstance(model, Mapping):
                entry = model_entry(model_id, model)
                if entry is not None:
                    entries[model_id] = entry
        if not entries:
            raise CatalogError(f"provider {provider_id!r} has no usable chat model")
        result[provider_id] = dict(sorted(entries.items()))
    return result


def check_against(new: Mapping[str, Mapping[str, Any]], current: Catalog | None) -> None:
    """Refuse a result that would silently lose most of a provider's models."""
    if current is None:
        return
    for provider_id, models in current.providers.items():
        kept = len(new.get(provider_id, {}))
        if kept < len(models) * KEEP_AT_LEAST:
            raise CatalogError(
                f"provider {provider_id!r} would drop from {len(models)} to {kept} models"
            )


class CatalogStore:
    """The catalog in KV, read at most once a minute per isolate."""

    def __init__(self, kv: KeyValue, clock: Clock) -> None:
        self._kv = kv
        self._clock = clock
        self._cached: Catalog | None = None
        self._read_at = float("-inf")

    async def current(self) -> Catalog | None:
        if self._clock() - self._read_at < ISOLATE_CACHE_SECONDS:
            return self._cached
        self._cached = await self.read()
        self._read_at = self._clock()
        return self._cached

    async def read(self) -> Catalog | None:
        """The stored catalog; None when there is none or it cannot be read."""
        try:
            text = await self._kv.get(KV_KEY)
            return None if text is None else Catalog.from_json(text)
        except Exception as exc:  # discovery must keep working on the compiled defaults
            log.warning("stored catalog unreadable: %s", type(exc).__name__)
            return None

    async def write(self, catalog: Catalog) -> None:
        await self._kv.put(KV_KEY, catalog.to_json())
        self._cached, self._read_at = catalog, self._clock()


@dataclass(frozen=True, slots=True)
class Refresher:
    """One cron run: fetch, transform, check, store; or log why not and keep the old one."""

    store: CatalogStore
    http_get: HttpGet
    clock: Clock
    log_line: LogLine
    url: str = DEFAULT_URL
    providers: Sequence[str] = DEFAULT_PROVIDERS

    async def run(self) -> str:
        """Refresh the catalog; returns what happened, in words, never raises."""
        try:
            outcome = await self._refresh()
        except CatalogError as exc:
            outcome = f"kept the previous catalog: {exc}"
        except Exception as exc:  # a cron must exit cleanly whatever happened
            log.exception("catalog refresh failed")
            outcome = f"kept the previous catalog: unexpected {type(exc).__name__}"
        self.log_line(json.dumps({"event": "catalog", "outcome": outcome}))
        return outcome

    async def _refresh(self) -> str:
        current = await self.store.read()
        headers = {"accept": "application/json"}
        if current is not None and current.etag:
            headers["if-none-match"] = current.etag
        try:
            answer = await self.http_get(self.url, headers)
        except OSError as exc:
            raise CatalogError(f"cannot reach {self.url}: {exc}") from None
        now = self.clock()
        if answer.status == 304 and current is not None:
            await self._touch(current, now)
            return "unchanged (304)"
        if answer.status != 200:
            raise CatalogError(f"{self.url} answered {answer.status}")
        digest = hashlib.sha256(answer.text.encode()).hexdigest()
        if current is not None and digest == current.digest:
            await self._touch(current, now)
            return "unchanged (same content)"
        try:
            document = json.loads(answer.text)
        except ValueError as exc:
            raise CatalogError(f"invalid JSON from {self.url}: {exc}") from None
        providers = transform(document, self.providers)
        check_against(providers, current)
        catalog = Catalog(providers, now, now, answer.headers.get("etag"), digest)
        await self.store.write(catalog)
        return f"stored {catalog.model_count()} models"

    async def _touch(self, current: Catalog, now: float) -> None:
        await self.store.write(
            Catalog(current.providers, current.fetched_at, now, current.etag, current.digest)
        )
