"""Usage summed by whatever the report groups by: person, group, client, model, day."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields, replace

from spend.logs import Entry

# What a report can group by, as the columns name them.
DIMENSIONS = ("user", "group", "client", "model")
COUNTS = ("requests", "cached", "tokens_in", "tokens_out", "cost", "unpriced")


@dataclass(frozen=True, slots=True)
class Row:
    """One group's totals: `key` holds its values of the dimensions grouped by."""

    key: tuple[str, ...]
    requests: int = 0
    cached: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost: float = 0.0
    unpriced: int = 0

    def plus(self, entry: Entry | Row) -> Row:
        return replace(
            self, **{name: getattr(self, name) + getattr(entry, name) for name in COUNTS}
        )


def summed(entries: Iterable[Entry], by: tuple[str, ...]) -> list[Row]:
    """Totals per value of `by` (attributes of Entry), the most costly first."""
    rows: dict[tuple[str, ...], Row] = {}
    for entry in entries:
        key = tuple(str(getattr(entry, name)) for name in by)
        rows[key] = rows.get(key, Row(key)).plus(entry)
    return sorted(rows.values(), key=lambda row: (-row.cost, -row.requests, row.key))


def total(entries: Iterable[Entry]) -> Row:
    grand = Row(())
    for entry in entries:
        grand = grand.plus(entry)
    return grand


def merged(entries: Iterable[Entry]) -> list[Entry]:
    """Entries with the same day, person, group, client and model added up: a day's
    rollup, as small as the usage allows."""
    keys = [f.name for f in fields(Entry) if f.name not in COUNTS]
    rows: dict[tuple[object, ...], Entry] = {}
    for entry in entries:
        key = tuple(getattr(entry, name) for name in keys)
        below = rows.get(key)
        rows[key] = (
            entry
            if below is None
            else replace(
                below, **{name: getattr(below, name) + getattr(entry, name) for name in COUNTS}
            )
        )
    return sorted(rows.values(), key=lambda e: (e.day, e.user, e.group, e.client, e.model))
