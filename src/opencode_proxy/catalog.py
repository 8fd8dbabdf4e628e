"""The model catalog in KV: OpenCode model entries by provider, and the refresh's state.

The hourly cron (refresh.py) fills it from models.dev (models_dev.py); discovery
and the proxy read it at most once a minute per isolate.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .ports import Clock, KeyValue

log = logging.getLogger(__name__)

KV_KEY = "catalog:v1"
HOLD_KEY = "catalog:hold:v1"
DEFAULT_URL = "https://models.dev/api.json"
DEFAULT_PROVIDERS = ("openai",)
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
    # The models.dev providers it was built from, and those the document lacked (their
    # previous models are kept).
    sources: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()

    def model_count(self) -> int:
        return sum(len(models) for models in self.providers.values())

    def to_json(self) -> str:
        return json.dumps(
            {
                "fetched_at": self.fetched_at,
                "checked_at": self.checked_at,
                "etag": self.etag,
                "digest": self.digest,
                "sources": self.sources,
                "missing": self.missing,
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
            sources=tuple(data.get("sources", data["providers"])),
            missing=tuple(data.get("missing", ())),
        )


@dataclass(frozen=True, slots=True)
class Hold:
    """The stored catalog is being held: since when, the latest refusal and why, and a
    shrunken result waiting to be confirmed by consecutive refreshes."""

    since: float
    at: float
    reason: str
    candidate: str | None = None
    seen: int = 0

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Hold:
        data = json.loads(text)
        return cls(
            since=float(data["since"]),
            at=float(data["at"]),
            reason=str(data["reason"]),
            candidate=data.get("candidate"),
            seen=int(data.get("seen", 0)),
        )


class CatalogStore:
    """The catalog in KV, read at most once a minute per isolate."""

    def __init__(self, kv: KeyValue, clock: Clock) -> None:
        self._kv = kv
        self._clock = clock
        self._cached: Catalog | None = None
        self._read_at = float("-inf")
        self._hold: Hold | None = None
        self._hold_read_at = float("-inf")

    async def current(self) -> Catalog | None:
        if self._clock() - self._read_at < ISOLATE_CACHE_SECONDS:
            return self._cached
        self._cached = await self.read()
        self._read_at = self._clock()
        return self._cached

    async def report(self) -> dict[str, Any] | None:
        """The catalog's state for people (/healthz, the page): size, age, what is held."""
        catalog = await self.current()
        if self._clock() - self._hold_read_at >= ISOLATE_CACHE_SECONDS:
            self._hold, self._hold_read_at = await self.read_hold(), self._clock()
        now, hold = self._clock(), self._hold
        report: dict[str, Any] | None = None
        if catalog is not None:
            report = {
                "models": catalog.model_count(),
                "fetched_age_seconds": int(now - catalog.fetched_at),
                "checked_age_seconds": int(now - catalog.checked_at),
                "missing_providers": list(catalog.missing),
            }
        if hold is not None:
            report = report or {}
            report["held_seconds"] = int(now - hold.since)
            report["refused"] = {"age_seconds": int(now - hold.at), "reason": hold.reason}
        return report

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

    async def read_hold(self) -> Hold | None:
        """Why the last refreshes kept the stored catalog; None after a good one."""
        try:
            text = await self._kv.get(HOLD_KEY)
            return None if not text else Hold.from_json(text)
        except Exception as exc:
            log.warning("catalog hold unreadable: %s", type(exc).__name__)
            return None

    async def write_hold(self, hold: Hold | None) -> None:
        await self._kv.put(HOLD_KEY, "" if hold is None else hold.to_json())
        self._hold, self._hold_read_at = hold, self._clock()
