"""Daily rollups: a day's usage kept after AI Gateway's logs of it are gone.

Accounts created since 2026-09-24 keep logs about 7 days, so a month or a quarter
can be reported only from rollups written while the logs were there. A rollup is
one JSON file per finished UTC day, written whole then moved into place. Writing a
day again changes nothing unless the logs hold more of it than the file (a late
log): fewer logs (retention has begun to delete them) never replace more.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import asdict
from datetime import date
from pathlib import Path

from spend.logs import Entry
from spend.tally import merged, total

FORMAT = 1


def path_of(directory: Path, day: date) -> Path:
    return directory / f"{day.isoformat()}.json"


def read(directory: Path, day: date) -> list[Entry] | None:
    """A day's rollup, or None when there is none."""
    path = path_of(directory, day)
    if not path.exists():
        return None
    document = json.loads(path.read_text())
    if document.get("format") != FORMAT:
        raise ValueError(f"{path}: not a rollup this script writes (format {FORMAT})")
    return [Entry(**{**row, "day": date.fromisoformat(row["day"])}) for row in document["entries"]]


def write(directory: Path, day: date, entries: Iterable[Entry]) -> bool:
    """Store `day`'s usage unless the stored rollup already holds as many requests;
    whether the file changed."""
    rows = merged(entries)
    kept = read(directory, day)
    if kept is not None and total(kept).requests >= total(rows).requests:
        return False
    document = {
        "format": FORMAT,
        "day": day.isoformat(),
        "entries": [{**asdict(row), "day": row.day.isoformat()} for row in rows],
    }
    directory.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=directory, prefix=f".{day.isoformat()}.")
    with os.fdopen(handle, "w") as out:
        json.dump(document, out, indent=1, sort_keys=True)
    os.replace(name, path_of(directory, day))
    return True
