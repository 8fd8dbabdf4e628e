"""The hourly catalog refresh: fetch models.dev, transform, guard, store; never raise.

The guard stops one broken or truncated document from wiping models, but it
cannot lock, and it holds back only what shrinks: a provider whose models would
fall below half is kept as it was (the others update) until the shrink has been
seen on CONFIRMATIONS successful refreshes, whatever failed in between and however
its exact list moved, and is then taken. One that would keep less than a quarter
(one flag flipped upstream once took all of Workers AI's) is kept until an operator
accepts it (`scripts/refresh_catalog.py --accept`); a refused one stays kept. A run
fetches at most twice, whatever models.dev answers. A provider no longer configured is
dropped at once, even when models.dev cannot be reached; a changed provider list
is always fetched afresh. The catalog is written only when what it serves
changes; the refresh's state (when, which document, what fails or is held) every
run.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from .bounded_json import load_document
from .catalog import (
    ACCEPTED,
    DEFAULT_URL,
    Catalog,
    CatalogError,
    CatalogStore,
    Failure,
    Hold,
    RefreshState,
)
from .models_dev import transform
from .ports import Clock, HttpGet, LogLine

log = logging.getLogger(__name__)

# A refresh that would keep fewer than this share of a provider's models is held back...
KEEP_AT_LEAST = 0.5
# ...until that provider's shrink has been seen on this many successful refreshes.
CONFIRMATIONS = 3
# A refresh that would keep fewer than this share waits for an operator instead.
OPERATOR_BELOW = 0.25
# models.dev answers in well under a second; a fetch that hangs must not hang the cron.
FETCH_TIMEOUT_SECONDS = 20.0

Models = Mapping[str, Mapping[str, Any]]


@dataclass(frozen=True, slots=True)
class _Outcome:
    providers: dict[str, Models]
    holds: dict[str, Hold]
    taken: list[str]


def _guarded(
    fresh: Mapping[str, Models],
    current: Catalog | None,
    holds: Mapping[str, Hold],
    now: float,
) -> _Outcome:
    """Per provider, the fresh models, or the previous ones while a shrink is held."""
    providers: dict[str, Models] = {}
    kept: dict[str, Hold] = {}
    taken = []
    for provider_id, models in fresh.items():
        before = len(current.providers.get(provider_id, {})) if current is not None else 0
        hold = holds.get(provider_id)
        if not before or len(models) >= before * KEEP_AT_LEAST:
            providers[provider_id] = models
            # A shrink seen once among good documents was a broken copy: forget it only
            # once it has stayed away, so a stale copy alternating with a new one still
            # lets the new one through.
            if hold is not None and hold.clear + 1 < CONFIRMATIONS:
                kept[provider_id] = replace(hold, clear=hold.clear + 1)
            continue
        seen = hold.seen + 1 if hold is not None else 1
        reason = f"{provider_id!r} would drop from {before} to {len(models)} models"
        confirm = len(models) < before * OPERATOR_BELOW
        decision = hold.decision if hold is not None and hold.confirm == confirm else None
        if decision == ACCEPTED or (not confirm and seen >= CONFIRMATIONS):
            providers[provider_id] = models
            why = "accepted by an operator" if confirm else f"seen on {seen} refreshes"
            taken.append(f"{reason}, {why}")
        else:
            assert current is not None
            providers[provider_id] = current.providers[provider_id]
            since = hold.since if hold else now
            kept[provider_id] = Hold(since, seen, reason, confirm=confirm, decision=decision)
    return _Outcome(providers, kept, taken)


def _due(hold: Hold) -> bool:
    """Whether a held shrink would be taken on this refresh."""
    if not hold.holding:
        return False
    return hold.decision == ACCEPTED if hold.confirm else hold.seen >= CONFIRMATIONS


def _holding(hold: Hold) -> str:
    if not hold.confirm:
        return f"holding {hold.reason} (seen {hold.seen} of {CONFIRMATIONS})"
    if hold.decision is None:
        return f"holding {hold.reason} until an operator accepts or refuses it"
    return f"holding {hold.reason} ({hold.decision} by an operator)"


@dataclass(frozen=True, slots=True)
class Refresher:
    """One cron run over `providers` (models.dev ids; order does not matter)."""

    store: CatalogStore
    http_get: HttpGet
    clock: Clock
    log_line: LogLine
    url: str = DEFAULT_URL
    providers: Sequence[str] = ()

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(sorted(set(self.providers)))

    async def run(self) -> str:
        """Refresh the catalog; returns what happened, in words, never raises."""
        current = await self.store.read()
        state = await self.store.read_state()
        try:
            outcome = await self._refresh(current, state)
        except CatalogError as exc:
            outcome = f"kept the previous catalog: {exc}"
            await self._failed(current, state, str(exc))
        except Exception as exc:  # a cron must exit cleanly whatever happened
            log.exception("catalog refresh failed")
            outcome = f"kept the previous catalog: unexpected {type(exc).__name__}"
            await self._failed(current, state, outcome)
        self.log_line(json.dumps({"event": "catalog", "outcome": outcome}))
        return outcome

    async def _refresh(
        self, current: Catalog | None, state: RefreshState, *, again: bool = False
    ) -> str:
        """`again`: this run's second fetch, for a document whose lists a held shrink
        needs; there is no third."""
        sources = self.sources
        # The validator only speaks for the providers the last document was read for, and
        # only while the stored catalog holds exactly those.
        same = state.sources == sources and current is not None and current.sources == sources
        headers = {"accept": "application/json"}
        if same and state.etag:
            headers["if-none-match"] = state.etag
        try:
            answer = await self.http_get(self.url, headers, timeout=FETCH_TIMEOUT_SECONDS)
        except OSError as exc:
            raise CatalogError(f"cannot reach {self.url}: {exc}") from None
        now = self.clock()
        if again and answer.status == 304:
            raise CatalogError(
                f"{self.url} answered 304 to a request without a validator; the held "
                "change waits for a document that can be read"
            )
        digest = hashlib.sha256(answer.text.encode()).hexdigest()
        unchanged = answer.status == 304 or (answer.status == 200 and digest == state.digest)
        if same and unchanged and current is not None:
            return await self._unchanged(current, state, now, answer.status)
        if answer.status != 200:
            raise CatalogError(f"{self.url} answered {answer.status}")
        try:
            document = load_document(answer.text)
        except ValueError as exc:
            raise CatalogError(f"invalid JSON from {self.url}: {exc}") from None
        fresh, missing, dropped = transform(document, sources)
        if dropped:
            self._log_dropped(dropped)
        for provider_id in missing:  # keep what models.dev no longer lists, and say so
            if current is not None and provider_id in current.providers:
                fresh[provider_id] = {k: dict(v) for k, v in current.providers[provider_id].items()}
        guarded = _guarded(fresh, current, state.holds, now)
        self._keep_held_unconfigured(current, state, guarded)
        catalog = Catalog(guarded.providers, now, sources, missing)
        if not catalog.same_content(current):
            await self.store.write(catalog)
            written = f"stored {catalog.model_count()} models"
        else:
            written = f"no change to the {catalog.model_count()} models served"
        await self.store.write_state(
            RefreshState(now, answer.headers.get("etag"), digest, sources, None, guarded.holds)
        )
        notes = [f"taking a shrink: {note}" for note in guarded.taken]
        notes += [_holding(hold) for hold in guarded.holds.values() if hold.holding]
        if missing:
            notes.append(f"{', '.join(missing)} missing from models.dev")
        return "; ".join([written, *notes])

    def _held_unconfigured(self, state: RefreshState) -> dict[str, Hold]:
        """Holds of providers no longer configured: kept, with their models, so that a
        provider removed and added again does not take an unconfirmed shrink at once."""
        return {
            name: hold
            for name, hold in state.holds.items()
            if hold.holding and name not in self.sources
        }

    def _keep_held_unconfigured(
        self, current: Catalog | None, state: RefreshState, guarded: _Outcome
    ) -> None:
        for name, hold in self._held_unconfigured(state).items():
            if current is not None and name in current.providers:
                guarded.providers[name] = current.providers[name]
                guarded.holds[name] = hold

    def _log_dropped(self, dropped: Sequence[str]) -> None:
        """One line naming what models.dev sent that cannot be served (the first few)."""
        line = {"event": "catalog_dropped", "count": len(dropped), "dropped": dropped[:20]}
        self.log_line(json.dumps(line))

    async def _unchanged(
        self, current: Catalog, state: RefreshState, now: float, status: int
    ) -> str:
        """The same document again: a held shrink is seen once more, and taken when enough."""
        holds = {
            name: replace(hold, seen=hold.seen + 1)
            if hold.holding
            else replace(hold, clear=hold.clear + 1)
            for name, hold in state.holds.items()
        }
        holds = {name: hold for name, hold in holds.items() if hold.clear < CONFIRMATIONS}
        if any(_due(hold) for hold in holds.values()):
            # A shrink is due, but its lists are not at hand (a 304 has no body): read the
            # document again, which counts this sighting once.
            return await self._refresh(current, replace(state, etag=None, digest=None), again=True)
        await self.store.write_state(replace(state, checked_at=now, failure=None, holds=holds))
        return "unchanged (304)" if status == 304 else "unchanged (same content)"

    async def _failed(self, current: Catalog | None, state: RefreshState, reason: str) -> None:
        """Record the failure, and drop providers no longer configured whatever happened."""
        now = self.clock()
        since = state.failure.since if state.failure is not None else now
        try:
            await self.store.write_state(replace(state, failure=Failure(since, now, reason)))
            held = self._held_unconfigured(state)
            if current is not None and set(current.providers) - set(self.sources) - set(held):
                kept = {
                    p: m for p, m in current.providers.items() if p in self.sources or p in held
                }
                sources = tuple(p for p in current.sources if p in self.sources)
                await self.store.write(replace(current, providers=kept, sources=sources))
        except Exception as error:  # the cron still exits cleanly
            log.warning("could not record the failed refresh: %s", type(error).__name__)
