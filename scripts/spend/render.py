"""A usage report as text: a terminal table, CSV or JSON."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence

from spend.tally import COUNTS, Row

HEADINGS = {
    "requests": "requests",
    "cached": "cached",
    "tokens_in": "tokens in",
    "tokens_out": "tokens out",
    "cost": "cost ($)",
    "unpriced": "unpriced",
}


def _cells(row: Row) -> list[str]:
    return [*row.key, *(f"{row.cost:.4f}" if n == "cost" else str(getattr(row, n)) for n in COUNTS)]


def table(by: Sequence[str], rows: Sequence[Row], grand: Row) -> str:
    """Columns aligned for a terminal, the total last."""
    head = [*by, *HEADINGS.values()]
    body = [_cells(row) for row in rows]
    body.append(["total", *[""] * (len(by) - 1), *_cells(grand)])
    widths = [max(len(line[i]) for line in [head, *body]) for i in range(len(head))]
    numeric = len(by)
    lines = [
        "  ".join(
            cell.rjust(width) if i >= numeric else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(line, widths, strict=True))
        ).rstrip()
        for line in [head, *body]
    ]
    return "\n".join(lines) + "\n"


def as_csv(by: Sequence[str], rows: Sequence[Row]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*by, *COUNTS])
    writer.writerows(_cells(row) for row in rows)
    return out.getvalue()


def as_json(by: Sequence[str], rows: Sequence[Row], grand: Row) -> str:
    def plain(row: Row) -> dict[str, object]:
        return {
            **dict(zip(by, row.key, strict=True)),
            **{n: round(row.cost, 6) if n == "cost" else getattr(row, n) for n in COUNTS},
        }

    total = {n: round(grand.cost, 6) if n == "cost" else getattr(grand, n) for n in COUNTS}
    return (
        json.dumps({"by": list(by), "rows": [plain(r) for r in rows], "total": total}, indent=2)
        + "\n"
    )
