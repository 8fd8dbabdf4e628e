"""The hourly catalog refresh: fetch models.dev, transform, guard, store; never raise.

The guard stops one broken or truncated document from wiping models, but it
cannot lock: a shrunken result is held back until the same shrunken menu comes
back on CONFIRMATIONS consecutive refreshes, and is then taken. What is held,
since when and why is kept beside the catalog for /healthz. Providers taken off
CATALOG_PROVIDERS are dropped, and a changed list is fetched afresh (no
If-None-Match, no "same bytes" shortcut).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from .catalog import DEFAULT_PROVIDERS, DEFAULT_URL, Catalog, CatalogError, CatalogStore, Hold
from .models_dev import Models, transform
from .ports import Clock, HttpGet, LogLine

log = logging.getLogger(__name__)

# A refresh that would keep fewer than this share of a provider's models is held back...
KEEP_AT_LEAST = 0.5
# ...until the same shrunken menu has come back this many refreshes in a row.
CONFIRMATIONS = 3


class Held(CatalogError):
    """A shrunken result, held back until consecutive refreshes confirm it."""

    def __init__(self, reason: str, candidate: str, seen: int) -> None:
        super().__init__(f"{reason} (seen {seen} of {CONFIRMATIONS} times in a row)")
        self.candidate = candidate
        self.seen = seen


def shrinking(fresh: Models, current: Catalog | None, providers: Sequence[str]) -> dict[str, str]:
    """The configured providers that would lose most of their models, and how, in words."""
    if current is None:
        return {}
    reasons = {}
    for provider_id in providers:
        before = len(current.providers.get(provider_id, {}))
        after = len(fresh.get(provider_id, {}))
        if before and after < before * KEEP_AT_LEAST:
            reasons[provider_id] = f"{provider_id!r} would drop from {before} to {after} models"
    return reasons


def menu_digest(fresh: Models, providers: Sequence[str]) -> str:
    """Which models these providers would serve: what a hold waits to see again. Other
    providers' changes do not reset it."""
    ids = {provider_id: sorted(fresh.get(provider_id, {})) for provider_id in sorted(providers)}
    return hashlib.sha256(json.dumps(ids).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Refresher:
    """One cron run over `providers` (models.dev ids)."""

    store: CatalogStore
    http_get: HttpGet
    clock: Clock
    log_line: LogLine
    url: str = DEFAULT_URL
    providers: Sequence[str] = DEFAULT_PROVIDERS

    async def run(self) -> str:
        """Refresh the catalog; returns what happened, in words, never raises."""
        current = await self.store.read()
        hold = await self.store.read_hold()
        try:
            outcome = await self._refresh(current, hold)
        except CatalogError as exc:
            outcome = f"kept the previous catalog: {exc}"
            await self._hold(current, hold, exc)
        except Exception as exc:  # a cron must exit cleanly whatever happened
            log.exception("catalog refresh failed")
            outcome = f"kept the previous catalog: unexpected {type(exc).__name__}"
            await self._hold(current, hold, CatalogError(outcome))
        else:
            if hold is not None:
                await self.store.write_hold(None)
        self.log_line(json.dumps({"event": "catalog", "outcome": outcome}))
        return outcome

    async def _refresh(self, current: Catalog | None, hold: Hold | None) -> str:
        same_sources = current is not None and current.sources == tuple(self.providers)
        headers = {"accept": "application/json"}
        if same_sources and current is not None and current.etag:
            headers["if-none-match"] = current.etag
        try:
            answer = await self.http_get(self.url, headers)
        except OSError as exc:
            raise CatalogError(f"cannot reach {self.url}: {exc}") from None
        now = self.clock()
        digest = hashlib.sha256(answer.text.encode()).hexdigest()
        unchanged = answer.status == 304 or (
            answer.status == 200 and current is not None and digest == current.digest
        )
        if same_sources and current is not None and unchanged:
            await self.store.write(dataclasses.replace(current, checked_at=now))
            return "unchanged (304)" if answer.status == 304 else "unchanged (same content)"
        if answer.status != 200:
            raise CatalogError(f"{self.url} answered {answer.status}")
        try:
            document = json.loads(answer.text)
        except ValueError as exc:
            raise CatalogError(f"invalid JSON from {self.url}: {exc}") from None
        fresh, missing = transform(document, self.providers)
        for provider_id in missing:  # keep what models.dev no longer lists, and say so
            if current is not None and provider_id in current.providers:
                fresh[provider_id] = {k: dict(v) for k, v in current.providers[provider_id].items()}
        taken = ""
        if reasons := shrinking(fresh, current, self.providers):
            candidate = menu_digest(fresh, list(reasons))
            seen = hold.seen + 1 if hold is not None and hold.candidate == candidate else 1
            why = "; ".join(reasons.values())
            if seen < CONFIRMATIONS:
                raise Held(why, candidate, seen)
            taken = f", taking a change seen {seen} times in a row: {why}"
        catalog = Catalog(
            fresh, now, now, answer.headers.get("etag"), digest, tuple(self.providers), missing
        )
        await self.store.write(catalog)
        gone = f", {', '.join(missing)} missing from models.dev" if missing else ""
        return f"stored {catalog.model_count()} models{taken}{gone}"

    async def _hold(self, current: Catalog | None, hold: Hold | None, exc: CatalogError) -> None:
        """Record the refusal, and drop providers no longer configured whatever happened."""
        now = self.clock()
        held = Hold(
            since=hold.since if hold is not None else now,
            at=now,
            reason=str(exc),
            candidate=exc.candidate if isinstance(exc, Held) else None,
            seen=exc.seen if isinstance(exc, Held) else 0,
        )
        try:
            await self.store.write_hold(held)
            if current is not None and set(current.providers) - set(self.providers):
                kept = {p: m for p, m in current.providers.items() if p in self.providers}
                await self.store.write(dataclasses.replace(current, providers=kept))
        except Exception as error:  # the cron still exits cleanly
            log.warning("could not record the catalog hold: %s", type(error).__name__)
