"""Benchmark runner: Chatterbox against raw websockets, the naive FastAPI chat and a raw echo server.

``python bench/run.py`` (``make bench``) runs every scenario of issue 7 and rewrites
``docs/benchmarks.md`` and the plots in ``docs/bench/``. ``python bench/run.py --smoke``
(``make bench-smoke``) runs each scenario once with tiny N and asserts that the harness works end
to end and that every server delivered what was sent: a harness check, not a performance check.

Method: the server runs pinned to core 0 (``taskset``), the C load generator (``bench/loadgen``,
built here with gcc) on core 1; server CPU is the utime+stime delta of its process
(``/proc/<pid>/stat``) over the load generator's measurement window; servers are interleaved
within each repetition; medians over the repetitions; runs where the load generator's CPU per
delivery is not well below the server's are discarded. Everything stops by itself.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import resource
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
BUILD = BENCH / "build"
LOADGEN = BUILD / "wsload"
DOCS = ROOT / "docs"
PLOTS = DOCS / "bench"
VENV_PY = ROOT / ".venv" / "bin" / "python"
PY = str(VENV_PY if VENV_PY.exists() else Path(sys.executable))
SECRET = "bench-secret-0123456789"
SERVER_CORE, LOADGEN_CORE = "0", "1"
# Discard a run where the load generator costs more than this x the server per delivery, or
# where it used more than LOADGEN_MAX_UTIL of its core (it would then be the bottleneck).
# The C client's floor is ~5-6 us/delivery; the raw websockets server reaches ~8 us at N=100.
LOADGEN_MAX_SHARE = 0.75
LOADGEN_MAX_UTIL = 0.9
LABELS = {
    "raw": "raw websockets.broadcast",
    "naive": "naive FastAPI chat",
    "chatterbox": "Chatterbox",
    "echo": "raw websockets echo",
    "minimal": "minimal durable chat",
}
_CHATS = ("raw", "naive", "chatterbox")
SCENARIO_SERVERS = {  # who takes part in each scenario (when in the run's --servers)
    "fanout": _CHATS,
    "latency": (*_CHATS, "minimal"),
    "rooms": _CHATS,
    "idle": _CHATS,
    "durable": ("chatterbox", "echo", "minimal"),
}
MINIMAL_TABLE = "minimal_messages"  # bench/baselines/minimal_durable_chat.py
Record = dict[str, Any]


# --------------------------------------------------------------------------------------------
# processes


def free_port() -> int:
    """An ephemeral TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), in seconds."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int) -> int:
    """Resident set size of a process, KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def is_valid(r: Record) -> bool:
    """Whether a load run measured the server rather than the load generator."""
    if "server_us_per_delivery" not in r:
        return True
    util = r["loadgen_cpu_us"] / 1e6 / max(r["t_end"] - r["t_start"], 1e-9)
    cheap = r["loadgen_us_per_delivery"] < LOADGEN_MAX_SHARE * r["server_us_per_delivery"]
    return bool(cheap and util < LOADGEN_MAX_UTIL)


def build_loadgen() -> None:
    """Compile the C load generator when its source is newer than the binary."""
    src = BENCH / "loadgen" / "wsload.c"
    if LOADGEN.exists() and LOADGEN.stat().st_mtime >= src.stat().st_mtime:
        return
    BUILD.mkdir(exist_ok=True)
    cmd = ["gcc", "-O2", "-Wall", "-Wextra", "-Werror", "-o", str(LOADGEN), str(src)]
    subprocess.run(cmd, check=True)


def raise_nofile() -> None:
    """Raise the open-files limit (10 000 loopback connections need ~20 000 descriptors)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


@dataclass
class Server:
    """A server process pinned to the server core."""

    kind: str
    port: int
    proc: subprocess.Popen[bytes]
    log: Path
    db: Path | None = None
    """The minimal chat's SQLite file."""

    @property
    def pid(self) -> int:
        """The process id (taskset execs the server in place)."""
        return self.proc.pid

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 5 s."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


@dataclass
class Env:
    """Where this run keeps its files, and the seeded Chatterbox database."""

    work: Path
    db: Path
    seeded: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def db_url(self) -> str:
        """SQLAlchemy URL of the database."""
        return f"sqlite+aiosqlite:///{self.db}"


def chatterbox_env(env: Env) -> dict[str, str]:
    """Environment of a bench Chatterbox: test mode, the seeded DB, rate limits out of the way."""
    return {
        **os.environ,
        "CHATTERBOX_ENV": "test",
        "CHATTERBOX_SECRET_KEY": SECRET,
        "CHATTERBOX_DATABASE_URL": env.db_url,
        # the per-connection token bucket (10/s) would cap a saturated sender: raised for the bench
        "CHATTERBOX_RATE_PER_SECOND": "1000000",
        "CHATTERBOX_RATE_BURST": "1000000",
        "CHATTERBOX_LOG_LEVEL": "warning",
    }


def start_server(kind: str, env: Env) -> Server:
    """Start one server on core 0 and wait until it accepts connections."""
    port = free_port()
    log = env.work / f"{kind}-{port}.log"
    taskset = ["taskset", "-c", SERVER_CORE]
    environ = dict(os.environ)
    db: Path | None = None
    if kind == "raw":
        cmd = [PY, str(BENCH / "baselines" / "raw_ws_broadcast.py"), "--port", str(port)]
    elif kind == "echo":
        cmd = [PY, str(BENCH / "baselines" / "raw_ws_echo.py"), "--port", str(port)]
    elif kind == "naive":
        cmd = [PY, str(BENCH / "baselines" / "naive_fastapi_chat.py"), "--port", str(port)]
    elif kind == "minimal":
        db = env.work / f"minimal-{port}.db"
        cmd = [PY, str(BENCH / "baselines" / "minimal_durable_chat.py"), "--port", str(port)]
        cmd += ["--db", str(db)]
    elif kind == "chatterbox":
        cmd = [PY, "-m", "chatterbox", "serve", "--port", str(port), "--log-level", "warning"]
        environ = chatterbox_env(env)
    else:
        raise ValueError(kind)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            taskset + cmd, stdout=out, stderr=subprocess.STDOUT, env=environ, cwd=ROOT
        )
    server = Server(kind, port, proc, log, db)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{kind} exited: {log.read_text()[-2000:]}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            time.sleep(0.3)  # let start-up work finish before any measurement
            return server
        time.sleep(0.05)
    server.stop()
    raise RuntimeError(f"{kind} did not listen within 30 s")


@contextlib.contextmanager
def running(kind: str, env: Env) -> Iterator[Server]:
    """A started server, stopped on exit whatever happens."""
    server = start_server(kind, env)
    try:
        yield server
    finally:
        server.stop()


# --------------------------------------------------------------------------------------------
# connection specs and the load generator


@dataclass
class Conn:
    """One client connection of a load: URL path, bearer token (or -), room, sends or not."""

    path: str
    token: str
    room: str
    sender: bool


def plain_conns(rooms: int, per_room: int, senders_per_room: int) -> list[Conn]:
    """Connections for the baselines (room in the query string, no token; the room names are
    valid protocol room ids, which the minimal chat checks)."""
    return [
        Conn(f"/ws?room=r_g{r:03d}", "-", f"r_g{r:03d}", i < senders_per_room)
        for r in range(rooms)
        for i in range(per_room)
    ]


def chatterbox_conns(
    env: Env, key: str, rooms: int, per_room: int, senders_per_room: int
) -> list[Conn]:
    """Connections for Chatterbox: the seeded users of ``rooms`` rooms of plan ``key``."""
    seeded = env.seeded[key]
    if rooms > len(seeded) or per_room > len(seeded[0]["tokens"]):
        raise ValueError(f"plan {key} has {len(seeded)} rooms of {len(seeded[0]['tokens'])}")
    return [
        Conn(
            f"/ws?room={room['room_id']}", room["tokens"][i], room["room_id"], i < senders_per_room
        )
        for room in seeded[:rooms]
        for i in range(per_room)
    ]


def conns_for(
    server: str, env: Env, key: str, rooms: int, per_room: int, senders: int
) -> list[Conn]:
    """The same load shape for any server."""
    if server == "chatterbox":
        return chatterbox_conns(env, key, rooms, per_room, senders)
    return plain_conns(rooms, per_room, senders)


def run_loadgen(
    server: Server,
    conns: Sequence[Conn],
    env: Env,
    args: Sequence[str],
    timeout: float,
    settle: float = 2.0,
) -> Record:
    """Run the load generator against ``server``; returns its JSON plus server CPU/RSS samples."""
    spec = env.work / f"spec-{os.getpid()}-{time.monotonic_ns()}.tsv"
    spec.write_text("".join(f"{c.path}\t{c.token}\t{c.room}\t{int(c.sender)}\n" for c in conns))
    mode = {"chatterbox": "chatterbox", "echo": "echo"}.get(server.kind, "plain")
    path_args = ["--proto", "chatterbox.v1"] if server.kind == "chatterbox" else []
    cmd = ["taskset", "-c", LOADGEN_CORE, str(LOADGEN), "--port", str(server.port)]
    cmd += ["--spec", str(spec), "--mode", mode, *path_args, *args]
    samples: Record = {"rss0_kib": rss_kib(server.pid), "cpu0": cpu_seconds(server.pid)}
    stored0 = stored_rows(server)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + timeout
    result: Record = {}
    assert proc.stdout is not None
    try:
        for line in proc.stdout:
            line = line.strip()
            if line == "MEASURE_START":
                samples["cpu_start"] = cpu_seconds(server.pid)
                samples["t_start"] = time.monotonic()
            elif line == "MEASURE_END":
                samples["cpu_end"] = cpu_seconds(server.pid)
                samples["t_end"] = time.monotonic()
            elif line == "READY":
                time.sleep(settle)  # let the server settle (GC, buffers) before reading its RSS
                samples["rss_ready_kib"] = rss_kib(server.pid)
            elif line.startswith("{"):
                result = json.loads(line)
            if time.monotonic() > deadline:
                break
        proc.wait(max(1.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        pass
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        stderr = proc.stderr.read() if proc.stderr else ""
        spec.unlink(missing_ok=True)
    samples["cpu1"] = cpu_seconds(server.pid)
    if not result:
        raise RuntimeError(
            f"load generator gave no result (rc={proc.returncode}): {stderr[-2000:]}"
        )
    result.update(samples)
    result["stderr"] = stderr[-1000:]
    if stored0 is not None:
        result["stored"] = (stored_rows(server) or 0) - stored0
    if "cpu_start" in samples and "cpu_end" in samples:
        result["server_cpu_s"] = samples["cpu_end"] - samples["cpu_start"]
        wall = samples["t_end"] - samples["t_start"]
        result["server_util"] = result["server_cpu_s"] / wall if wall > 0 else 0.0
        if result["delivered"]:
            result["server_us_per_delivery"] = 1e6 * result["server_cpu_s"] / result["delivered"]
            result["loadgen_us_per_delivery"] = result["loadgen_cpu_us"] / result["delivered"]
            result["loadgen_util"] = result["loadgen_cpu_us"] / 1e6 / max(wall, 1e-9)
            result["valid"] = is_valid(result)
    return result


def stored_rows(server: Server) -> int | None:
    """Messages the minimal chat has committed (None for the other servers)."""
    if server.db is None:
        return None
    with contextlib.closing(sqlite3.connect(server.db, timeout=10)) as db:
        return int(db.execute(f"SELECT count(*) FROM {MINIMAL_TABLE}").fetchone()[0])


# --------------------------------------------------------------------------------------------
# scenarios


@dataclass
class Profile:
    """Sizes and durations of one run (full or smoke)."""

    reps: int
    warmup: float
    duration: float
    fanout_n: tuple[int, ...]
    fanout_senders: int
    window: int
    receipts_n: tuple[int, ...]
    receipts_rate: float  # messages/s in the room: slower than the client's 150 ms receipt pacing
    receipts_duration: float
    latency_n: int
    latency_rates: tuple[int, ...]  # offered deliveries/s
    latency_duration: float  # measured seconds per open-loop point (p99 needs many messages)
    rooms: tuple[int, int]  # rooms x clients
    idle_n: tuple[int, ...]
    durable_rooms: int
    durable_window: int
    join_keys: tuple[str, ...]
    join_conns: int
    resume_events: int
    plan: list[dict[str, Any]]
    latency_target: int = 10000
    """The offered deliveries/s whose p99 has a target (its ratio to raw's)."""
    latency_target_reps: int = 0
    """Repetitions at that point, more than ``reps`` (the p99 of one 10 s run moves by ±0.5 ms
    on this host); 0: ``reps``."""


FULL = Profile(
    reps=3,
    warmup=1.0,
    duration=3.0,
    fanout_n=(10, 100, 1000),
    fanout_senders=10,
    window=4,
    receipts_n=(100, 1000),
    receipts_rate=2.0,
    receipts_duration=8.0,
    latency_n=100,
    latency_rates=(2500, 5000, 10000, 20000, 40000),
    latency_duration=10.0,
    rooms=(1000, 10),
    idle_n=(1000, 10000),
    durable_rooms=100,
    durable_window=8,
    join_keys=("h3", "h5", "h6"),
    join_conns=50,
    resume_events=10000,
    plan=[
        {"key": "f10", "members": 10},
        {"key": "f100", "members": 100},
        {"key": "f1000", "members": 1000},
        {"key": "rooms", "members": 10, "rooms": 1000},
        {"key": "h3", "members": 50, "messages": 1_000},
        {"key": "h5", "members": 50, "messages": 100_000},
        {"key": "h6", "members": 50, "messages": 1_000_000},
    ],
    latency_target_reps=6,
)

SMOKE = Profile(
    reps=1,
    warmup=0.2,
    duration=0.5,
    fanout_n=(5,),
    fanout_senders=2,
    window=2,
    receipts_n=(5,),
    receipts_rate=4.0,
    receipts_duration=1.0,
    latency_n=5,
    latency_rates=(500,),
    latency_duration=0.5,
    rooms=(3, 3),
    idle_n=(9,),
    durable_rooms=3,
    durable_window=2,
    join_keys=("h3",),
    join_conns=3,
    resume_events=100,
    plan=[
        {"key": "f5", "members": 5},
        {"key": "rooms", "members": 3, "rooms": 3},
        {"key": "h3", "members": 3, "messages": 300},
    ],
    latency_target=500,  # so that the smoke run also takes the extra repetitions
    latency_target_reps=2,
)


class Runner:
    """Runs the scenarios; collects one record per (scenario, server, point, repetition)."""

    def __init__(self, profile: Profile, env: Env, servers: Sequence[str], smoke: bool) -> None:
        self.p = profile
        self.env = env
        self.servers = list(servers)
        self.smoke = smoke
        self.records: list[Record] = []
        self.failures: list[str] = []
        self.shared: dict[str, Server] = {}

    @contextlib.contextmanager
    def serve(self, kind: str) -> Iterator[Server]:
        """A fresh server per use; in smoke mode one per kind, reused (stop with close())."""
        if not self.smoke:
            with running(kind, self.env) as srv:
                yield srv
            return
        if kind not in self.shared:
            self.shared[kind] = start_server(kind, self.env)
        yield self.shared[kind]

    def close(self) -> None:
        """Stop the shared servers."""
        for srv in self.shared.values():
            srv.stop()
        self.shared.clear()

    def log(self, msg: str) -> None:
        """Progress on stderr."""
        print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)

    def servers_for(self, scenario: str) -> list[str]:
        """The servers of this run that take part in ``scenario`` (:data:`SCENARIO_SERVERS`)."""
        return [s for s in self.servers if s in SCENARIO_SERVERS[scenario]]

    def order(self, rep: int, servers: Sequence[str]) -> list[str]:
        """Servers in a rotated order per repetition (interleaving)."""
        s = list(servers)
        k = rep % len(s)
        return s[k:] + s[:k]

    def keep(self, scenario: str, server: str, point: Any, rep: int, r: Record) -> None:
        """Store a record; check the end-to-end accounting."""
        r.update(scenario=scenario, server=server, point=point, rep=rep)
        self.records.append(r)
        problems = []
        if r.get("failed"):
            problems.append(f"{r['failed']} connections failed")
        if r.get("errors"):
            problems.append(f"{r['errors']} error frames")
        if r.get("expected_total") and r["delivered_total"] != r["expected_total"]:
            problems.append(f"delivered {r['delivered_total']} of {r['expected_total']}")
        if r.get("closed_by_server"):
            problems.append(f"{r['closed_by_server']} closed by server")
        if scenario == "receipts" and not r.get("receipts_sent"):
            problems.append("no receipts sent")
        if "stored" in r and r["stored"] != r.get("sent_total"):
            problems.append(f"committed {r['stored']} of {r.get('sent_total')} messages")
        note = ""
        if r.get("valid") is False:
            note = " [discarded: loadgen not well below the server per delivery]"
        extra = ""
        if "server_us_per_delivery" in r:
            extra = (
                f" {r['delivered_per_s']:.0f} deliv/s, server {r['server_us_per_delivery']:.2f} "
                f"us/deliv ({r['server_util']:.0%} CPU), loadgen {r['loadgen_us_per_delivery']:.2f}"
            )
        self.log(f"{scenario} {server} {point} rep{rep}:{extra}{note} {'; '.join(problems)}")
        if problems:
            self.failures.append(f"{scenario}/{server}/{point}/rep{rep}: {'; '.join(problems)}")

    def load_args(self, duration: float | None = None, **kw: Any) -> list[str]:
        """Common load generator arguments (``duration``: measured seconds, default the profile's)."""
        out = ["--warmup", str(self.p.warmup), "--duration", str(duration or self.p.duration)]
        out += ["--drain", "5", "--quiet"] if not self.smoke else ["--drain", "5"]
        for k, v in kw.items():
            if v is True:
                out.append("--" + k.replace("_", "-"))
            elif v is not None and v is not False:
                out += ["--" + k.replace("_", "-"), str(v)]
        return out

    def fanout_key(self, n: int) -> str:
        """Seeded plan holding a room of ``n`` members."""
        return f"f{n}"

    def fanout(self) -> None:
        """Fan-out saturation, one room of N clients, K senders with a window each."""
        for rep in range(self.p.reps):
            for server in self.order(rep, self.servers_for("fanout")):
                with self.serve(server) as srv:
                    for n in self.p.fanout_n:
                        k = min(n, self.p.fanout_senders)
                        conns = conns_for(server, self.env, self.fanout_key(n), 1, n, k)
                        r = run_loadgen(
                            srv, conns, self.env, self.load_args(window=self.p.window), 120
                        )
                        self.keep("fanout", server, n, rep, r)
                    if server == "chatterbox":
                        # Open loop, as in a live room: messages further apart than the client's
                        # receipt pacing (150 ms), so every client acknowledges every message and a
                        # message costs N deliveries and N receipts. (Under saturation a paced client
                        # acknowledges one message in many, fewer the faster the room.)
                        for n in self.p.receipts_n:
                            k = min(n, self.p.fanout_senders)
                            conns = conns_for(server, self.env, self.fanout_key(n), 1, n, k)
                            args = self.load_args(
                                self.p.receipts_duration,
                                rate=self.p.receipts_rate,
                                receipts=True,
                                typing_ms=3000,
                            )
                            r = run_loadgen(srv, conns, self.env, args, 120)
                            self.keep("receipts", server, n, rep, r)

    def latency(self) -> None:
        """Open-loop latency at fixed offered delivery rates (one room of latency_n clients)."""
        n = self.p.latency_n
        k = min(n, self.p.fanout_senders)
        for rep in range(self.p.reps):
            for server in self.order(rep, self.servers_for("latency")):
                with self.serve(server) as srv:
                    for rate in self.p.latency_rates:
                        conns = conns_for(server, self.env, self.fanout_key(n), 1, n, k)
                        args = self.load_args(self.p.latency_duration, rate=rate / n)
                        r = run_loadgen(srv, conns, self.env, args, 120)
                        self.keep("latency", server, rate, rep, r)
        target = self.p.latency_target
        if target not in self.p.latency_rates:
            return
        for rep in range(self.p.reps, self.p.latency_target_reps):  # the target point again
            for server in self.order(rep, self.servers_for("latency")):
                with self.serve(server) as srv:
                    conns = conns_for(server, self.env, self.fanout_key(n), 1, n, k)
                    args = self.load_args(self.p.latency_duration, rate=target / n)
                    r = run_loadgen(srv, conns, self.env, args, 120)
                    self.keep("latency", server, target, rep, r)

    def rooms(self) -> None:
        """Many rooms: R rooms x C clients, one sender per room (window 1)."""
        nr, per = self.p.rooms
        for rep in range(self.p.reps):
            for server in self.order(rep, self.servers_for("rooms")):
                with self.serve(server) as srv:
                    conns = conns_for(server, self.env, "rooms", nr, per, 1)
                    args = self.load_args(window=1, conc=500, connect_timeout=400)
                    r = run_loadgen(srv, conns, self.env, args, 480)
                    self.keep("rooms", server, f"{nr}x{per}", rep, r)

    def idle(self) -> None:
        """Idle connections: RSS per connection, fresh server each time."""
        _nr, per = self.p.rooms
        for n in self.p.idle_n:
            for rep in range(self.p.reps):
                for server in self.order(rep, self.servers_for("idle")):
                    with self.serve(server) as srv:
                        time.sleep(0.5)
                        conns = conns_for(server, self.env, "rooms", -(-n // per), per, 0)[:n]
                        hold, settle = (0.6, 0.3) if self.smoke else (3.0, 2.0)
                        args = ["--hold", str(hold), "--conc", "500", "--connect-timeout", "400"]
                        r = run_loadgen(srv, conns, self.env, args, 480, settle)
                        r["kib_per_conn"] = (r["rss_ready_kib"] - r["rss0_kib"]) / max(
                            1, r["ready"]
                        )
                        r["expected_total"] = 0
                        self.keep("idle", server, n, rep, r)

    def durable(self) -> None:
        """Durable sends (Chatterbox: validated, committed, acked) vs echo request/reply."""
        nr, w = self.p.durable_rooms, self.p.durable_window
        for rep in range(self.p.reps):
            for server in self.order(rep, self.servers_for("durable")):
                with self.serve(server) as srv:
                    if server == "chatterbox":
                        conns = chatterbox_conns(self.env, "rooms", nr, 1, 1)
                    else:  # no room in the query: the minimal chat gives each its own room
                        conns = [Conn("/", "-", f"r_e{i:03d}", True) for i in range(nr)]
                    r = run_loadgen(srv, conns, self.env, self.load_args(window=w), 120)
                    r["requests_per_s"] = (
                        r["acked_per_s"] if server == "chatterbox" else r["delivered_per_s"]
                    )
                    self.keep("durable", server, nr, rep, r)

    def join_and_resume(self) -> None:
        """Time to hello (50 messages) vs stored messages; resume of N missed events."""
        if "chatterbox" not in self.servers:
            return
        for rep in range(self.p.reps):
            with self.serve("chatterbox") as srv:
                for key in self.order(rep, self.p.join_keys):
                    room = self.env.seeded[key][0]
                    conns = chatterbox_conns(self.env, key, 1, self.p.join_conns, 0)
                    r = run_loadgen(srv, conns, self.env, ["--hold", "0", "--conc", "1"], 120)
                    r["stored_messages"] = room["last_seq"]
                    self.keep("join", "chatterbox", key, rep, r)
                key = self.p.join_keys[-1] if self.smoke else "h5"
                room = self.env.seeded[key][0]
                after = room["last_seq"] - self.p.resume_events
                conns = chatterbox_conns(self.env, key, 1, 1, 0)
                args = ["--resume-room", room["room_id"], "--resume-after", str(after)]
                r = run_loadgen(srv, conns, self.env, args, 120)
                r["resume_per_s"] = r["resume_events"] / r["resume_s"] if r["resume_s"] else 0
                r["resume_expected"] = self.p.resume_events
                self.keep("resume", "chatterbox", self.p.resume_events, rep, r)
                if r["resume_events"] < self.p.resume_events:
                    self.failures.append(
                        f"resume: {r['resume_events']} of {self.p.resume_events} events replayed"
                    )


# --------------------------------------------------------------------------------------------
# seeding


def prepare_db(env: Env, profile: Profile, cache: bool) -> None:
    """Migrate and seed the Chatterbox database (cached in bench/build/ by plan for full runs)."""
    sys.path.insert(0, str(ROOT))
    import asyncio

    from bench.seed import RoomPlan, seed
    from chatterbox.config import Settings
    from chatterbox.store.migrate import upgrade

    plan_text = json.dumps(profile.plan, sort_keys=True)
    migrations = sorted(
        p.name for p in (ROOT / "chatterbox" / "migrations" / "versions").glob("*.py")
    )
    key = hashlib.sha256((plan_text + ",".join(migrations)).encode()).hexdigest()[:16]
    cached_db = BUILD / f"seed-{key}.db"
    cached_json = BUILD / f"seed-{key}.json"
    if cache and cached_db.exists() and cached_json.exists():
        shutil.copy(cached_db, env.db)
        env.seeded = json.loads(cached_json.read_text())
        return
    upgrade(env.db_url)
    t0 = time.perf_counter()
    plans = [RoomPlan(**p) for p in profile.plan]
    rooms = asyncio.run(seed(env.db_url, plans, Settings(env="test", secret_key=SECRET)))
    env.seeded = {
        k: [{"room_id": r.room_id, "last_seq": r.last_seq, "tokens": r.tokens} for r in v]
        for k, v in rooms.items()
    }
    print(f"[bench] seeded in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    if cache:
        with contextlib.suppress(OSError):
            for stale in BUILD.glob("seed-*"):
                stale.unlink()
        shutil.copy(env.db, cached_db)
        cached_json.write_text(json.dumps(env.seeded))


def chatterbox_ready(env: Env) -> str | None:
    """None when Chatterbox's /ws serves a seeded user (hello), else the reason."""
    try:
        with running("chatterbox", env) as srv:
            key = next(iter(env.seeded))
            conns = chatterbox_conns(env, key, 1, 1, 0)
            r = run_loadgen(srv, conns, env, ["--hold", "0", "--connect-timeout", "10"], 30)
            if r["ready"] != 1:
                return f"no hello on /ws: {r['stderr'].strip()[:300]}"
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"[:500]
    return None


# --------------------------------------------------------------------------------------------
# report


def _measured_commit() -> str:
    """The commit of the measured tree (``-dirty`` when it had changes)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from bench.report import _commit

    return _commit()


def med(values: Sequence[float]) -> float:
    """Median (NaN when empty)."""
    return statistics.median(values) if values else float("nan")


def main() -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="seconds, tiny N, harness check")
    parser.add_argument("--only", nargs="*", help="scenario groups to run")
    parser.add_argument(
        "--servers", nargs="*", default=["raw", "naive", "chatterbox", "echo", "minimal"]
    )
    parser.add_argument("--reps", type=int, default=None)
    parser.add_argument("--no-report", action="store_true", help="do not rewrite docs/")
    parser.add_argument("--json", type=Path, default=None, help="also write raw records here")
    args = parser.parse_args()

    measured = _measured_commit()  # before the run: the tree may be edited while it runs
    profile = SMOKE if args.smoke else FULL
    if args.reps:
        profile.reps = args.reps
    t_begin = time.monotonic()
    raise_nofile()
    build_loadgen()
    with tempfile.TemporaryDirectory(prefix="chatterbox-bench-") as tmp:
        env = Env(Path(tmp), Path(tmp) / "chatterbox.db")
        servers = list(args.servers)
        pending = None
        if "chatterbox" in servers:
            prepare_db(env, profile, cache=not args.smoke)
            pending = None if args.smoke else chatterbox_ready(env)
            if pending:
                print(f"[bench] Chatterbox not benchmarked: {pending}", file=sys.stderr)
                servers.remove("chatterbox")
        runner = Runner(profile, env, servers, args.smoke)
        groups = {
            "fanout": runner.fanout,
            "latency": runner.latency,
            "rooms": runner.rooms,
            "idle": runner.idle,
            "durable": runner.durable,
            "join": runner.join_and_resume,
        }
        try:
            for name, fn in groups.items():
                if args.only and name not in args.only:
                    continue
                runner.log(f"== {name}")
                try:
                    fn()
                except Exception as exc:
                    runner.failures.append(f"{name}: {type(exc).__name__}: {exc}")
                    runner.log(f"{name} FAILED: {exc}")
        finally:
            runner.close()
        elapsed = time.monotonic() - t_begin
        if args.json:
            args.json.write_text(
                json.dumps(
                    {
                        "records": runner.records,
                        "failures": runner.failures,
                        "pending": pending,
                        "elapsed": elapsed,
                        "commit": measured,
                    },
                    indent=1,
                )
            )
        if args.smoke:
            if pending and "chatterbox" in args.servers:
                runner.failures.append(f"chatterbox: {pending}")
            for f in runner.failures:
                print(f"FAIL {f}", file=sys.stderr)
            print(
                f"bench smoke: {len(runner.records)} runs, {len(runner.failures)} failures, "
                f"{elapsed:.1f} s",
                file=sys.stderr,
            )
            return 1 if runner.failures else 0
        if not args.no_report:
            from bench.report import write_report

            write_report(runner.records, runner.failures, profile, pending, elapsed, measured)
        print(f"bench: {len(runner.records)} runs in {elapsed:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
