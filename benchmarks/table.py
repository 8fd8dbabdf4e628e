"""The benchmark's results as a plain-text table."""

from __future__ import annotations

from typing import Any

Row = tuple[str, str, str, str]


def _triple(values: dict[str, float]) -> str:
    return "/".join(f"{values[q]:.2f}" for q in ("p50", "p90", "p99"))


def _rows(r: dict[str, Any]) -> list[Row]:
    lw, lc, st = r["latency_warm_token"], r["latency_cold_token"], r["streaming"]
    worker, direct = st["workerd"], st["direct"]
    ratio = lw["worker_ms"]["p50"] / lw["direct_ms"]["p50"]
    rows: list[Row] = [
        ("cold start, process start to first proxied 200 (s)", f"{r['cold_start_s']:.2f}", "", ""),
        (
            "request p50 (ms)",
            f"{lw['worker_ms']['p50']:.2f}",
            f"{lw['direct_ms']['p50']:.2f}",
            f"{ratio:.1f}x",
        ),
        ("added latency p50/p90/p99, warm token (ms)", _triple(lw["added_ms"]), "", ""),
        ("added latency p50/p90/p99, new token (ms)", _triple(lc["added_ms"]), "", ""),
        (
            "added latency p50/p90/p99, through miniflare's entry worker (ms)",
            _triple(r["latency_via_miniflare_entry"]["added_ms"]),
            "",
            "",
        ),
        (
            "stream time to first event p50 (ms)",
            f"{worker['ttfb_ms']['p50']:.2f}",
            f"{direct['ttfb_ms']['p50']:.2f}",
            f"{worker['ttfb_ms']['p50'] / direct['ttfb_ms']['p50']:.1f}x",
        ),
        (
            "stream gap p50/p99 (ms)",
            f"{worker['gap_ms']['p50']:.2f}/{worker['gap_ms']['p99']:.2f}",
            f"{direct['gap_ms']['p50']:.2f}/{direct['gap_ms']['p99']:.2f}",
            f"growth {st['gap_growth_ms']['p50']:+.2f}/{st['gap_growth_ms']['p99']:+.2f}",
        ),
    ]
    for c, t in r["throughput"].items():
        w, d = t["worker"], t["direct"]
        rows.append(
            (
                f"throughput c={c} (req/s, errors)",
                f"{w['rps']:.0f} ({w['errors']})",
                f"{d['rps']:.0f} ({d['errors']})",
                f"{w['rps'] / d['rps']:.2f}x",
            )
        )
    for kind, ms in r["cpu_ms_per_request"].items():
        rows.append((f"workerd CPU per request, {kind} (ms)", f"{ms:.2f}", "", ""))
    peaks = ", ".join(f"{k} {v:.0f}" for k, v in sorted(r["peak_memory_mib"].items()))
    rows.append(("peak RSS (MiB)", peaks, "", ""))
    return rows


def print_over_floor(result: dict[str, Any]) -> None:
    """The proxy's own share, one run: CPU and latency over a Worker that only forwards."""
    header = ("request", "floor CPU", "proxy CPU", "own CPU", "proxy/floor", "added p50/p99")
    rows = [header]
    for label, r in result["over_floor"].items():
        proxy, floor = r["proxy_cpu_ms"], r["floor_cpu_ms"]
        rows.append(
            (
                label,
                f"{floor:.2f} ms",
                f"{proxy:.2f} ms",
                f"{proxy - floor:+.2f} ms",
                f"{proxy / floor:.2f}x",
                f"{r['added_ms']['p50']:.2f}/{r['added_ms']['p99']:.2f} ms",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    print("\nthe proxy over the floor (workerd CPU per request; latency of the whole answer)")
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))


def print_table(runtimes: dict[str, Any], core: dict[str, float]) -> None:
    rows: list[Row] = []
    for result in runtimes.values():
        rows += _rows(result)
    rows.append(
        ("core on CPython, per proxied request (µs)", f"{core['warm_token_us']:.1f}", "", "")
    )
    header: Row = ("measure", "worker", "direct", "worker/direct")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(4)]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
