"""The usage report as one self-contained HTML page: inline SVG charts (spend per day
per group, top people, model mix), no script, no external asset, readable on a phone.
Everything from the logs is escaped."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from html import escape

from spend.logs import Entry
from spend.tally import Row, summed, total

_STYLE = (
    "body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:56rem;padding:1rem;"
    "color:#1b1b1b}svg{width:100%;height:auto}table{border-collapse:collapse;width:100%}"
    "td,th{text-align:left;padding:.2rem .4rem;border-bottom:1px solid #ddd}"
    "td.n{text-align:right;font-variant-numeric:tabular-nums}"
)
_COLOURS = ("#3b6fb6", "#d9822b", "#3a9d5d", "#c23b3b", "#7d5ba6", "#8c6d31", "#4a9fb5")
_WIDTH = 600
_BAR = 22


def _money(value: float) -> str:
    return f"${value:,.2f}"


def _bars(rows: Sequence[Row], label: str) -> str:
    """Horizontal bars, one per row, longest for the most costly."""
    top = max((row.cost for row in rows), default=0.0) or 1.0
    height = _BAR * len(rows) + 4
    parts = []
    for i, row in enumerate(rows):
        y = i * _BAR + 2
        width = max(1.0, 280 * row.cost / top)  # room left for the amount
        label = " / ".join(row.key)
        name = escape(label if len(label) <= 32 else label[:31] + "\u2026")
        parts.append(
            f'<text x="0" y="{y + 15}" font-size="12">{name}</text>'
            f'<rect x="230" y="{y + 3}" width="{width:.1f}" height="{_BAR - 6}" '
            f'fill="{_COLOURS[0]}"/>'
            f'<text x="{234 + width:.1f}" y="{y + 15}" font-size="12">{_money(row.cost)}</text>'
        )
    return (
        f'<svg viewBox="0 0 {_WIDTH} {height}" role="img" aria-label="{escape(label)}">'
        + "".join(parts)
        + "</svg>"
    )


def _per_day(entries: Sequence[Entry], days: Sequence[date]) -> str:
    """Stacked columns: each day's spend, split by group."""
    groups = [row.key[0] for row in summed(entries, ("group",))]
    spend = {(e.day, e.group): 0.0 for e in entries}
    for e in entries:
        spend[(e.day, e.group)] += e.cost
    top = max((sum(spend.get((d, g), 0.0) for g in groups) for d in days), default=0.0) or 1.0
    column = (_WIDTH - 40) / max(1, len(days))
    parts = []
    for i, day in enumerate(days):
        base = 200.0
        for j, group in enumerate(groups):
            height = 180 * spend.get((day, group), 0.0) / top
            if height > 0:
                base -= height
                parts.append(
                    f'<rect x="{40 + i * column:.1f}" y="{base:.1f}" width="{column * 0.8:.1f}" '
                    f'height="{height:.1f}" fill="{_COLOURS[j % len(_COLOURS)]}"/>'
                )
    legend = "".join(
        f'<text x="{40 + (k % 4) * 140}" y="{220 + (k // 4) * 16}" font-size="12" '
        f'fill="{_COLOURS[k % len(_COLOURS)]}">&#9632; {escape(group)}</text>'
        for k, group in enumerate(groups)
    )
    first, last = (escape(days[0].isoformat()), escape(days[-1].isoformat())) if days else ("", "")
    axis = (
        f'<text x="40" y="214" font-size="11">{first}</text>'
        f'<text x="{_WIDTH}" y="214" font-size="11" text-anchor="end">{last}</text>'
        f'<text x="0" y="20" font-size="11">{_money(top)}</text>'
    )
    height = 228 + 16 * ((len(groups) - 1) // 4 + 1)
    return (
        f'<svg viewBox="0 0 {_WIDTH} {height}" role="img" aria-label="Spend per day per group">'
        + "".join(parts)
        + axis
        + legend
        + "</svg>"
    )


def page(entries: Sequence[Entry], days: Sequence[date], *, people: int = 10) -> str:
    grand = total(entries)
    period = f"{days[0].isoformat()} to {days[-1].isoformat()}" if days else "no days"
    by_group = summed(entries, ("group",))
    rows = "".join(
        f"<tr><td>{escape(row.key[0])}</td><td class=n>{row.requests}</td>"
        f"<td class=n>{row.tokens_in + row.tokens_out:,}</td>"
        f"<td class=n>{_money(row.cost)}</td></tr>"
        for row in by_group
    )
    unpriced = (
        f"<p>{grand.unpriced} requests had no known price and are counted at $0.</p>"
        if grand.unpriced
        else ""
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>AI usage, {escape(period)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>AI usage, {escape(period)}</h1>"
        f"<p>{grand.requests:,} requests ({grand.cached:,} answered from cache), "
        f"{grand.tokens_in:,} tokens in, {grand.tokens_out:,} out, {_money(grand.cost)}.</p>"
        f"{unpriced}<h2>Spend per day, by group</h2>{_per_day(entries, days)}"
        "<table><thead><tr><th>group</th><th>requests</th><th>tokens</th><th>cost</th></tr>"
        f"</thead><tbody>{rows}</tbody></table>"
        f"<h2>Top {people} people</h2>"
        f"{_bars(summed(entries, ('user',))[:people], 'Spend of the top people')}"
        f"<h2>Model mix</h2>{_bars(summed(entries, ('model',)), 'Spend per model')}"
        "</body></html>\n"
    )
