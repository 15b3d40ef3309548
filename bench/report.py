"""Writes ``docs/benchmarks.md`` and the plots in ``docs/bench/`` from the runner's records.

``python bench/report.py RECORDS.json`` regenerates them from a saved run (``run.py --json``).
"""

from __future__ import annotations

import contextlib
import json
import math
import platform
import statistics
import subprocess
import sys
from collections import defaultdict
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PLOTS = DOCS / "bench"
NOTES = ROOT / "bench" / "NOTES.md"
Record = dict[str, Any]
LABELS = {
    "raw": "raw websockets.broadcast",
    "naive": "naive FastAPI chat",
    "chatterbox": "Chatterbox",
    "echo": "raw websockets echo",
    "minimal": "minimal durable chat",
}
SERVERS = ("raw", "naive", "chatterbox")
MINIMAL_WHAT = (
    "`bench/baselines/minimal_durable_chat.py`: uvicorn with Chatterbox's options, Chatterbox's frame "
    "codec on every frame, group commit of one INSERT per message on one SQLite thread, then the "
    "frame to the room; nothing else"
)


def _med(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


def _fmt(x: float, digits: int = 1) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.{digits}f}"


def _ratio(a: float, b: float) -> float:
    return a / b if b and not math.isnan(a) and not math.isnan(b) else math.nan


class Results:
    """Records grouped by (scenario, server, point), discarded runs left out of the medians."""

    def __init__(self, records: Sequence[Record]) -> None:
        self.groups: dict[tuple[str, str, str], list[Record]] = defaultdict(list)
        self.discarded: list[Record] = []
        from bench.run import is_valid

        for r in records:
            if "server_us_per_delivery" in r:
                r["valid"] = is_valid(r)
                r["loadgen_util"] = r["loadgen_cpu_us"] / 1e6 / max(r["t_end"] - r["t_start"], 1e-9)
            if r.get("valid") is False:
                self.discarded.append(r)
                continue
            self.groups[(r["scenario"], r["server"], str(r["point"]))].append(r)

    def med(
        self, scenario: str, server: str, point: Any, metric: str | Callable[[Record], float]
    ) -> float:
        """Median of a metric over the kept repetitions."""
        rs = self.groups.get((scenario, server, str(point)), [])
        get: Callable[[Record], float] = (
            metric if callable(metric) else lambda r: r.get(metric, math.nan)
        )
        return _med([v for v in (get(r) for r in rs) if v is not None and not math.isnan(v)])

    def n(self, scenario: str, server: str, point: Any) -> int:
        """Kept repetitions."""
        return len(self.groups.get((scenario, server, str(point)), []))


def _versions() -> str:
    out = []
    for pkg in (
        "uvicorn",
        "websockets",
        "fastapi",
        "starlette",
        "uvloop",
        "SQLAlchemy",
        "aiosqlite",
    ):
        with contextlib.suppress(metadata.PackageNotFoundError):
            out.append(f"{pkg} {metadata.version(pkg)}")
    return ", ".join(out)


def _machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kib / 2**20:.0f} GiB"
    except (OSError, ValueError):
        pass
    import os

    return f"{os.cpu_count()} cores ({cpu}){mem}, Linux {platform.release()}, Python {platform.python_version()}"


def _commit() -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _plots(res: Results, profile: Any) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    PLOTS.mkdir(parents=True, exist_ok=True)
    made = []
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for s in SERVERS:
        xs = [n for n in profile.fanout_n if res.n("fanout", s, n)]
        if xs:
            ax.plot(
                xs, [res.med("fanout", s, n, "delivered_per_s") for n in xs], "o-", label=LABELS[s]
            )
    ax.set_xscale("log")
    ax.set_xlabel("clients in the room (N)")
    ax.set_ylabel("deliveries / s (median)")
    ax.set_title("Fan-out saturation, server on one core")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(PLOTS / "fanout.png", dpi=110)
    plt.close(fig)
    made.append("fanout.png")

    fig, ax = plt.subplots(figsize=(9, 4))
    for s in (*SERVERS, "minimal"):
        xs = [x for x in profile.latency_rates if res.n("latency", s, x)]
        if not xs:
            continue
        ax.plot(
            xs,
            [res.med("latency", s, x, "lat_p50_us") / 1000 for x in xs],
            "o--",
            label=f"{LABELS[s]} p50",
        )
        ax.plot(
            xs,
            [res.med("latency", s, x, "lat_p99_us") / 1000 for x in xs],
            "s-",
            label=f"{LABELS[s]} p99",
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(f"offered deliveries / s (N = {profile.latency_n}, open loop)")
    ax.set_ylabel("latency, ms (median of runs)")
    ax.set_title("Latency vs load")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    fig.savefig(PLOTS / "latency.png", dpi=110)
    plt.close(fig)
    made.append("latency.png")
    return made


def _minimal_lines(value: dict[str, float], base: str, then: str) -> list[str]:
    """How the minimal durable chat compares with ``base``, and Chatterbox with it; nothing when
    the run has no minimal chat (``value``: a scenario's figure per server, NaN when absent)."""
    minimal = value.get("minimal", math.nan)
    if math.isnan(minimal):
        return []
    return [
        f"The minimal durable chat/{base} = **{_fmt(_ratio(minimal, value[base]), 2)}**: what "
        f"this stack gives a server that only validates a message and commits it before {then}; "
        f"Chatterbox/minimal = {_fmt(_ratio(value['chatterbox'], minimal), 2)}.",
    ]


def latency_ratio_lines(res: Results, target: int = 10000) -> list[str]:
    """The p99 ratios at the target rate: Chatterbox and the minimal durable chat against raw,
    and each repetition's p99."""
    servers = ("raw", "chatterbox", "minimal")
    p99 = {s: res.med("latency", s, target, "lat_p99_us") for s in servers}
    reps = [
        f"{LABELS[s]} "
        + " / ".join(
            _fmt(r["lat_p99_us"] / 1000, 2)
            for r in sorted(res.groups.get(("latency", s, str(target)), []), key=lambda r: r["rep"])
        )
        for s in servers
        if res.n("latency", s, target)
    ]
    return [
        f"\np99 at {target:,} deliveries/s: Chatterbox/raw = "
        f"**{_fmt(_ratio(p99['chatterbox'], p99['raw']), 2)}** (target ≤ 1.2).",
        *_minimal_lines(p99, "raw", "delivering it"),
        f"Each repetition's p99 (ms, in run order): {'; '.join(reps)}.",
        "",
    ]


def durable_lines(res: Results, profile: Any) -> list[str]:
    """The durable section: Chatterbox and the minimal durable chat against the echo server."""
    d = profile.durable_rooms
    what = {
        "chatterbox": "message.send → commit → ack",
        "minimal": "message.send → validate, commit → the same frame",
        "echo": "frame → same frame",
    }
    lines = [
        f"## Durable sends vs echo request/reply ({d} connections, window {profile.durable_window})\n",
        "| server | requests answered/s | server µs/request | vs echo |",
        "|---|---|---|---|",
    ]
    rate = {s: res.med("durable", s, d, "requests_per_s") for s in what}
    for s in what:
        if res.n("durable", s, d):
            us = res.med("durable", s, d, lambda r: 1e6 * r["server_cpu_s"] / max(r["sent"], 1))
            lines.append(
                f"| {LABELS[s]} ({what[s]}) | {_fmt(rate[s])} | {_fmt(us, 1)} | "
                f"{_fmt(_ratio(rate[s], rate['echo']), 2)} |"
            )
    return [
        *lines,
        f"\nChatterbox/echo = **{_fmt(_ratio(rate['chatterbox'], rate['echo']), 2)}** (target ≥ 0.5). "
        "One sender per room, each room's other members offline.",
        *_minimal_lines(rate, "echo", "answering"),
        "",
    ]


def resume_lines(res: Results, profile: Any) -> list[str]:
    """The resume section: one connection's replay rate against one connection's live rate."""
    cb = "chatterbox"
    out: list[str] = []
    if not res.n("resume", cb, profile.resume_events):
        return out
    rate = res.med("resume", cb, profile.resume_events, "resume_per_s")
    # Live, per connection: what one connection of a saturated room receives per second (every
    # connection gets every message); the highest such rate of the run is the comparison.
    per_conn = {
        n: res.med("fanout", cb, n, "delivered_per_s") / n
        for n in profile.fanout_n
        if res.n("fanout", cb, n)
    }
    out.append(f"## Resume of {profile.resume_events:,} missed events\n")
    out.append(
        f"- Replayed to one connection: {_fmt(res.med('resume', cb, profile.resume_events, 'resume_events'), 0)} "
        f"events in {_fmt(res.med('resume', cb, profile.resume_events, 'resume_s') * 1000, 0)} ms = "
        f"{_fmt(rate)} events/s."
    )
    if per_conn:
        best = max(per_conn, key=lambda n: per_conn[n])
        out.append(
            "- Live delivery rate to one connection (Chatterbox fan-out, saturated room, same run): "
            + ", ".join(f"N={n}: {_fmt(v)} events/s" for n, v in per_conn.items())
            + f". Replay / the highest of these (N={best}) = "
            f"**{_fmt(_ratio(rate, per_conn[best]), 2)}** (target ≥ 0.5)."
        )
    if res.n("fanout", cb, 100):
        live = res.med("fanout", cb, 100, "delivered_per_s")
        out.append(
            f"- For reference, the fan-out's aggregate rate over all 100 connections of N=100 is "
            f"{_fmt(live)} deliveries/s (the one-connection replay is {_fmt(_ratio(rate, live), 2)}× that): "
            "one message serves 100 connections there, and a batch of messages reaches each "
            'connection in one write, so it is not a per-connection rate (NOTES: "Resume vs live").'
        )
    out.append("")
    return out


def write_report(
    records: Sequence[Record],
    failures: Sequence[str],
    profile: Any,
    pending: str | None,
    elapsed: float,
    commit: str | None = None,
) -> None:
    """Rewrite docs/benchmarks.md and docs/bench/*.png (``commit``: the measured tree's, when
    the report is regenerated later from saved records)."""
    from bench.run import LOADGEN_MAX_SHARE, LOADGEN_MAX_UTIL

    res = Results(records)
    cb = "chatterbox"
    L: list[str] = []
    w = L.append
    w("# Benchmarks\n")
    w(
        "Generated by `make bench` (`bench/run.py`); do not edit by hand: notes go in `bench/NOTES.md`.\n"
    )
    w(f"- Machine: {_machine()}")
    w(f"- Versions: {_versions()}; commit `{commit or _commit()}`")
    w(
        f"- Run: {profile.reps} repetitions, {profile.warmup:g} s warm-up + {profile.duration:g} s measured per point "
        f"(open-loop latency: {profile.latency_duration:g} s, for enough messages behind each p99"
        + (
            f", and {profile.latency_target_reps} repetitions at {profile.latency_target:,} deliveries/s"
            if profile.latency_target_reps > profile.reps
            else ""
        )
        + "); "
        f"{elapsed / 60:.1f} min in all; {len(records)} runs, {len(res.discarded)} discarded"
    )
    if pending:
        w(f"- **Chatterbox not measured in this run**: {pending}")
    w("")
    w("## Method\n")
    w(
        "- Servers: raw `websockets` broadcast (`bench/baselines/raw_ws_broadcast.py`), the naive FastAPI "
        "`ConnectionManager` chat under uvicorn with Chatterbox's own uvicorn options "
        "(`bench/baselines/naive_fastapi_chat.py`), a raw `websockets` echo (`bench/baselines/raw_ws_echo.py`), "
        f"a minimal durable chat in the latency and durable scenarios ({MINIMAL_WHAT}), "
        "and Chatterbox (`chatterbox serve`, SQLite WAL, seeded by `bench/seed.py`). Permessage-deflate off in all. "
        "Chatterbox runs with `CHATTERBOX_RATE_PER_SECOND`/`RATE_BURST` raised (the 10/s per-connection bucket would "
        "cap a saturated sender); everything else is the production configuration."
    )
    w(
        "- Load: `bench/loadgen/wsload.c`, a single-threaded epoll client (built with gcc -O2), pinned to core 1; "
        "the server pinned to core 0 (`taskset`). Each message body carries a CLOCK_MONOTONIC send time; latency "
        "is measured on receipt of `message.created` (Chatterbox) or of the broadcast/echoed frame (baselines). "
        "Saturation = each sender keeps a window of messages in flight (a message is no longer in flight when "
        "the sender receives its own copy); open loop = a fixed total send rate, latency from the actual send time."
    )
    w(
        "- Server CPU = utime+stime of the server process (`/proc/<pid>/stat`, every thread) over the load "
        "generator's measurement window; µs per delivery = that / deliveries received in the window. The load "
        "generator reports its own CPU (getrusage) and has a core of its own; a run where it costs ≥ "
        f"{LOADGEN_MAX_SHARE:g}× the server per delivery, or uses ≥ {LOADGEN_MAX_UTIL:.0%} of its core, is "
        "discarded (the server, not the load generator, must be the bottleneck). Servers are interleaved (rotated order) in each repetition; tables show medians."
    )
    w(
        "- Every run also checks after a drain that every message sent reached every connection of its room.\n"
    )

    # fan-out
    w("## Fan-out saturation (one room, N clients, 10 senders)\n")
    w(
        "| N | server | delivered/s | server µs/delivery | loadgen µs/delivery | server CPU | loadgen CPU | runs |"
    )
    w("|---|---|---|---|---|---|---|---|")
    for n in profile.fanout_n:
        for s in SERVERS:
            if not res.n("fanout", s, n):
                continue
            w(
                f"| {n} | {LABELS[s]} | {_fmt(res.med('fanout', s, n, 'delivered_per_s'))} | "
                f"{_fmt(res.med('fanout', s, n, 'server_us_per_delivery'), 2)} | "
                f"{_fmt(res.med('fanout', s, n, 'loadgen_us_per_delivery'), 2)} | "
                f"{_fmt(100 * res.med('fanout', s, n, 'server_util'), 0)}% | "
                f"{_fmt(100 * res.med('fanout', s, n, 'loadgen_util'), 0)}% | {res.n('fanout', s, n)} |"
            )
    w("")
    w("Ratios (targets from issue 7):\n")
    w(
        "| N | naive/raw CPU per delivery | Chatterbox/raw CPU per delivery (target ≤ 1.1) | "
        "Chatterbox/naive delivered/s (target ≥ 0.7 at N=10) |"
    )
    w("|---|---|---|---|")
    for n in profile.fanout_n:
        raw_c = res.med("fanout", "raw", n, "server_us_per_delivery")
        w(
            f"| {n} | {_fmt(_ratio(res.med('fanout', 'naive', n, 'server_us_per_delivery'), raw_c), 2)} | "
            f"{_fmt(_ratio(res.med('fanout', cb, n, 'server_us_per_delivery'), raw_c), 2)} | "
            f"{_fmt(_ratio(res.med('fanout', cb, n, 'delivered_per_s'), res.med('fanout', 'naive', n, 'delivered_per_s')), 2)} |"
        )
    w("")
    if any(res.n("receipts", cb, n) for n in profile.receipts_n):
        w("### With delivered receipts and typing (Chatterbox)\n")
        w(
            f"Open loop: {_fmt(profile.receipts_rate)} messages/s into the room of N clients (one send every "
            f"{_fmt(1000 / profile.receipts_rate)} ms, round robin over the senders). Every client answers "
            "`message.created` with a `delivered` receipt for the newest message, paced like the browser "
            "client (at most one per 150 ms, and one in flight); senders renew `typing` every 3 s. The "
            "messages are further apart than the pacing, so each message costs N deliveries and N receipts, "
            "and the cost per message is proportional to N when the server CPU per delivery stays flat.\n"
        )
        w(
            "| N | delivered/s | receipts per message (N − 1 possible) | server µs/delivery (incl. receipts) | "
            "vs smallest N | "
            "latency p50 ms | p99 ms |"
        )
        w("|---|---|---|---|---|---|---|")
        base = res.med("receipts", cb, profile.receipts_n[0], "server_us_per_delivery")
        for n in profile.receipts_n:
            with_r = res.med("receipts", cb, n, "server_us_per_delivery")
            per_msg = res.med(
                "receipts", cb, n, lambda r: r["receipts_sent"] / max(r["sent_total"], 1)
            )
            w(
                f"| {n} | {_fmt(res.med('receipts', cb, n, 'delivered_per_s'))} | {_fmt(per_msg)} | "
                f"{_fmt(with_r, 1)} | {_fmt(_ratio(with_r, base), 2)} | "
                f"{_fmt(res.med('receipts', cb, n, 'lat_p50_us') / 1000, 2)} | "
                f"{_fmt(res.med('receipts', cb, n, 'lat_p99_us') / 1000, 2)} |"
            )
        w("")

    # latency
    w(f"## Open-loop latency (N = {profile.latency_n}, fixed offered rate)\n")
    w("| offered deliveries/s | server | delivered/s | p50 ms | p99 ms | max ms | server CPU |")
    w("|---|---|---|---|---|---|---|")
    for x in profile.latency_rates:
        for s in (*SERVERS, "minimal"):
            if not res.n("latency", s, x):
                continue
            w(
                f"| {x:,} | {LABELS[s]} | {_fmt(res.med('latency', s, x, 'delivered_per_s'))} | "
                f"{_fmt(res.med('latency', s, x, 'lat_p50_us') / 1000, 2)} | "
                f"{_fmt(res.med('latency', s, x, 'lat_p99_us') / 1000, 2)} | "
                f"{_fmt(res.med('latency', s, x, 'lat_max_us') / 1000, 2)} | "
                f"{_fmt(100 * res.med('latency', s, x, 'server_util'), 0)}% |"
            )
    L.extend(latency_ratio_lines(res, profile.latency_target))

    # rooms
    nr, per = profile.rooms
    pt = f"{nr}x{per}"
    w(f"## Many rooms ({nr} rooms × {per} clients, one sender per room)\n")
    w("| server | delivered/s | server µs/delivery | loadgen µs/delivery | connect time s |")
    w("|---|---|---|---|---|")
    for s in SERVERS:
        if res.n("rooms", s, pt):
            w(
                f"| {LABELS[s]} | {_fmt(res.med('rooms', s, pt, 'delivered_per_s'))} | "
                f"{_fmt(res.med('rooms', s, pt, 'server_us_per_delivery'), 2)} | "
                f"{_fmt(res.med('rooms', s, pt, 'loadgen_us_per_delivery'), 2)} | "
                f"{_fmt(res.med('rooms', s, pt, 'connect_s'), 1)} |"
            )
    w("")

    # idle
    w("## Idle connections (server RSS delta / connections)\n")
    w(
        "| connections | server | KiB per connection | connected | failed | Chatterbox/naive (target ≤ 1.25) |"
    )
    w("|---|---|---|---|---|---|")
    for n in profile.idle_n:
        for s in SERVERS:
            if res.n("idle", s, n):
                ratio = ""
                if s == cb:
                    ratio = _fmt(
                        _ratio(
                            res.med("idle", cb, n, "kib_per_conn"),
                            res.med("idle", "naive", n, "kib_per_conn"),
                        ),
                        2,
                    )
                w(
                    f"| {n:,} | {LABELS[s]} | {_fmt(res.med('idle', s, n, 'kib_per_conn'), 1)} | "
                    f"{_fmt(res.med('idle', s, n, 'ready'), 0)} | {_fmt(res.med('idle', s, n, 'failed'), 0)} | {ratio} |"
                )
    if len(profile.idle_n) >= 2:
        lo, hi = profile.idle_n[0], profile.idle_n[-1]

        def marginal(s: str) -> float:
            grown = res.med("idle", s, hi, "rss_ready_kib") - res.med(
                "idle", s, lo, "rss_ready_kib"
            )
            return grown / max(
                1.0, res.med("idle", s, hi, "ready") - res.med("idle", s, lo, "ready")
            )

        parts = [
            f"{LABELS[s]} {_fmt(marginal(s), 1)} KiB"
            for s in SERVERS
            if res.n("idle", s, lo) and res.n("idle", s, hi)
        ]
        if parts:
            w(
                f"\nMarginal memory per connection between {lo:,} and {hi:,} connections (RSS at "
                f"{hi:,} minus RSS at {lo:,}, over the extra connections; what one more connection "
                f"costs once caches and pools are warm): {'; '.join(parts)}."
            )
            if res.n("idle", cb, hi) and res.n("idle", "naive", hi):
                w(
                    f"Chatterbox/naive = {_fmt(_ratio(marginal(cb), marginal('naive')), 2)}. The first "
                    f"{lo:,} connections also pay one-time costs (SQLite page caches and pooled "
                    "connections filled by the `hello` reads, compiled-statement caches)."
                )
    w("")

    # durable
    L.extend(durable_lines(res, profile))

    # join + resume
    if any(res.n("join", cb, k) for k in profile.join_keys):
        w(
            f"## Join cost (time from connect to `hello` with the last 50 messages; {profile.join_conns} sequential joins)\n"
        )
        w("| stored messages in the room | hello p50 ms | hello p99 ms | vs smallest |")
        w("|---|---|---|---|")
        first = res.med("join", cb, profile.join_keys[0], "hello_p50_us")
        for k in profile.join_keys:
            v = res.med("join", cb, k, "hello_p50_us")
            w(
                f"| {_fmt(res.med('join', cb, k, 'stored_messages'), 0)} | {_fmt(v / 1000, 2)} | "
                f"{_fmt(res.med('join', cb, k, 'hello_p99_us') / 1000, 2)} | {_fmt(_ratio(v, first), 2)} |"
            )
        w("\nTarget: flat within 1.5× from 10³ to 10⁶.\n")
    for line in resume_lines(res, profile):
        w(line)

    try:
        made = _plots(res, profile)
        w("## Plots\n")
        for m in made:
            w(f"![{m}](bench/{m})\n")
    except ImportError as exc:  # matplotlib missing
        w(f"(plots skipped: {exc})\n")
    if failures:
        w("## Anomalies in this run\n")
        for f in failures[:40]:
            w(f"- {f}")
        w("")
    if res.discarded:
        w("## Discarded runs (load generator not cheap enough relative to the server)\n")
        for r in res.discarded:
            w(
                f"- {r['scenario']} {LABELS[r['server']]} {r['point']} rep {r['rep']}: loadgen "
                f"{r['loadgen_us_per_delivery']:.2f} µs vs server {r['server_us_per_delivery']:.2f} µs per delivery"
            )
        w("")
    w("## What moved each number\n")
    w(NOTES.read_text().strip() if NOTES.exists() else "(no notes yet)")
    DOCS.mkdir(exist_ok=True)
    (DOCS / "benchmarks.md").write_text("\n".join(L) + "\n")


def main() -> None:
    """Regenerate the report from a records file written by ``run.py --json``."""
    sys.path.insert(0, str(ROOT))
    from bench.run import FULL

    data = json.loads(Path(sys.argv[1]).read_text())
    if isinstance(data, list):  # records only
        data = {"records": data}
    write_report(
        data["records"],
        data.get("failures", []),
        FULL,
        data.get("pending"),
        data.get("elapsed", 0.0),
        data.get("commit"),
    )


if __name__ == "__main__":
    main()
