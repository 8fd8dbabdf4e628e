"""The model catalog in KV: OpenCode model entries by provider, and the refresh's state.

Two records. The catalog itself (tens of KB) is written only when what it serves
changes; discovery and the proxy read it at most once a minute per isolate, and
key their caches by a hash of its text, so a change of any kind reaches every
isolate. The refresh's state (a few hundred bytes) says when models.dev was last
checked, with which validator and for which providers, and what is failing or
held back; the hourly cron (refresh.py) writes it every run.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .bounded_json import load_document
from .ports import Clock, KeyValue
from .safe_text import usable_entry

log = logging.getLogger(__name__)

KV_KEY = "catalog:v1"
STATE_KEY = "catalog:state:v1"
DEFAULT_URL = "https://models.dev/api.json"
ISOLATE_CACHE_SECONDS = 60.0


class CatalogError(Exception):
    """A refresh that cannot be used; the message says why, for the cron's log."""


@dataclass(frozen=True, slots=True)
class Catalog:
    """The stored catalog: OpenCode model entries by models.dev provider."""

    providers: Mapping[str, Mapping[str, Mapping[str, Any]]]
    fetched_at: float
    # The models.dev providers it holds, and those the document lacked (kept as they were).
    sources: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    # A hash of the stored text: what caches built from the catalog are keyed by.
    version: str = field(default="", compare=False)

    def model_count(self) -> int:
        return sum(len(models) for models in self.providers.values())

    def to_json(self) -> str:
        return json.dumps(
            {
                "fetched_at": self.fetched_at,
                "sources": self.sources,
                "missing": self.missing,
                "providers": self.providers,
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> Catalog:
        """The stored catalog; an entry that cannot be served safely (stored before the
        refresh checked every text) is left out."""
        data = load_document(text)
        return cls(
            providers={
                provider_id: {m: e for m, e in models.items() if usable_entry(m, e)}
                for provider_id, models in data["providers"].items()
            },
            fetched_at=float(data["fetched_at"]),
            sources=tuple(data.get("sources", data["providers"])),
            missing=tuple(data.get("missing", ())),
            version=hashlib.sha256(text.encode()).hexdigest(),
        )

    def same_content(self, other: Catalog | None) -> bool:
        return other is not None and (self.providers, self.sources, self.missing) == (
            other.providers,
            other.sources,
            other.missing,
        )


ACCEPTED, REFUSED = "accepted", "refused"


@dataclass(frozen=True, slots=True)
class Hold:
    """A provider whose recent refreshes would take most of its models away: kept as it was
    until the shrink has been `seen` on enough successful refreshes (or, for one that
    would leave almost nothing, until an operator's `decision` accepts it), or forgotten
    once enough refreshes in a row (`clear`) no longer show it."""

    since: float
    seen: int
    reason: str
    clear: int = 0
    # Whether only an operator can let this shrink through, and what they decided.
    confirm: bool = False
    decision: str | None = None

    @property
    def holding(self) -> bool:
        """Whether the provider is kept as it was now (not only watched)."""
        return self.clear == 0

    @property
    def waiting(self) -> bool:
        """Whether it waits for an operator to accept or refuse it."""
        return self.holding and self.confirm and self.decision is None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Hold:
        decision = data.get("decision")
        return cls(
            float(data["since"]),
            int(data["seen"]),
            str(data["reason"]),
            int(data.get("clear", 0)),
            bool(data.get("confirm", False)),
            decision if decision in (ACCEPTED, REFUSED) else None,
        )


@dataclass(frozen=True, slots=True)
class Failure:
    """Refreshes failing since `since`; the latest at `at`, for `reason`."""

    since: float
    at: float
    reason: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Failure:
        return cls(float(data["since"]), float(data["at"]), str(data["reason"]))


@dataclass(frozen=True, slots=True)
class RefreshState:
    """What the last refreshes saw: when, which document (validator and hash), for which
    providers, and what is failing or held."""

    checked_at: float | None = None
    etag: str | None = None
    digest: str | None = None
    sources: tuple[str, ...] = ()
    failure: Failure | None = None
    holds: Mapping[str, Hold] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> RefreshState:
        data = load_document(text)
        failure = data.get("failure")
        return cls(
            checked_at=data.get("checked_at"),
            etag=data.get("etag"),
            digest=data.get("digest"),
            sources=tuple(data.get("sources", ())),
            failure=Failure.from_json(failure) if failure else None,
            holds={name: Hold.from_json(hold) for name, hold in data.get("holds", {}).items()},
        )


def _age(now: float, then: float) -> int:
    return max(0, int(now - then))


class CatalogStore:
    """The catalog and the refresh's state in KV, each read at most once a minute per
    isolate."""

    def __init__(self, kv: KeyValue, clock: Clock) -> None:
        self._kv = kv
        self._clock = clock
        self._cached: Catalog | None = None
        self._read_at = float("-inf")
        self._state = RefreshState()
        self._state_read_at = float("-inf")

    async def current(self) -> Catalog | None:
        if self._clock() - self._read_at < ISOLATE_CACHE_SECONDS:
            return self._cached
        self._cached = await self.read()
        self._read_at = self._clock()
        return self._cached

    async def report(self, sources: tuple[str, ...] = ()) -> dict[str, Any] | None:
        """The catalog's state for people (/healthz, the page): size, age, what is held,
        and which of the configured `sources` it lacks."""
        catalog = await self.current()
        if self._clock() - self._state_read_at >= ISOLATE_CACHE_SECONDS:
            self._state, self._state_read_at = await self.read_state(), self._clock()
        now, state = self._clock(), self._state
        report: dict[str, Any] = {}
        if catalog is not None:
            report = {
                "models": catalog.model_count(),
                "fetched_age_seconds": _age(now, catalog.fetched_at),
                "missing_providers": sorted(
                    set(catalog.missing) | (set(sources) - set(catalog.providers))
                ),
            }
        if state.checked_at is not None:
            report["checked_age_seconds"] = _age(now, state.checked_at)
        troubles = [(f.since, f.at, f.reason) for f in (state.failure,) if f is not None]
        held = {name: h for name, h in state.holds.items() if h.holding}
        troubles += [(h.since, now, h.reason) for h in held.values()]
        if troubles:
            report["held_seconds"] = _age(now, min(since for since, _, _ in troubles))
            _, at, reason = max(troubles, key=lambda trouble: trouble[1])
            report["refused"] = {"age_seconds": _age(now, at), "reason": reason}
        if held:
            report["holds"] = {
                name: {
                    "held_seconds": _age(now, h.since),
                    "seen": h.seen,
                    **({"operator": h.decision or "waiting"} if h.confirm else {}),
                }
                for name, h in sorted(held.items())
            }
        return report or None

    async def read(self) -> Catalog | None:
        """The stored catalog; None when there is none or it cannot be read."""
        try:
            text = await self._kv.get(KV_KEY)
            return None if text is None else Catalog.from_json(text)
        except Exception as exc:  # discovery must keep working on the compiled defaults
            log.warning("stored catalog unreadable: %s", type(exc).__name__)
            return None

    async def write(self, catalog: Catalog) -> Catalog:
        """Store `catalog`; returns it as it is now stored (with its version)."""
        text = catalog.to_json()
        await self._kv.put(KV_KEY, text)
        stored = Catalog.from_json(text)
        self._cached, self._read_at = stored, self._clock()
        return stored

    async def read_state(self) -> RefreshState:
        """What the last refreshes saw; a fresh state when none is stored or readable."""
        try:
            text = await self._kv.get(STATE_KEY)
            return RefreshState() if not text else RefreshState.from_json(text)
        except Exception as exc:
            log.warning("catalog refresh state unreadable: %s", type(exc).__name__)
            return RefreshState()

    async def decide(self, provider: str, decision: str) -> Hold:
        """Record an operator's decision on a shrink that waits for one; raises
        CatalogError when none does."""
        state = await self.read_state()
        hold = state.holds.get(provider)
        if hold is None or not hold.holding or not hold.confirm:
            waiting = sorted(name for name, h in state.holds.items() if h.waiting)
            raise CatalogError(
                f"no change to {provider!r} waits for an operator "
                f"(waiting: {', '.join(waiting) or 'none'})"
            )
        decided = dataclasses.replace(hold, decision=decision)
        holds = {**state.holds, provider: decided}
        await self.write_state(dataclasses.replace(state, holds=holds))
        return decided

    async def write_state(self, state: RefreshState) -> None:
        await self._kv.put(STATE_KEY, state.to_json())
        self._state, self._state_read_at = state, self._clock()
