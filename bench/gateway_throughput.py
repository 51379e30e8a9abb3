"""What a short chat completion costs through Studio's /v1/, against the provider straight
and against the LiteLLM proxy as a peer gateway, measured in one run.

    .venv/bin/python bench/gateway_throughput.py [--store duckdb|postgres] [--requests 300]
        [--seconds 8] [--clients 16] [--skip-peer]

Three targets answer the same request (``openai/gpt-4o-mini``, one short user message,
``max_tokens`` 16), whole and streamed:

- the offline OpenRouter double straight (openrouter/fake, in a process of its own, no
  pause between stream pieces): the floor every gateway stands on;
- the LiteLLM proxy (PEER_VERSION, installed by this script into its own virtualenv under
  ``var/bench/litellm-venv``, never into the project's; one worker, no database, the double
  as its upstream). If it cannot be installed or started, the rest still runs and says so;
- Studio's ``POST /v1/chat/completions`` with a personal API key, the web server started
  with the Procfile's ``web:`` line (what ``make run`` runs) through tests/support/stack.py:
  on ``--store duckdb`` one web process on a fresh DuckDB file; on ``--store postgres`` two
  web processes on a fresh PostgreSQL database (``--postgres-url``) with Celery's broker and
  the cache on Redis (``--redis-url``).

For each target and mode: ``--requests`` sequential requests on one keep-alive connection
(latency p50/p95; a gateway's overhead is its latency less the double's), then
``--clients`` concurrent keep-alive clients for ``--seconds`` (throughput, latency p50).
The load generator is a minimal HTTP/1.1 client on asyncio (no parsing beyond framing),
so that on a small machine it takes as little CPU from the servers as it can. Every
answer is checked (status 200; a stream ends with ``data: [DONE]``); after the run every
Studio request must have a completed history row, or the run says how many are missing.

Also the CPU time (user + system, from /proc) each server's processes spent per answered
request in the concurrent phase: steadier than the wall clock on a shared machine. Beside
it, what every process of the run spent per answered request (the server, the double
behind it, this load generator) and so the most requests a second the machine's cores
could answer at that cost, whatever the server did with its time.
Prints one table and Studio's ratios to the peer. Absolute figures on a shared machine
are noisy: compare figures of the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.stack import ROOT, Stack, free_port, percentile  # noqa: E402

PEER_VERSION = "1.106.12"
PY_SPY_VERSION = "0.4.1"
PEER_VENV = ROOT / "var" / "bench" / "litellm-venv"
MODEL = "openai/gpt-4o-mini"
WARM_UP = 20
USERS = 8  # GENERATION_MAX_IN_FLIGHT (4) per user: 16 clients spread over 8 users' keys


def request_body(stream: bool) -> bytes:
    body = {
        "model": MODEL,
        "messages": [{"role": "user", "content": "Say hello in a few words."}],
        "max_tokens": 16,
    }
    if stream:
        body["stream"] = True
    return json.dumps(body).encode()


# ------------------------------------------------------------------ a lean HTTP/1.1 client


class Connection:
    """One keep-alive HTTP/1.1 connection: POST a body, read the whole answer (by
    Content-Length or chunked framing). Raises on anything but a 200."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> bytes:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        head = [f"POST {path} HTTP/1.1", f"Host: {self.host}:{self.port}", f"Content-Length: {len(body)}"]
        head += [f"{name}: {value}" for name, value in headers.items()]
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        try:
            return await self._answer()
        except BaseException:
            self.close()
            raise

    async def _answer(self) -> bytes:
        assert self.reader is not None
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("connection closed")
        status = int(status_line.split()[1])
        length, chunked, closing = None, False, False
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            name, value = name.strip().lower(), value.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding" and "chunked" in value:
                chunked = True
            elif name == "connection" and value == "close":
                closing = True
        if chunked:
            parts = []
            while True:
                size = int((await self.reader.readline()).split(b";")[0], 16)
                if size == 0:
                    while (await self.reader.readline()) not in (b"\r\n", b""):
                        pass
                    break
                parts.append(await self.reader.readexactly(size))
                await self.reader.readexactly(2)
            payload = b"".join(parts)
        elif length is not None:
            payload = await self.reader.readexactly(length)
        else:
            payload = await self.reader.read()
            closing = True
        if closing:
            self.close()
        if status != 200:
            raise RuntimeError(f"HTTP {status}: {payload[:300]!r}")
        return payload

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


@dataclass
class Target:
    name: str
    url: str  # the chat completions URL
    keys: list[str] = field(default_factory=lambda: [""])
    pid: int | None = None  # the server's process (its children counted too): CPU time per request

    def headers(self, client: int) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if self.keys[client % len(self.keys)]:
            headers["Authorization"] = f"Bearer {self.keys[client % len(self.keys)]}"
        return headers


@dataclass
class Figures:
    sequential: list[float] = field(default_factory=list)
    loaded: list[float] = field(default_factory=list)
    completed: int = 0
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0
    cpu_seconds: float | None = None  # the server's CPU time (user + system) in the concurrent phase
    upstream_cpu_seconds: float = 0.0  # the double's, when it serves a gateway's upstream calls
    client_cpu_seconds: float = 0.0  # this process's: the load generator

    @property
    def cpu_per_request(self) -> float | None:
        return self.cpu_seconds / self.completed if self.cpu_seconds is not None and self.completed else None

    @property
    def machine_cpu_per_request(self) -> float | None:
        """The CPU every process of the run spent per answered request (the server, the
        double behind it, the load generator): what bounds throughput on this machine."""
        if self.cpu_per_request is None:
            return None
        return self.cpu_per_request + (self.upstream_cpu_seconds + self.client_cpu_seconds) / self.completed

    @property
    def throughput(self) -> float:
        return self.completed / self.seconds if self.seconds else 0.0


def check(payload: bytes, stream: bool) -> None:
    if stream:
        if not payload.rstrip().endswith(b"data: [DONE]"):
            raise RuntimeError(f"stream without [DONE]: {payload[-200:]!r}")
    elif b'"choices"' not in payload:
        raise RuntimeError(f"no choices: {payload[:200]!r}")


async def measure(
    target: Target, *, stream: bool, requests: int, seconds: float, clients: int, profile=None, upstream=None
) -> Figures:
    """``upstream``: the double's process id when ``target`` is a gateway in front of it."""
    parts = urlsplit(target.url)
    host, port, path = parts.hostname or "127.0.0.1", parts.port or 80, parts.path
    body = request_body(stream)
    figures = Figures()

    connection = Connection(host, port)
    for _ in range(WARM_UP):  # imports, pools, caches
        check(await connection.post(path, body, target.headers(0)), stream)
    for _ in range(requests):
        started = time.perf_counter()
        try:
            check(await connection.post(path, body, target.headers(0)), stream)
            figures.sequential.append(time.perf_counter() - started)
        except Exception as exc:  # noqa: BLE001 - every failure is counted
            figures.failures.append(str(exc)[:200])
    connection.close()

    ends = time.perf_counter() + seconds

    async def client(index: int) -> None:
        own = Connection(host, port)
        while time.perf_counter() < ends:
            started = time.perf_counter()
            try:
                check(await own.post(path, body, target.headers(index)), stream)
                figures.loaded.append(time.perf_counter() - started)
                figures.completed += 1
            except Exception as exc:  # noqa: BLE001
                figures.failures.append(str(exc)[:200])
                await asyncio.sleep(0.05)
        own.close()

    profiler = profile(seconds) if profile else None
    cpu_before = tree_cpu_seconds(target.pid) if target.pid else None
    upstream_before = tree_cpu_seconds(upstream) if upstream else 0.0
    client_before = time.process_time()
    started = time.perf_counter()
    await asyncio.gather(*(client(index) for index in range(clients)))
    figures.seconds = time.perf_counter() - started
    figures.client_cpu_seconds = time.process_time() - client_before
    if upstream:
        figures.upstream_cpu_seconds = tree_cpu_seconds(upstream) - upstream_before
    if cpu_before is not None and target.pid:
        figures.cpu_seconds = tree_cpu_seconds(target.pid) - cpu_before
    if profiler is not None:
        profiler.wait(timeout=120)
    return figures


# ------------------------------------------------------------------ the processes

TICKS = os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(root: int) -> float:
    """CPU time (user + system) of a process and its descendants so far: on a shared
    machine a steadier measure of what a request costs than the wall clock."""
    children: dict[int, list[int]] = {}
    times: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
        times[int(entry)] = (int(fields[11]) + int(fields[12])) / TICKS
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += times.get(pid, 0.0)
        todo.extend(children.get(pid, ()))
    return total


def serve_double(port: int) -> None:
    """``--serve-double PORT``: the double in this process until SIGTERM."""
    import signal

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from openrouter.fake import FakeOpenRouter

    fake = FakeOpenRouter(port=port, api_key_required=False, stream_delay=0.0)
    fake.start()
    print(f"OPENROUTER_BASE_URL={fake.base_url}", flush=True)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    fake.stop()


class Process:
    """A child process with its output in a log file; ``ready`` waits for a line or a URL."""

    def __init__(self, name: str, args: list[str], log_dir: Path, env: dict | None = None) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            args, cwd=ROOT, env=env or os.environ, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]

    def wait_for(self, ready, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited:\n{self.log()}")
            if ready():
                return
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} not ready within {timeout} s:\n{self.log()}")

    def close(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait(timeout=20)
        self._log.close()


class Double:
    def __init__(self, log_dir: Path) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/api/v1"
        env = {**os.environ, "DATA_DIR": str(log_dir), "PYTHONUNBUFFERED": "1"}
        env.setdefault("SECRET_KEY", "double-" + uuid.uuid4().hex * 2)
        self.process = Process("double", [sys.executable, __file__, "--serve-double", str(self.port)], log_dir, env)
        self.process.wait_for(lambda: "OPENROUTER_BASE_URL=" in self.process.log())


def peer_python() -> Path:
    """The peer's virtualenv, made and filled on first use (pinned PEER_VERSION)."""
    python = PEER_VENV / "bin" / "python"
    marker = PEER_VENV / f".litellm-{PEER_VERSION}"
    if marker.exists():
        return python
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", f"litellm[proxy]=={PEER_VERSION}"],
        check=True,
        timeout=1800,
    )
    marker.touch()
    return python


def start_peer(double: Double, log_dir: Path) -> tuple[Process, str, str]:
    """The proxy on a free port: its process, chat completions URL and master key (it
    authenticates requests with it, in memory: it has no database here)."""
    python = peer_python()
    master_key = "sk-bench-" + uuid.uuid4().hex
    config = log_dir / "litellm.yaml"
    config.write_text(
        json.dumps(  # JSON is YAML
            {
                "model_list": [
                    {
                        "model_name": MODEL,
                        "litellm_params": {"model": f"openai/{MODEL}", "api_base": double.base_url, "api_key": "x"},
                    }
                ],
                "litellm_settings": {"telemetry": False, "set_verbose": False},
                "general_settings": {"master_key": master_key},
            }
        )
    )
    port = free_port()
    env = {**os.environ, "LITELLM_LOG": "ERROR", "LITELLM_TELEMETRY": "False", "NO_DOCS": "True"}
    for name in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"):
        env.pop(name, None)
    litellm = python.parent / "litellm"
    process = Process(
        "litellm",
        [str(litellm), "--config", str(config), "--host", "127.0.0.1", "--port", str(port), "--num_workers", "1"],
        log_dir,
        env,
    )
    url = f"http://127.0.0.1:{port}/v1/chat/completions"

    def answers() -> bool:
        import requests

        try:
            return requests.get(f"http://127.0.0.1:{port}/health/liveliness", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    process.wait_for(answers, timeout=180)
    return process, url, master_key


def py_spy(pid: int, folder: Path, name: str, seconds: float) -> subprocess.Popen:
    """py-spy (from the peer's virtualenv, installed there on first use) recording the web
    process and its children: ``gil`` samples only threads holding the GIL (CPU in
    Python), ``wall`` every thread, idle or not. A flame graph (SVG) and collapsed stacks."""
    python = PEER_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
    binary = PEER_VENV / "bin" / "py-spy"
    if not binary.exists():
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", f"py-spy=={PY_SPY_VERSION}"], check=True)
    folder.mkdir(parents=True, exist_ok=True)
    kind = name.rsplit("-", 1)[1]
    flags = ["--gil"] if kind == "gil" else ["--idle"]
    common = [str(binary), "record", "--pid", str(pid), "--subprocesses", "--rate", "200", "--nonblocking"]
    common += ["--duration", str(max(1, int(seconds) - 1)), *flags]
    return subprocess.Popen(
        [*common, "--format", "raw", "--output", str(folder / f"{name}.txt")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def studio_keys(stack: Stack) -> list[str]:
    script = "; ".join(
        [
            "import json",
            "from accounts.models import User",
            "from accounts.api_keys import api_key_create",
            f"users = [User.objects.create_user(f'bench{{i}}@example.com', 'x-' * 8) for i in range({USERS})]",
            "print('KEYS=' + json.dumps([api_key_create(user=u, name='bench').secret for u in users]))",
        ]
    )
    output = stack.manage("shell", "-c", script).stdout
    return json.loads(output.split("KEYS=", 1)[1].splitlines()[0])


def studio_rows(stack: Stack) -> dict:
    script = (
        "import json; from generation.models import Generation; from django.db.models import Count; "
        "print('ROWS=' + json.dumps({r['status']: r['n'] for r in "
        "Generation.objects.values('status').annotate(n=Count('id'))}))"
    )
    output = stack.manage("shell", "-c", script).stdout
    return json.loads(output.split("ROWS=", 1)[1].splitlines()[0])


# ------------------------------------------------------------------ the run


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", choices=["duckdb", "postgres"], default="duckdb")
    parser.add_argument(
        "--postgres-url", default=os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    )
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/6"))
    parser.add_argument("--requests", type=int, default=300, help="sequential requests per target and mode")
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each concurrent phase")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--skip-peer", action="store_true", help="do not install or run the LiteLLM proxy")
    parser.add_argument("--keep", action="store_true", help="keep the run's folder (logs) and print it")
    parser.add_argument(
        "--profile",
        type=Path,
        help="record py-spy flame graphs (GIL-holding and wall) of Studio's web processes under load into this folder",
    )
    parser.add_argument("--serve-double", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_double is not None:
        serve_double(args.serve_double)
        return

    work = Path(tempfile.mkdtemp(prefix="gateway-bench-", dir=ROOT / "var" if (ROOT / "var").is_dir() else None))
    processes: list[Process] = []
    stack = None
    results: dict[tuple[str, str], Figures] = {}
    notes: list[str] = []
    try:
        double = Double(work)
        processes.append(double.process)
        targets = [Target("double", f"{double.base_url}/chat/completions", pid=double.process.process.pid)]

        if args.skip_peer:
            notes.append("LiteLLM proxy: skipped (--skip-peer)")
        else:
            try:
                peer, peer_url, peer_key = start_peer(double, work)
                processes.append(peer)
                targets.append(Target(f"litellm {PEER_VERSION}", peer_url, [peer_key], pid=peer.process.pid))
            except Exception as exc:  # noqa: BLE001 - the rest of the run still counts
                notes.append(f"LiteLLM proxy: not measured ({str(exc).strip().splitlines()[0][:200]})")

        store_env = None
        env: dict[str, str] = {"THROTTLE_GENERATION": "1000000/min"}
        web_processes = 1
        if args.store == "postgres":
            os.environ["DATABASE_URL"] = args.postgres_url  # fresh_store makes a database beside it
            env.update(CELERY_BROKER_URL=args.redis_url, CACHE_URL=args.redis_url)
            web_processes = 2
        stack = Stack(work / "studio", fake=double, store_env=store_env, env=env, web_concurrency=web_processes)
        stack.prepare()
        keys = studio_keys(stack)
        stack.start_web_only()
        targets.append(Target("studio", stack.url("/v1/chat/completions"), keys, pid=stack.processes["web"].pid))

        rounds = {"whole": 0, "stream": 0}

        def profile(mode: str):
            if args.profile is None:
                return None

            kind = ("gil", "wall")[min(rounds[mode], 1)]
            rounds[mode] += 1

            def start(seconds: float) -> subprocess.Popen:
                return py_spy(stack.processes["web"].pid, args.profile, f"{mode}-{kind}", seconds)

            return start

        studio_answered = 0

        async def studio_round(**options) -> Figures:
            nonlocal studio_answered
            figures = await measure(targets[-1], **options)
            studio_answered += WARM_UP + len(figures.sequential) + figures.completed
            return figures

        async def run_all() -> None:
            for stream in (False, True):
                for target in targets:
                    mode = "stream" if stream else "whole"
                    run = studio_round if target.name == "studio" else functools.partial(measure, target)
                    results[(target.name, mode)] = await run(
                        stream=stream,
                        requests=args.requests,
                        seconds=args.seconds,
                        clients=args.clients,
                        profile=profile(mode) if target.name == "studio" else None,
                        upstream=None if target.name == "double" else targets[0].pid,
                    )
            if args.profile is not None:  # a second round of Studio alone, for the other kind of profile
                for stream in (False, True):
                    mode = "stream" if stream else "whole"
                    await studio_round(
                        stream=stream,
                        requests=0,
                        seconds=args.seconds,
                        clients=args.clients,
                        profile=profile(mode),
                    )

        asyncio.run(run_all())

        stack.stop("web")
        rows = studio_rows(stack)
        sent = studio_answered
        completed = rows.get("completed", 0)
        notes.append(
            f"Studio history rows: {completed} completed of {sent} answered requests"
            + ("" if completed == sent else f" (MISSING {sent - completed}); by status {rows}")
        )
    finally:
        if stack is not None:
            stack.close()
        for process in reversed(processes):
            process.close()

    print(
        f"\nstore: {args.store}, Studio web processes: {web_processes}, {args.requests} sequential requests, "
        f"{args.clients} clients x {args.seconds:g} s; model {MODEL}, max_tokens 16"
    )
    print(
        f"{'target':<18} {'mode':<7} {'p50 ms':>7} {'p95 ms':>7} {'overhead p50':>13} {'req/s @':>8} {'p50 @':>7} "
        f"{'CPU ms/req':>10} {'fail':>5}"
    )
    floor = {mode: percentile(results[("double", mode)].sequential, 0.5) for mode in ("whole", "stream")}
    for (name, mode), figures in results.items():
        p50, p95 = percentile(figures.sequential, 0.5), percentile(figures.sequential, 0.95)
        overhead_text = "—" if name == "double" else ms(p50 - floor[mode])
        print(
            f"{name:<18} {mode:<7} {ms(p50):>7} {ms(p95):>7} {overhead_text:>13} {figures.throughput:>8.0f} "
            f"{ms(percentile(figures.loaded, 0.5)):>7} "
            f"{ms(figures.cpu_per_request) if figures.cpu_per_request is not None else '—':>10} {len(figures.failures):>5}"
        )
    peer_name = next((name for name, _ in results if name.startswith("litellm")), None)
    for mode in ("whole", "stream"):
        studio = results[("studio", mode)]
        overhead = percentile(studio.sequential, 0.5) - floor[mode]
        cpu = studio.cpu_per_request
        line = f"studio {mode}: overhead p50 {ms(overhead)} ms, {studio.throughput:.0f} req/s"
        line += f", {ms(cpu)} ms CPU/request" if cpu is not None else ""
        if peer_name:
            other = results[(peer_name, mode)]
            other_overhead = percentile(other.sequential, 0.5) - floor[mode]
            line += (
                f"; against the peer: overhead x{overhead / other_overhead:.2f}, "
                f"throughput x{studio.throughput / other.throughput:.2f}"
            )
            if cpu is not None and other.cpu_per_request:
                line += f", CPU per request x{cpu / other.cpu_per_request:.2f}"
        print(line)
    print(
        f"machine CPU per answered request (the server + the double behind it + the load generator), "
        f"and the most {os.cpu_count()} cores could answer at that cost:"
    )
    for (name, mode), figures in results.items():
        total, server = figures.machine_cpu_per_request, figures.cpu_per_request
        if total is None or server is None:  # no server CPU measured, or nothing answered
            continue
        print(
            f"  {name} {mode}: {ms(total)} ms = {ms(server)} + {ms(figures.upstream_cpu_seconds / figures.completed)} "
            f"+ {ms(figures.client_cpu_seconds / figures.completed)} -> at most {(os.cpu_count() or 1) / total:.0f} req/s"
        )
    for (name, mode), figures in results.items():
        if figures.failures:
            print(f"{name} {mode}: first failure: {figures.failures[0]}")
    for note in notes:
        print(note)
    if args.keep:
        print(f"run folder: {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
