"""`make load` (issue 15 item 2): the distributed deployment under load, started by this command itself.

1. `itp run-distributed` (itp/distributed.py: Postgres schemas, a Tansu broker, each service and relay its own
   process, the gateway as N workers on one port, the demo and blueprint data) on a fresh database, as a user
   starts it, and stopped with Ctrl-C (SIGINT to its process group) at the end.
2. GET a child's referral straight to the referral service (with the internal token the gateway would forward)
   and through the gateway (with the council's own token), at 8, 32 and 64 connections, measured by wrk (from
   Debian's packages: `make load` installs it as `make test` installs chromium) or, without wrk, by this file's
   own aiohttp load generator: req/s, p50, p99, errors (non-2xx answers, socket errors and timeouts), and the
   ratio gateway/direct; and the CPU the whole deployment (every process of it and its Postgres backends)
   spent per request, which moves much less than throughput when other work shares the machine: 2 cores
   divided by it is what the deployment could serve on this machine alone.
3. A mixed workload through the gateway: councils posting and reading referrals and listing theirs, the hub
   ranking (GET .../matches) and deciding (declining: it takes no bed, so it can go on for any length of run),
   placements moving (legal-status changes), a fee period closing (finance); req/s, p99 and errors per kind
   and in all. First closed loop (32 clients, each sending its next request when the last is answered: the
   throughput the deployment reaches), then open loop at --mixed-rate (300) requests a second whatever the
   answers: the latency callers see at that load.

The gateway's rate limit is raised for the run (ITP_GATEWAY_RATE_LIMIT_PER_SECOND): one council's client at
hundreds of requests a second would otherwise be refused, as it should be. The limiter still runs on every
request (and synchronises its buckets through the database), so its cost is in the figures.

    python bench/load.py [--duration 10] [--connections 8,32,64] [--mixed-seconds 20] [--mixed-concurrency 32]
                         [--mixed-rate 300] [--gateway-workers 2] [--tool wrk|python] [--core-scaling]

With --core-scaling, the first mix runs closed loop again, alternately on every core and with the whole deployment
and every Postgres process held to one core (the load generator on the others): the ratio of the two throughputs
says whether the limit is the machine's CPU (about the number of cores: more cores or replicas give more) or
something that does not grow with cores (a lock, a single process, the broker).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import pct  # noqa: E402

TARGETS = {"ratio": 0.5, "p99_32_ms": 150.0, "mixed_rps": 300.0}

# What each client of the mixed workload does next, by weight. The issue names the kinds, not their shares:
# - "pathway": as the people in domain.md use the system. A council's case-management system reads a referral
#   (its status screen, a poll between webhooks) and lists its referrals many times for each one it posts; the
#   hub looks at a child's ranking several times (the matching meeting, the manager on call) before one
#   decision; a placement's legal status changes now and then. 3 writes in 21 requests.
# - "write-heavy": a stress mix, 5 writes in 13 requests (a referral posted for every 2.5 reads, a decision
#   for every referral): every write fans out as events to 5 to 7 consumers, so it costs 10 times a read.
MIXES = {
    "pathway": {"read": 9, "list": 3, "rank": 3, "queue": 1, "post": 1, "hub": 1, "move": 1},
    "write-heavy": {"read": 5, "post": 2, "list": 1, "hub": 2, "move": 1},
}
KIND_LABELS = {"read": "council GET /v1/referrals/{id}", "post": "council POST /v1/referrals",
               "list": "council GET /v1/referrals", "hub": "hub matches + decline",
               "rank": "hub GET matches (a look)", "queue": "hub GET /v1/referrals (queue)",
               "move": "hub POST legal-status"}


# --- this machine's speed ------------------------------------------------------------------------------
def machine_speed(rounds: int = 9) -> float:
    """Milliseconds this process takes for a fixed piece of CPython work (the interpreter loop, dicts, strings,
    JSON: what the deployment's processes spend their CPU on), the fastest of `rounds`. The same code costs a
    different CPU time per request on different days of this machine (a shared host: 5.66 ms for the pathway mix
    one day, over 11 the next, untouched kinds moving as much), so `make load` prints this at its start and end:
    CPU per request divided by it compares runs made on different days."""
    def work() -> int:
        n = 0
        for i in range(20_000):
            d = {"id": str(i), "la_code": "E10000018", "status": "received", "needs": [i, i + 1]}
            n += len(json.dumps(d)) + len(d["id"])
        return n
    best = float("inf")
    for _ in range(rounds):
        t0 = time.process_time()
        work()
        best = min(best, time.process_time() - t0)
    return best * 1000


# --- figures -------------------------------------------------------------------------------------------
@dataclass
class Figures:
    requests: int = 0
    seconds: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    errors: int = 0
    tool: str = ""
    cpu_ms: float | None = None  # CPU of the whole deployment per request (CpuMeter)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def line(self) -> str:
        cpu = f"   CPU {self.cpu_ms:5.2f} ms/req" if self.cpu_ms is not None else ""
        return (f"{self.rps:8.1f} req/s   p50 {self.p50_ms:7.1f} ms   p99 {self.p99_ms:7.1f} ms   "
                f"errors {self.errors}{cpu}")


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def parse_wrk(output: str) -> Figures:
    """wrk --latency's summary: requests, duration, the 50% and 99% latencies, non-2xx/3xx answers and socket
    errors (connect, read, write, timeout)."""
    done = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", output)
    if not done:
        raise ValueError("not wrk --latency output")
    figures = Figures(requests=int(done.group(1)), seconds=_ms(done.group(2), done.group(3)) / 1000, tool="wrk")
    for label, attr in (("50%", "p50_ms"), ("99%", "p99_ms")):
        m = re.search(rf"^\s*{re.escape(label)}\s+([\d.]+)(us|ms|s|m)\s*$", output, re.M)
        if m:
            setattr(figures, attr, _ms(m.group(1), m.group(2)))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    figures.errors = (int(non2xx.group(1)) if non2xx else 0) + (sum(map(int, socket.groups())) if socket else 0)
    return figures


def figures_of(latencies_ms: list[float], errors: int, seconds: float, tool: str = "python") -> Figures:
    return Figures(requests=len(latencies_ms) + errors, seconds=seconds,
                   p50_ms=pct(latencies_ms, 50) if latencies_ms else 0.0,
                   p99_ms=pct(latencies_ms, 99) if latencies_ms else 0.0, errors=errors, tool=tool)


# --- load generators -----------------------------------------------------------------------------------
def run_wrk(url: str, token: str, connections: int, seconds: float, threads: int = 2) -> Figures:
    cmd = ["wrk", f"-t{min(threads, connections)}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency",
           "--timeout", "5s", "-H", f"Authorization: Bearer {token}", url]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    return parse_wrk(done.stdout)


async def closed_loop(url: str, headers: dict, connections: int, seconds: float | None = None,
                      requests: int | None = None) -> Figures:
    """`connections` workers each sending one GET after another on its own keep-alive connection, for
    `seconds` or until `requests` have been sent; a non-2xx answer or a failed request is an error."""
    import aiohttp

    latencies: list[float] = []
    errors = 0
    sent = 0
    start = time.perf_counter()
    deadline = start + seconds if seconds else None
    connector = aiohttp.TCPConnector(limit=connections, force_close=False)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=5)) as http:
        async def worker():
            nonlocal errors, sent
            while (deadline is None or time.perf_counter() < deadline) and (requests is None or sent < requests):
                sent += 1
                t0 = time.perf_counter()
                try:
                    async with http.get(url, headers=headers) as resp:
                        await resp.read()
                        ok = 200 <= resp.status < 300
                except (aiohttp.ClientError, asyncio.TimeoutError):
                    ok = False
                if ok:
                    latencies.append((time.perf_counter() - t0) * 1000)
                else:
                    errors += 1
        await asyncio.gather(*(worker() for _ in range(connections)))
    return figures_of(latencies, errors, time.perf_counter() - start)


def measure(tool: str, url: str, token: str, connections: int, seconds: float, meter: "CpuMeter | None" = None) -> Figures:
    if meter is not None:
        meter.start()
    if tool == "wrk":
        figures = run_wrk(url, token, connections, seconds)
    else:
        figures = asyncio.run(closed_loop(url, {"Authorization": f"Bearer {token}"}, connections, seconds=seconds))
    if meter is not None and figures.requests:
        figures.cpu_ms = meter.stop() * 1000 / figures.requests
    return figures


# --- CPU spent by the deployment (what the run costs, whatever else the machine is doing) -----------------
_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _children() -> dict[int, int]:
    out = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    out[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                pass
    return out


def _cpu_ticks(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime
    except (OSError, ValueError, IndexError):
        return 0


class CpuMeter:
    """CPU seconds used by every process of the deployment (the run-distributed tree: services, relays, broker,
    gateway workers) and by its database's Postgres backends, between start() and stop(). On a machine shared
    with other work, throughput moves with the neighbours; the CPU a request costs does much less, and
    2 cores / (CPU per request) is what the deployment could serve on this machine alone."""

    def __init__(self, root_pid: int, backends):
        self.root_pid = root_pid
        self.backends = backends  # () -> pids of the database's Postgres backends
        self.at_rest = 0.0  # CPU seconds a second the deployment uses with no requests (polling its broker)

    def measure_rest(self, seconds: float = 5.0) -> float:
        self.start()
        time.sleep(seconds)
        self.at_rest = self.stop(raw=True) / seconds
        return self.at_rest

    def pids(self) -> set[int]:
        parents = _children()
        found, frontier = set(), {self.root_pid}
        while frontier:
            frontier = {pid for pid, ppid in parents.items() if ppid in frontier} - found
            found |= frontier
        return found | set(self.backends())

    def start(self) -> None:
        self._machine = _machine_ticks()
        self._own = os.times()
        self._before = {pid: _cpu_ticks(pid) for pid in self.pids()}
        self._labels = {pid: _label(pid) for pid in self._before}
        self._started = time.perf_counter()
        self.by_process: dict[str, float] = {}

    def stop(self, raw: bool = False) -> float:
        """CPU seconds since start(), less what the deployment would have used at rest meanwhile; `by_process`
        holds the raw seconds of each kind of process (a service, a relay, the broker, a role's backends)."""
        after = {pid: _cpu_ticks(pid) for pid in self.pids() | set(self._before)}
        self.by_process = defaultdict(float)
        for pid in after:
            label = self._labels.get(pid) or _label(pid)
            self.by_process[label] += max(0, after[pid] - self._before.get(pid, 0)) / _TICK
        used = sum(self.by_process.values())
        # the whole machine's cores busy (kernel network work included, which no process is charged with) and
        # this process's own CPU (the mixed workload's load generator), as shares
        busy, total = (b - a for a, b in zip(self._machine, _machine_ticks()))
        self.machine_busy = busy / total if total else 0.0
        own = os.times()
        elapsed = time.perf_counter() - self._started
        self.load_generator_cores = ((own.user + own.system) - (self._own.user + self._own.system)) / elapsed \
            if elapsed > 0 else 0.0
        return used if raw else max(0.0, used - self.at_rest * (time.perf_counter() - self._started))


def _machine_ticks() -> tuple[int, int]:
    """(busy, total) clock ticks of all cores since boot, from /proc/stat (idle and iowait are not busy)."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
    except (OSError, ValueError):
        return 0, 0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    total = sum(fields[:8])
    return total - idle, total


def _label(pid: int) -> str:
    """What a process of the deployment is: `serve referral`, `relay billing`, `gateway` (its workers),
    `broker`, `postgres itp_matching` (that service role's backends)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
    except OSError:
        return "gone"
    line = " ".join(argv)
    if line.startswith("postgres:"):
        parts = line.split()
        return f"postgres {parts[2]}" if len(parts) > 2 else "postgres"
    if "tansu" in line:
        return "broker"
    for verb in ("serve", "relay"):
        if verb in argv:
            name = argv[argv.index(verb) + 1] if argv.index(verb) + 1 < len(argv) else ""
            return f"{verb} {name}"
    if "multiprocessing" in line:
        return "serve gateway"  # uvicorn's worker processes
    return "other"


def postgres_backends(admin_url: str, database: str):
    """The pids of the Postgres backends connected to `database` (read with psql-free SQL via asyncpg)."""
    import asyncpg
    from sqlalchemy.engine import make_url

    url = make_url(admin_url)

    async def query() -> list[int]:
        conn = await asyncpg.connect(host=url.host or "127.0.0.1", port=url.port or 5432, user=url.username,
                                     password=url.password, database=url.database or "postgres")
        try:
            return [r["pid"] for r in await conn.fetch("SELECT pid FROM pg_stat_activity WHERE datname = $1",
                                                       database)]
        finally:
            await conn.close()

    def pids() -> list[int]:
        try:
            return asyncio.run(query())
        except Exception:  # noqa: BLE001 - without them the figure is the ITP processes' alone
            return []
    return pids


class Pinned:
    """The deployment (every process of its tree, threads included) and every Postgres process of the machine
    (the postmaster too, so that backends it starts meanwhile follow) held to `cores` CPUs, and this process (the
    load generator) to the others, until restore(), which gives each process back the CPUs it had. Linux only
    (sched_setaffinity). A run killed in between leaves Postgres pinned: `taskset -a -p -c 0-N PID` frees it."""

    def __init__(self, root_pid: int, cores: int, *, postgres: bool = True):
        every = sorted(os.sched_getaffinity(0))
        self.cores, self.others = set(every[:cores]), set(every[cores:]) or set(every)
        self.root_pid = root_pid
        self.postgres = postgres
        self.before: dict[int, set[int]] = {}

    @staticmethod
    def _postgres() -> list[int]:
        found = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/comm") as f:
                        if f.read().strip() in ("postgres", "postmaster"):
                            found.append(int(entry))
                except OSError:
                    pass
        return found

    def _set(self, pid: int, cpus: set[int]) -> None:
        try:
            tasks = [int(t) for t in os.listdir(f"/proc/{pid}/task")]
        except OSError:
            return
        for tid in tasks:
            try:
                self.before.setdefault(tid, os.sched_getaffinity(tid))
                os.sched_setaffinity(tid, cpus)
            except OSError:  # gone meanwhile
                pass

    def pin(self) -> int:
        pids = self._pids()
        for pid in pids:
            self._set(pid, self.cores)
        self.before.setdefault(0, os.sched_getaffinity(0))
        os.sched_setaffinity(0, self.others)
        return len(pids)

    def _pids(self) -> set[int]:
        pids = CpuMeter(self.root_pid, lambda: []).pids() | {self.root_pid}
        return pids | set(self._postgres()) if self.postgres else pids

    def restore(self) -> None:
        """Every thread pinned back to what it had; a thread or process started while pinned (a Postgres backend
        the postmaster forked, a thread of a service) inherited the pin, and gets the CPUs the load generator had."""
        every = self.before.get(0, os.sched_getaffinity(0))
        for pid in self._pids():
            try:
                tasks = [int(t) for t in os.listdir(f"/proc/{pid}/task")]
            except OSError:
                continue
            for tid in tasks:
                if tid not in self.before:
                    try:
                        os.sched_setaffinity(tid, every)
                    except OSError:
                        pass
        for tid, cpus in self.before.items():
            try:
                os.sched_setaffinity(tid, cpus)
            except OSError:
                pass
        self.before.clear()


# --- the deployment ------------------------------------------------------------------------------------
@dataclass
class Deployment:
    process: subprocess.Popen
    plan: dict
    log_path: Path
    command: list[str]

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)  # Ctrl-C: honcho stops every process
            try:
                self.process.wait(40)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)


def start_deployment(*, port: int, database: str, data_dir: Path, workers: int, timeout: float = 300) -> Deployment:
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "plan.json").unlink(missing_ok=True)
    command = [sys.executable, "-m", "itp.cli", "run-distributed", "--port", str(port), "--database", database,
               "--data-dir", str(data_dir), "--gateway-workers", str(workers)]
    env = {**os.environ, "ITP_GATEWAY_RATE_LIMIT_PER_SECOND": "1000000", "ITP_GATEWAY_RATE_LIMIT_BURST": "1000000",
           "ITP_LOG_LEVEL": "WARNING", "ITP_SCHEDULER_INTERVAL_SECONDS": "3600"}
    log_path = data_dir / "run-distributed.log"
    log = open(log_path, "w")
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    deployment = Deployment(process, {}, log_path, command)
    deadline = time.time() + timeout
    try:
        while "Stop:  Ctrl-C" not in log_path.read_text():  # the banner: started and seeded
            if process.poll() is not None:
                raise RuntimeError(f"run-distributed exited:\n{log_path.read_text()[-3000:]}")
            if time.time() > deadline:
                raise RuntimeError(f"run-distributed not ready in {timeout:.0f} s:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.5)
        deployment.plan = json.loads((data_dir / "plan.json").read_text())
    except BaseException:
        deployment.stop()
        raise
    return deployment


async def tokens_for(plan: dict, admin_url: str) -> dict:
    """Client tokens from the gateway (client credentials, as a council's system gets them) and, for the
    direct calls, the internal token the gateway forwards for the council (signed with the gateway's key from
    its database: what the referral service accepts)."""
    import httpx

    from itp.distributed import database_url
    from libs.common.auth import mint_service_token
    from libs.common.db import Database
    from libs.common.settings import Settings
    from services.gateway.keys import SharedKeys

    out = {}
    async with httpx.AsyncClient(base_url=plan["gateway"], timeout=30) as http:
        for client_id in ("demo-leicestershire", "demo-leicester", "demo-hub", "demo-finance"):
            r = await http.post("/oauth/token", data={"grant_type": "client_credentials"},
                                auth=(client_id, f"{client_id}-secret"))
            r.raise_for_status()
            out[client_id] = r.json()
    settings = Settings.for_service("gateway", database_url=database_url(admin_url, plan["database"], "gateway"),
                                    log_level="WARNING")
    db = Database(settings)
    try:
        keys = SharedKeys(db, token_ttl_seconds=settings.token_ttl_seconds)
        await keys.refresh()
    finally:
        await db.dispose()
    county = out["demo-leicestershire"]
    out["direct"] = mint_service_token(keys.keyset, client_id="demo-leicestershire", la_code="E10000018",
                                       scopes=county["scope"].split(), ttl_seconds=3600)
    return {k: (v["access_token"] if isinstance(v, dict) else v) for k, v in out.items()}


# --- the mixed workload --------------------------------------------------------------------------------
def new_referral(n: int) -> dict:
    return {"child_ref": f"LOAD-{uuid.uuid4().hex[:10]}", "date_of_birth": "2012-03-14",
            "sex": random.choice(["female", "male"]), "legal_status": "C2", "home_postcode": "LE4 6AB",
            "urgency": random.choice(["crisis", "planned"]), "needs": [{"code": "mental_health", "severity": "high"}],
            "social_worker": {"name": "Sam Patel", "email": "sam.patel@leics.gov.uk"}}


@dataclass
class Mixed:
    gateway: str
    tokens: dict
    latencies: dict = field(default_factory=lambda: defaultdict(list))
    errors: dict = field(default_factory=lambda: defaultdict(int))
    statuses: dict = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    referrals: dict = field(default_factory=lambda: {"E10000018": [], "E06000016": []})
    to_decide: list = field(default_factory=list)
    placements: list = field(default_factory=list)
    closed: list = field(default_factory=list)
    looked_at: list = field(default_factory=list)  # referrals the hub has a ranking of
    meter: "CpuMeter | None" = None
    cpu_seconds: float = 0.0

    def auth(self, client: str, key: bool = False) -> dict:
        h = {"Authorization": f"Bearer {self.tokens[client]}"}
        if key:
            h["Idempotency-Key"] = str(uuid.uuid4())
        return h

    async def call(self, http, kind: str, method: str, path: str, headers: dict, *, json_body=None,
                   ok=(200, 201), timeout: float | None = None) -> dict | None:
        import aiohttp

        extra = {"timeout": aiohttp.ClientTimeout(total=timeout)} if timeout else {}
        t0 = time.perf_counter()
        try:
            async with http.request(method, self.gateway + path, headers=headers, json=json_body, **extra) as resp:
                body = await resp.read()
                status = resp.status
        except Exception:  # noqa: BLE001 - a failed request is an error of its kind
            self.errors[kind] += 1
            self.statuses[kind]["failed"] += 1
            return None
        self.statuses[kind][status] += 1
        if status not in ok:
            self.errors[kind] += 1
            return None
        self.latencies[kind].append((time.perf_counter() - t0) * 1000)
        return json.loads(body) if body else {}

    async def setup(self, http) -> None:
        """What the run works on: each council's referrals, the placements (with the legal status each changes
        to next) and the next fee period to close."""
        for la, client in (("E10000018", "demo-leicestershire"), ("E06000016", "demo-leicester")):
            page = await self.call(http, "setup", "GET", "/v1/referrals?limit=50", self.auth(client))
            self.referrals[la] = [r["id"] for r in (page or {}).get("items", [])]
        page = await self.call(http, "setup", "GET", "/v1/placements?limit=100", self.auth("demo-hub"))
        today = date.today().isoformat()
        for p in (page or {}).get("items", []):
            if p.get("phase") not in ("phase_1", "phase_2"):
                continue
            for status in ("V2", "C2"):  # find which change is a change (the status it has is refused)
                body = {"legal_status": status, "effective_date": today}
                if await self.call(http, "setup", "POST", f"/v1/placements/{p['id']}/legal-status",
                                   self.auth("demo-hub", key=True), json_body=body, ok=(200, 201)) is not None:
                    self.placements.append([p["id"], "C2" if status == "V2" else "V2"])
                    break
        self.errors.pop("setup", None)

    async def council_posts(self, http, la: str, client: str) -> None:
        created = await self.call(http, "council POST /v1/referrals", "POST", "/v1/referrals",
                                  self.auth(client, key=True), json_body=new_referral(0), ok=(201,))
        if created:
            self.referrals[la].append(created["id"])
            self.to_decide.append(created["id"])

    async def council_reads(self, http, la: str, client: str) -> None:
        if self.referrals[la]:
            rid = random.choice(self.referrals[la])
            await self.call(http, "council GET /v1/referrals/{id}", "GET", f"/v1/referrals/{rid}", self.auth(client))

    async def council_lists(self, http, la: str, client: str) -> None:
        await self.call(http, "council GET /v1/referrals", "GET", "/v1/referrals?limit=20", self.auth(client))

    async def hub_ranks_and_decides(self, http) -> None:
        if not self.to_decide:
            await self.call(http, "hub GET /v1/referrals (queue)", "GET", "/v1/referrals?limit=20",
                            self.auth("demo-hub"))
            return
        rid = self.to_decide.pop(0)
        # 404: matching has not yet heard of the referral (its event is on the way), a right answer: tried later
        ranked = await self.call(http, "hub GET /v1/referrals/{id}/matches", "GET", f"/v1/referrals/{rid}/matches",
                                 self.auth("demo-hub"), ok=(200, 404))
        if ranked is not None and "options" not in ranked:
            self.to_decide.append(rid)
        elif ranked is not None:
            self.looked_at.append(rid)
            await self.call(http, "hub POST /v1/admissions (decline)", "POST", "/v1/admissions",
                            self.auth("demo-hub", key=True), ok=(201,),
                            json_body={"referral_id": rid, "decision": "decline", "reason_code": "no_vacancy"})

    async def hub_looks(self, http) -> None:
        """The hub looks at a child's ranking without deciding (a referral of this run, or of the demo's)."""
        known = self.looked_at or self.referrals["E10000018"] + self.referrals["E06000016"]
        if known:
            rid = random.choice(known)
            await self.call(http, "hub GET /v1/referrals/{id}/matches (a look)", "GET",
                            f"/v1/referrals/{rid}/matches", self.auth("demo-hub"), ok=(200, 404))

    async def hub_queue(self, http) -> None:
        await self.call(http, "hub GET /v1/referrals (queue)", "GET", "/v1/referrals?limit=20", self.auth("demo-hub"))

    async def one(self, http, kind: str, rnd: random.Random) -> None:
        la, client = rnd.choice([("E10000018", "demo-leicestershire"), ("E06000016", "demo-leicester")])
        if kind == "post":
            await self.council_posts(http, la, client)
        elif kind == "read":
            await self.council_reads(http, la, client)
        elif kind == "list":
            await self.council_lists(http, la, client)
        elif kind == "hub":
            await self.hub_ranks_and_decides(http)
        elif kind == "rank":
            await self.hub_looks(http)
        elif kind == "queue":
            await self.hub_queue(http)
        else:
            await self.placement_moves(http)

    async def placement_moves(self, http) -> None:
        if not self.placements:  # every placement has a change in flight: this client waits its turn
            await asyncio.sleep(0.01)
            return
        entry = self.placements.pop(0)  # one change at a time per placement
        pid, status = entry
        done = await self.call(http, "hub POST /v1/placements/{id}/legal-status", "POST",
                               f"/v1/placements/{pid}/legal-status", self.auth("demo-hub", key=True),
                               json_body={"legal_status": status, "effective_date": date.today().isoformat()})
        if done is not None:
            entry[1] = "C2" if status == "V2" else "V2"
        self.placements.append(entry)

    async def close_fee_period(self, http) -> None:
        """Finance closes the month after the last closed one (calendar months)."""
        periods = await self.call(http, "finance GET /v1/fee-periods", "GET", "/v1/fee-periods",
                                  self.auth("demo-finance"), timeout=60)
        starts = sorted(p["period_start"] for p in (periods or {}).get("items", []) if p.get("period_start"))
        last = date.fromisoformat(starts[-1]) if starts else date.today().replace(day=1)
        nxt = date(last.year + (last.month == 12), last.month % 12 + 1, 1)
        if date(nxt.year + (nxt.month == 12), nxt.month % 12 + 1, 1) > date.today():
            self.closed.append((nxt.isoformat(), "not over yet: nothing to close"))  # an earlier mix closed the last
            return
        closed = await self.call(http, "finance POST /v1/fee-periods/close", "POST", "/v1/fee-periods/close",
                                 self.auth("demo-finance", key=True), json_body={"period_start": nxt.isoformat()},
                                 ok=(200, 201), timeout=60)
        self.closed.append((nxt.isoformat(), closed is not None))

    async def finance_midway(self, seconds: float) -> None:
        """Half way through a run, finance closes the next fee period. The finance officer is another user with
        its own connection: sharing the actors' pool (always full) left this request queued in aiohttp's
        connector until the actors stopped, i.e. about seconds/2 whatever the server did."""
        import aiohttp

        await asyncio.sleep(seconds / 2)
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1)) as own:
            await self.close_fee_period(own)

    async def run(self, seconds: float, concurrency: int, weights: dict[str, int] | None = None) -> float:
        import aiohttp

        kinds = [k for k, w in (weights or MIXES["pathway"]).items() for _ in range(w)]
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency),
                                         timeout=aiohttp.ClientTimeout(total=10)) as http:
            await self.setup(http)
            if self.meter is not None:
                await asyncio.to_thread(self.meter.start)
            start = time.perf_counter()
            deadline = start + seconds

            async def actor(i: int):
                rnd = random.Random(i)
                while time.perf_counter() < deadline:
                    await self.one(http, rnd.choice(kinds), rnd)

            await asyncio.gather(*(actor(i) for i in range(concurrency)), self.finance_midway(seconds))
            elapsed = time.perf_counter() - start
            if self.meter is not None:
                self.cpu_seconds = await asyncio.to_thread(self.meter.stop)
            return elapsed

    async def run_paced(self, seconds: float, rate: float, weights: dict[str, int] | None = None, *,
                        max_in_flight: int = 512) -> tuple[float, int]:
        """The open-loop form: requests start on a Poisson schedule at `rate` a second whatever the answers (many
        councils' systems and hub staff acting independently, none waiting for another's answer), so the latency
        is what a caller sees at that load, not the queue a fixed set of busy clients builds. At most
        `max_in_flight` at once: a start due while that many wait is late (counted), not dropped. Answers the
        seconds and how many starts were late."""
        import aiohttp

        kinds = [k for k, w in (weights or MIXES["pathway"]).items() for _ in range(w)]
        rnd = random.Random(7)
        late = 0
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=max_in_flight),
                                         timeout=aiohttp.ClientTimeout(total=10)) as http:
            await self.setup(http)
            if self.meter is not None:
                await asyncio.to_thread(self.meter.start)
            slots = asyncio.Semaphore(max_in_flight)
            tasks: set[asyncio.Task] = set()
            start = time.perf_counter()
            due = start

            async def request(kind: str, r: random.Random) -> None:
                try:
                    await self.one(http, kind, r)
                finally:
                    slots.release()

            closing = asyncio.create_task(self.finance_midway(seconds))
            while due < start + seconds:
                due += rnd.expovariate(rate)
                pause = due - time.perf_counter()
                if pause > 0:
                    await asyncio.sleep(pause)
                if slots.locked():
                    late += 1
                await slots.acquire()
                task = asyncio.create_task(request(rnd.choice(kinds), random.Random(rnd.random())))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            await asyncio.gather(*tasks, closing)
            elapsed = time.perf_counter() - start
            if self.meter is not None:
                self.cpu_seconds = await asyncio.to_thread(self.meter.stop)
            return elapsed, late

    async def run_alone(self, kind: str, seconds: float, concurrency: int) -> tuple[int, float]:
        """One kind of the mixed workload alone (same clients): requests made and the deployment's CPU seconds,
        counted until 1 s after the last request (the events it caused are handled meanwhile)."""
        import aiohttp

        counted = sum(len(v) for v in self.latencies.values()) + sum(self.errors.values())
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency),
                                         timeout=aiohttp.ClientTimeout(total=10)) as http:
            await asyncio.to_thread(self.meter.start)
            deadline = time.perf_counter() + seconds

            async def actor(i: int):
                rnd = random.Random(1000 + i)
                while time.perf_counter() < deadline:
                    await self.one(http, kind, rnd)

            await asyncio.gather(*(actor(i) for i in range(concurrency)))
            await asyncio.sleep(1.0)
            cpu = await asyncio.to_thread(self.meter.stop)
        return sum(len(v) for v in self.latencies.values()) + sum(self.errors.values()) - counted, cpu

    def report(self, seconds: float) -> tuple[Figures, list[str]]:
        lines = []
        everything: list[float] = []
        for kind in sorted(set(self.latencies) | set(self.errors)):
            if kind == "setup":
                continue
            f = figures_of(self.latencies[kind], self.errors.get(kind, 0), seconds)
            everything += self.latencies[kind]
            odd = {s: n for s, n in self.statuses[kind].items() if s not in (200, 201)}
            lines.append(f"    {kind:<46} {f.line()}" + (f"   (answers {dict(odd)})" if odd else ""))
        total = figures_of(everything, sum(v for k, v in self.errors.items() if k != "setup"), seconds)
        return total, lines


# --- main ----------------------------------------------------------------------------------------------
def ensure_wrk() -> bool:
    return shutil.which("wrk") is not None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--duration", type=float, default=10.0, help="seconds of each GET measurement")
    ap.add_argument("--connections", default="8,32,64", help="connection counts, comma-separated")
    ap.add_argument("--mixed-seconds", type=float, default=20.0, help="seconds of the mixed workload (0: skip)")
    ap.add_argument("--mixed-concurrency", type=int, default=32)
    ap.add_argument("--mix", default="pathway,write-heavy",
                    help=f"the mixes to run, comma-separated, of {', '.join(MIXES)} (see MIXES)")
    ap.add_argument("--mixed-rate", type=float, default=TARGETS["mixed_rps"],
                    help="then the first mix again, open loop: requests started at this rate a second whatever the "
                         "answers (Poisson arrivals), for its latency at that load (0: skip)")
    ap.add_argument("--per-kind-seconds", type=float, default=0.0,
                    help="after the mixed workload, run each of its kinds alone this long and print the CPU per "
                         "request of each (0: skip)")
    ap.add_argument("--cpu-by-process", action="store_true",
                    help="with --per-kind-seconds: each kind's CPU per request split by process (service, relay, "
                         "broker, each role's Postgres backends)")
    ap.add_argument("--core-scaling", action="store_true",
                    help="then the first mix closed loop again on all cores and with the deployment and Postgres held "
                         "to one core (the load generator on the others), twice each: does throughput grow with "
                         "cores, or is something other than CPU the limit?")
    ap.add_argument("--gateway-workers", type=int, default=2)
    ap.add_argument("--tool", choices=["wrk", "python"], default=None, help="default: wrk when installed")
    ap.add_argument("--port", type=int, default=None)
    ap.add_argument("--database", default="itp_load")
    ap.add_argument("--data-dir", default=str(ROOT / ".itp-data" / "load"))
    args = ap.parse_args(argv)
    connections = [int(c) for c in args.connections.split(",") if c.strip()]
    tool = args.tool or ("wrk" if ensure_wrk() else "python")

    from itp.distributed import DEFAULT_ADMIN_URL, free_port

    admin_url = os.environ.get("ITP_PG_ADMIN_URL") or DEFAULT_ADMIN_URL
    port = args.port or free_port()
    print(f"make load: {shlex.join([sys.executable, 'bench/load.py', *(argv if argv is not None else sys.argv[1:])])}",
          flush=True)
    speed = machine_speed()
    print(f"  machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at the start "
          "(other work on the machine shares these cores)", flush=True)
    print(f"  machine speed: {speed:.0f} ms for bench/load.py's fixed piece of Python (machine_speed; lower is "
          "faster), a yardstick for comparing runs on different days", flush=True)
    t0 = time.time()
    deployment = start_deployment(port=port, database=args.database, data_dir=Path(args.data_dir),
                                  workers=args.gateway_workers)
    try:
        plan = deployment.plan
        print(f"  deployment: {shlex.join(deployment.command[1:])}  (ready and seeded in {time.time() - t0:.0f} s; "
              f"gateway {plan['gateway']} with {args.gateway_workers} workers, referral {plan['services']['referral']})",
              flush=True)
        tokens = asyncio.run(tokens_for(plan, admin_url))
        import httpx
        page = httpx.get(f"{plan['gateway']}/v1/referrals?limit=1", timeout=30,
                         headers={"Authorization": f"Bearer {tokens['demo-leicestershire']}"}).json()
        rid = page["items"][0]["id"]
        direct_url = f"{plan['services']['referral']}/v1/referrals/{rid}"
        gateway_url = f"{plan['gateway']}/v1/referrals/{rid}"
        print(f"\n  GET a child's referral ({tool}, {args.duration:.0f} s each, rate limit raised for the run):",
              flush=True)
        meter = CpuMeter(deployment.process.pid, postgres_backends(admin_url, plan["database"]))
        measure(tool, direct_url, tokens["direct"], 8, 2)  # warm both paths (connections, caches)
        measure(tool, gateway_url, tokens["demo-leicestershire"], 8, 2)
        time.sleep(2)
        print(f"    (CPU per request: of the deployment's processes and Postgres backends, less their use at rest, "
              f"{meter.measure_rest() * 100:.0f}% of a core: consumers polling the broker)", flush=True)
        if args.cpu_by_process:
            print("      at rest, % of a core: " + ", ".join(
                f"{name} {sec * 100 / 5.0:.1f}" for name, sec in sorted(meter.by_process.items(), key=lambda kv: -kv[1])
                if sec * 100 / 5.0 >= 0.5), flush=True)
        results = {}
        for c in connections:
            direct = measure(tool, direct_url, tokens["direct"], c, args.duration, meter)
            through = measure(tool, gateway_url, tokens["demo-leicestershire"], c, args.duration, meter)
            results[c] = (direct, through)
            ratio = through.rps / direct.rps if direct.rps else 0.0
            print(f"    {c:>3} connections  direct   {direct.line()}", flush=True)
            print(f"    {'':>3}              gateway  {through.line()}   ratio gateway/direct {ratio:.2f}"
                  + (f" (by CPU per request {direct.cpu_ms / through.cpu_ms:.2f})" if through.cpu_ms else ""),
                  flush=True)
        mixed_totals: dict[str, Figures] = {}
        machine_busy: dict[str, float] = {}
        offered: dict[str, tuple[float, Figures, int, float]] = {}
        if args.mixed_seconds > 0:
            mixes = [m.strip() for m in args.mix.split(",") if m.strip()]
            for name in mixes:
                weights = MIXES[name]
                mixed = Mixed(plan["gateway"], tokens)
                mixed.meter = meter
                seconds = asyncio.run(mixed.run(args.mixed_seconds, args.mixed_concurrency, weights))
                total, lines = mixed.report(seconds)
                total.cpu_ms = mixed.cpu_seconds * 1000 / total.requests if total.requests else None
                mixed_totals[name] = total
                machine_busy[name] = meter.machine_busy
                shares = ", ".join(f"{k} {w}" for k, w in weights.items())
                print(f"\n  Mixed workload '{name}' through the gateway ({args.mixed_concurrency} concurrent clients, "
                      f"{seconds:.0f} s; weights {shares}; fee period closed: {mixed.closed}):", flush=True)
                print("\n".join(lines))
                print(f"    {'all':<46} {total.line()}", flush=True)
                print(f"      the machine's {os.cpu_count()} cores {meter.machine_busy * 100:.0f}% busy meanwhile; the load "
                      f"generator (this process) used {meter.load_generator_cores * 100:.0f}% of a core", flush=True)
                if args.cpu_by_process and total.requests:
                    top = sorted(meter.by_process.items(), key=lambda kv: -kv[1])
                    print("      by process (ms/req, before the rest use): " + ", ".join(
                        f"{name} {sec * 1000 / total.requests:.2f}" for name, sec in top
                        if sec * 1000 / total.requests >= 0.05), flush=True)
            if args.mixed_rate > 0 and mixes:
                name = mixes[0]
                paced = Mixed(plan["gateway"], tokens)
                paced.meter = meter
                seconds, late = asyncio.run(paced.run_paced(args.mixed_seconds, args.mixed_rate, MIXES[name]))
                total, lines = paced.report(seconds)
                total.cpu_ms = paced.cpu_seconds * 1000 / total.requests if total.requests else None
                offered[name] = (args.mixed_rate, total, late, meter.machine_busy)
                print(f"\n  Mixed workload '{name}' through the gateway, open loop: requests started at "
                      f"{args.mixed_rate:.0f} a second (Poisson arrivals) whatever the answers, {seconds:.0f} s; "
                      f"starts late for want of a free slot (512 in flight): {late}; fee period closed: "
                      f"{paced.closed}):", flush=True)
                print("\n".join(lines))
                print(f"    {'all':<46} {total.line()}", flush=True)
                print(f"      the machine's {os.cpu_count()} cores {meter.machine_busy * 100:.0f}% busy meanwhile",
                      flush=True)
            if args.per_kind_seconds > 0:
                print(f"\n  Each kind alone ({args.mixed_concurrency} clients, {args.per_kind_seconds:.0f} s each; CPU "
                      "of the deployment per request, the events it caused included):", flush=True)
                for kind in ("read", "list", "rank", "queue", "post", "hub", "move"):
                    n, cpu = asyncio.run(mixed.run_alone(kind, args.per_kind_seconds, args.mixed_concurrency))
                    per = cpu * 1000 / n if n else float("nan")
                    print(f"    {KIND_LABELS[kind]:<34} {n:6d} requests  CPU {per:6.2f} ms/req", flush=True)
                    if n and args.cpu_by_process:
                        top = sorted(meter.by_process.items(), key=lambda kv: -kv[1])
                        print("        " + ", ".join(f"{name} {sec * 1000 / n:.2f}" for name, sec in top
                                                    if sec * 1000 / n >= 0.05) + "  (ms/req, before the rest use)",
                              flush=True)
        scaling: list[tuple[int, Figures]] = []
        if args.core_scaling and args.mixed_seconds > 0 and (os.cpu_count() or 1) > 1:
            name = [m.strip() for m in args.mix.split(",") if m.strip()][0]
            every = len(os.sched_getaffinity(0))
            print(f"\n  Mixed workload '{name}' closed loop, on all {every} cores and with the deployment and every "
                  "Postgres process held to 1 core (taskset's sched_setaffinity; the load generator on the other "
                  "cores), alternately:", flush=True)
            for held in (every, 1, every, 1):
                pinned = Pinned(deployment.process.pid, held) if held < every else None
                try:
                    if pinned is not None:
                        pinned.pin()
                    time.sleep(1)
                    run = Mixed(plan["gateway"], tokens)
                    run.meter = meter
                    seconds = asyncio.run(run.run(args.mixed_seconds, args.mixed_concurrency, MIXES[name]))
                finally:
                    if pinned is not None:
                        pinned.restore()
                total, _ = run.report(seconds)
                total.cpu_ms = run.cpu_seconds * 1000 / total.requests if total.requests else None
                scaling.append((held, total))
                print(f"    {held} core{'s' if held > 1 else ' '}  {total.line()}", flush=True)
        cores = os.cpu_count() or 1
        print("\n  Targets (issue 15):")
        for c, (direct, through) in results.items():
            ratio = through.rps / direct.rps if direct.rps else 0.0
            alone = (f"; by CPU per request {direct.cpu_ms / through.cpu_ms:.2f}, i.e. on these {cores} cores alone "
                     f"about {cores * 1000 / direct.cpu_ms:.0f} vs {cores * 1000 / through.cpu_ms:.0f} req/s"
                     if direct.cpu_ms and through.cpu_ms else "")
            print(f"    {c:>3} connections: ratio {ratio:.2f} (>= {TARGETS['ratio']}){alone}  errors {through.errors} (0)"
                  + (f"  p99 {through.p99_ms:.0f} ms (< {TARGETS['p99_32_ms']:.0f})" if c == 32 else ""))
        if len(results) >= 2:
            lo, hi = min(results), max(results)
            print(f"    gateway throughput at {hi} vs {lo} connections: {results[hi][1].rps:.0f} vs "
                  f"{results[lo][1].rps:.0f} req/s (no lower)")
        for name, total in mixed_totals.items():
            alone = (f"; CPU {total.cpu_ms:.2f} ms/req, i.e. about {cores * 1000 / total.cpu_ms:.0f} req/s "
                     f"on these {cores} cores alone" if total.cpu_ms else "")
            print(f"    mixed '{name}': {total.rps:.0f} req/s (>= {TARGETS['mixed_rps']:.0f}){alone}, p99 "
                  f"{total.p99_ms:.0f} ms, errors {total.errors} (0); the machine {machine_busy[name] * 100:.0f}% busy")
        for name, (rate, total, late, busy) in offered.items():
            print(f"    mixed '{name}' offered {rate:.0f} req/s (open loop): served {total.rps:.0f} req/s, p50 "
                  f"{total.p50_ms:.0f} ms, p99 {total.p99_ms:.0f} ms (< {TARGETS['p99_32_ms']:.0f}), errors "
                  f"{total.errors} (0), {late} late starts; the machine {busy * 100:.0f}% busy")
        if scaling:
            many = [f for n, f in scaling if n > 1]
            one = [f for n, f in scaling if n == 1]
            rps_many, rps_one = (sum(f.rps for f in fs) / len(fs) for fs in (many, one))
            held = max(n for n, _ in scaling)
            print(f"    core scaling: {rps_many:.0f} req/s on {held} cores, {rps_one:.0f} on 1: {rps_many / rps_one:.2f}x "
                  f"(CPU {sum(f.cpu_ms or 0 for f in many) / len(many):.2f} vs {sum(f.cpu_ms or 0 for f in one) / len(one):.2f} "
                  f"ms/req); a ratio near {held} says the limit is CPU and the deployment grows with cores")
        print(f"  load average at the end: {os.getloadavg()[0]:.2f}; machine speed {machine_speed():.0f} ms "
              f"(at the start {speed:.0f})")
    finally:
        deployment.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
