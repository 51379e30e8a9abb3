"""How many streamed text generations one web process holds in flight, as users load it.

    .venv/bin/python bench/concurrent_generations.py [--streams 500] [--pieces 20] [--interval 0.5]
        [--users N] [--prober-interval 0.2]

The web server is started with the command of the Procfile's ``web:`` line (whatever
``make run`` runs: uvicorn serving core.asgi), through
``tests/support/stack.py``'s Stack, web process only, on a fresh store: a DuckDB file
by default (one web process), or, when DATABASE_URL is postgres (with CELERY_BROKER_URL
and CACHE_URL on Redis), a new PostgreSQL database and WEB_CONCURRENCY web processes
(default 2). The offline OpenRouter double runs in a process of its own
(``manage.py run_fake_openrouter``), so this process's GIL does not slow the provider's
pace; its ``fake/long-stream`` model sends ``--pieces`` pieces ``--interval`` seconds
apart, and the catalogue gets the entry ``fake/long-stream:pieces=P:interval=S``.

Users: ``--users`` (default streams / 4, as GENERATION_MAX_IN_FLIGHT allows 4 streams per
user at once) are created in one ``manage.py shell`` script, which also mints each user's
JWT access token with ``accounts.tokens.access_token_for`` (what login hands out), rather
than logging 125 users in through POST /api/auth/login with Argon2 on a 2-core machine.
THROTTLE_GENERATION is raised for the run.

Phase 1: one stream alone; its duration is the ideal. Phase 1b: the same burst sent
straight to the double, nothing in front (its first pieces are the provider side's own
share of phase 2's; printed beside phase 2's, and the difference). Phase 2: all streams at once, each
``POST /api/generate/text`` with ``"stream": true``, read as server-sent events to the end
(a stream counts as completed only with its ``done`` event), from one asyncio loop
over one aiohttp session (its C parser makes it the cheapest client at hand: httpx took
three times its CPU for the same burst), counting events from the raw bytes; meanwhile a prober,
in a process of its own (so that its timings are the server's, not the stream client's
busy loop), asks for ``/login`` and ``/healthz`` every ``--prober-interval`` seconds
each, and the resident memory (VmRSS) and CPU time of the web process and its children
are sampled every 0.2 s. The load generator shares the machine's cores with the server and the
double: it is written to use as little of them as it can.

Prints completed/failed streams (and the first error reasons), wall time against the
ideal, time to the first piece, the web processes' CPU until the last stream's first
piece (per stream opened: on one core, the last first piece can come no sooner than
streams x that) and beside it the double's and the load generator's (with all the
machine's cores busy, the burst opens no faster than what the three spend per stream),
probe latencies, RSS growth per stream in flight, and a "goal met/not met" line per goal. The exit code is 0 whether goals are met or not.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import multiprocessing
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.gateway_throughput import py_spy  # noqa: E402
from tests.support.stack import ROOT, Stack, free_port, percentile  # noqa: E402

BASE_MODEL = "fake/long-stream"
PASSWORD = "correct-horse-battery-staple"
PROBED = ("/login", "/healthz")


class FakeOpenRouterProcess:
    """``manage.py run_fake_openrouter`` in a process of its own; quacks like the
    in-process double as far as Stack needs (``base_url``)."""

    def __init__(self, data_dir: Path, *, pieces: int, interval: float) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/api/v1"
        data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = data_dir / "fake-openrouter.log"
        env = {
            **os.environ,
            "DATA_DIR": str(data_dir),
            "SECRET_KEY": "fake-" + uuid.uuid4().hex * 2,
            "DATABASE_URL": f"duckdb:///{data_dir / 'unused.duckdb'}",
            "DEBUG": "false",
            "FAKE_OPENROUTER_STREAM_PIECES": str(pieces),
            "FAKE_OPENROUTER_STREAM_INTERVAL": str(interval),
            "PYTHONUNBUFFERED": "1",
        }
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "run_fake_openrouter", "--port", str(self.port), "--quiet"],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"fake OpenRouter exited:\n{self.log_path.read_text(errors='replace')}")
            if "OPENROUTER_BASE_URL=" in self.log_path.read_text(errors="replace"):
                return
            time.sleep(0.1)
        raise RuntimeError(f"fake OpenRouter not ready:\n{self.log_path.read_text(errors='replace')}")

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)
        self._log.close()

    def __enter__(self) -> FakeOpenRouterProcess:
        self.wait_ready()
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# ------------------------------------------------------------------ memory


def _process_tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, ()))
    return tree


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def tree_rss_kib_and_cpu(root: int) -> tuple[int, float]:
    """Resident memory (KiB) and CPU seconds (user + system) of a process and its children."""
    rss, ticks = 0, 0
    for pid in _process_tree(root):
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        rss += int(line.split()[1])
                        break
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])
    return rss, ticks / CLOCK_TICKS


def own_rss_kib_and_cpu() -> tuple[int, float]:
    """This process's CPU seconds, its children left out, in tree_rss_kib_and_cpu's shape
    (its resident memory is not read: 0)."""
    times = os.times()
    return 0, times.user + times.system


class TreeSampler(threading.Thread):
    """Samples the web process tree's resident memory and CPU time every ``every`` seconds
    (``pid`` None: this process alone, the load generator)."""

    def __init__(self, pid: int | None, every: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.pid, self.every = pid, every
        self.samples: list[tuple[float, int, float]] = []
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            reading = own_rss_kib_and_cpu() if self.pid is None else tree_rss_kib_and_cpu(self.pid)
            self.samples.append((time.monotonic(), *reading))
            self._halt.wait(self.every)

    def stop(self) -> None:
        self._halt.set()
        self.join()

    def between(self, start: float, end: float) -> list[int]:
        """Resident memory samples (KiB) taken between two instants."""
        return [rss for t, rss, _ in self.samples if start <= t <= end]

    def cpu_between(self, start: float, end: float) -> tuple[float, float]:
        """(CPU seconds, wall seconds) between the samples nearest to two instants."""
        first = min(self.samples, key=lambda sample: abs(sample[0] - start))
        last = min(self.samples, key=lambda sample: abs(sample[0] - end))
        return last[2] - first[2], last[0] - first[0]


# ------------------------------------------------------------------ streams and probes


class StreamResult:
    __slots__ = ("done", "error", "first_piece", "duration", "pieces", "started")

    def __init__(self) -> None:
        self.done = False
        self.error: str | None = None
        self.first_piece: float | None = None
        self.duration = 0.0
        self.pieces = 0
        self.started = 0.0


def read_event(result: StreamResult, block: bytes, started: float) -> None:
    """One server-sent event (its lines, without the blank line that ended it)."""
    event, data = None, []
    for line in block.split(b"\n"):
        if line.startswith(b"event:"):
            event = line[6:].strip().decode()
        elif line.startswith(b"data:"):
            data.append(line[5:].strip())
    if event is None and not data:
        return  # a comment (keep-alive)
    if event == "done":
        result.done = True
    elif event == "error":
        result.error = "error event: " + b"\n".join(data).decode(errors="replace")[:200]
    elif event is None:
        result.pieces += 1
        if result.first_piece is None:
            result.first_piece = time.monotonic() - started


async def event_blocks(response: aiohttp.ClientResponse) -> AsyncIterator[bytes]:
    """A response's server-sent events, split on the blank line that ends each, from the
    raw bytes: the load generator shares the machine's cores with the server, so it reads
    as cheaply as it can (no line iterator, no decoding of the pieces)."""
    buffer = b""
    async for chunk in response.content.iter_any():
        buffer += chunk
        *blocks, buffer = buffer.split(b"\n\n")
        for block in blocks:
            yield block


async def one_stream(session: aiohttp.ClientSession, url: str, token: str, model: str, prompt: str) -> StreamResult:
    result = StreamResult()
    started = result.started = time.monotonic()
    try:
        async with session.post(
            url,
            json={"model": model, "prompt": prompt, "stream": True},
            headers={"Authorization": f"Bearer {token}", "Accept": "text/event-stream"},
        ) as response:
            if response.status != 200:
                body = (await response.read()).decode(errors="replace")
                result.error = f"HTTP {response.status}: {body[:200]}"
                return result
            async for block in event_blocks(response):
                read_event(result, block, started)
            if not result.done and result.error is None:
                result.error = f"stream ended without done after {result.pieces} pieces"
    except Exception as exc:  # noqa: BLE001 - every failure is a result
        result.error = f"{type(exc).__name__}: {exc}"[:200]
    finally:
        result.duration = time.monotonic() - started
    return result


async def probe(
    client: httpx.AsyncClient, url: str, every: float, stop: asyncio.Event, latencies: list[float], failures: Counter
) -> None:
    while not stop.is_set():
        started = time.monotonic()
        try:
            response = await client.get(url)
            if response.status_code != 200:
                failures[f"HTTP {response.status_code}"] += 1
        except Exception as exc:  # noqa: BLE001
            failures[type(exc).__name__] += 1
        latencies.append(time.monotonic() - started)
        try:
            await asyncio.wait_for(stop.wait(), every)
        except TimeoutError:
            pass


def probe_process(urls: list[str], every: float, timeout: float, ready, stop, results) -> None:
    """The prober, in a process of its own: its timings are the server's answer times,
    not the wait for the stream client's busy event loop."""

    async def run():
        latencies = {url: [] for url in urls}
        failures = {url: Counter() for url in urls}
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.run_in_executor(None, lambda: (stop.wait(), loop.call_soon_threadsafe(stopping.set)))
        async with httpx.AsyncClient(timeout=httpx.Timeout(timeout)) as client:
            ready.set()
            await asyncio.gather(*(probe(client, url, every, stopping, latencies[url], failures[url]) for url in urls))
        results.put((latencies, {url: dict(counter) for url, counter in failures.items()}))

    asyncio.run(run())


def stream_session(timeout: float) -> aiohttp.ClientSession:
    """The load generator's client: one connection per stream, no pool limit."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0),
        timeout=aiohttp.ClientTimeout(total=None, sock_connect=timeout, sock_read=timeout),
    )


async def run_streams(
    stack: Stack,
    tokens: list[str],
    model: str,
    streams: int,
    *,
    prober_interval: float,
    timeout: float,
    probes: bool,
):
    latencies: dict[str, list[float]] = {path: [] for path in PROBED}
    probe_failures: dict[str, Counter[str]] = {path: Counter() for path in PROBED}
    context = multiprocessing.get_context("spawn")
    ready, stop, queue = context.Event(), context.Event(), context.Queue()
    prober = None
    if probes:
        prober = context.Process(
            target=probe_process,
            daemon=True,
            args=([stack.url(path) for path in PROBED], prober_interval, timeout, ready, stop, queue),
        )
        prober.start()
        await asyncio.to_thread(ready.wait, 60)
    session = stream_session(timeout)
    try:
        started = time.monotonic()
        results = await asyncio.gather(
            *(
                one_stream(
                    session,
                    stack.url("/api/generate/text"),
                    tokens[i % len(tokens)],
                    model,
                    f"stream {i}: tell me a long story",
                )
                for i in range(streams)
            )
        )
        ended = time.monotonic()
    finally:
        stop.set()
        await session.close()
    if prober is not None:
        measured, failures = await asyncio.to_thread(queue.get, True, 120)
        await asyncio.to_thread(prober.join, 30)
        for path in PROBED:
            latencies[path] = measured[stack.url(path)]
            probe_failures[path] = Counter(failures[stack.url(path)])
    return results, started, ended, latencies, probe_failures


async def one_straight_stream(session: aiohttp.ClientSession, url: str, model: str, prompt: str) -> StreamResult:
    """One stream asked of the double itself, in OpenAI's chunk format, read as one_stream reads."""
    result = StreamResult()
    started = result.started = time.monotonic()
    try:
        async with session.post(
            url,
            json={"model": model, "messages": [{"role": "user", "content": prompt}], "stream": True},
            headers={"Authorization": "Bearer straight"},
        ) as response:
            async for block in event_blocks(response):
                if block.startswith(b"data: [DONE]"):
                    result.done = True
                elif b'"content"' in block:
                    result.pieces += 1
                    if result.first_piece is None:
                        result.first_piece = time.monotonic() - started
    except Exception as exc:  # noqa: BLE001 - every failure is a result
        result.error = f"{type(exc).__name__}: {exc}"[:200]
    finally:
        result.duration = time.monotonic() - started
    return result


async def straight_to_the_double(fake: FakeOpenRouterProcess, model: str, streams: int, *, timeout: float):
    """The same burst sent to the double with nothing in front: what the provider side
    alone costs the first piece (the double serves each stream on a thread of its own)."""
    async with stream_session(timeout) as session:
        return await asyncio.gather(
            *(
                one_straight_stream(session, f"{fake.base_url}/chat/completions", model, f"stream {i}: a long story")
                for i in range(streams)
            )
        )


# ------------------------------------------------------------------ set-up


def make_users(stack: Stack, count: int) -> list[str]:
    """Create ``count`` users in one script and return an access token for each."""
    script = "\n".join(
        [
            "import json",
            "from django.contrib.auth.hashers import make_password",
            "from accounts.models import User",
            "from accounts.tokens import access_token_for",
            f"hashed = make_password({PASSWORD!r})",
            f"emails = [f'load{{i}}@example.com' for i in range({count})]",
            "User.objects.bulk_create([User(email=e, password=hashed, role=User.Role.USER) for e in emails])",
            "users = {u.email: u for u in User.objects.filter(email__in=emails)}",
            "print('TOKENS=' + json.dumps([str(access_token_for(user=users[e])) for e in emails]))",
        ]
    )
    output = stack.manage("shell", "-c", script).stdout
    line = next(line for line in output.splitlines() if line.startswith("TOKENS="))
    return json.loads(line[len("TOKENS=") :])


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def goal(name: str, met: bool, detail: str) -> None:
    print(f"goal {'met' if met else 'not met'}: {name} ({detail})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", type=int, default=500, help="concurrent streamed generations")
    parser.add_argument("--pieces", type=int, default=20, help="pieces per stream")
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between pieces")
    parser.add_argument("--users", type=int, default=None, help="users the streams are spread over (default streams/4)")
    parser.add_argument("--prober-interval", type=float, default=0.2, help="seconds between probes of each URL")
    parser.add_argument("--timeout", type=float, default=1800, help="client timeouts, seconds")
    parser.add_argument(
        "--profile",
        type=Path,
        help="record py-spy (GIL-holding samples) of the web processes while the burst opens, into this folder",
    )
    parser.add_argument(
        "--profile-seconds", type=float, default=5.0, help="how long --profile records from the burst's start"
    )
    args = parser.parse_args()

    users = args.users or max(1, math.ceil(args.streams / 4))
    per_user = math.ceil(args.streams / users)
    model = f"{BASE_MODEL}:pieces={args.pieces}:interval={args.interval:g}"
    postgres = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))
    web_concurrency = int(os.environ.get("WEB_CONCURRENCY") or 2) if postgres else 1

    with tempfile.TemporaryDirectory(prefix="concurrent-generations-") as tmp:
        data_dir = Path(tmp)
        with (
            FakeOpenRouterProcess(data_dir / "fake", pieces=args.pieces, interval=args.interval) as fake,
            Stack(
                data_dir / "stack",
                fake=fake,
                web_concurrency=web_concurrency,
                env={
                    "GENERATION_MAX_IN_FLIGHT": str(max(4, per_user)),
                    "THROTTLE_GENERATION": "10000000/min",
                    "JWT_ACCESS_MINUTES": "600",
                    "OPENROUTER_READ_TIMEOUT": "120",
                    "LOG_LEVEL": "WARNING",
                },
            ) as stack,
        ):
            setup_started = time.monotonic()
            stack.prepare(extra_models={model: BASE_MODEL})
            tokens = make_users(stack, users)
            stack.start_web_only()
            web_pid = stack.processes["web"].pid
            print(f"web: {' '.join(stack.web_command())}")
            print(
                f"store: {'PostgreSQL' if postgres else 'DuckDB'}, {web_concurrency} web process(es); "
                f"provider double in its own process; {users} users (tokens minted in a shell script), "
                f"up to {per_user} streams each; model {model}; set-up {time.monotonic() - setup_started:.1f} s"
            )

            sampler = TreeSampler(web_pid)
            sampler.start()
            # The double's and the load generator's CPU over the same instants: on a small
            # machine the three share its cores while the streams open.
            others = {"double": TreeSampler(fake.process.pid), "load generator": TreeSampler(None)}
            for other in others.values():
                other.start()
            # Warm up the pages, then the ideal: one stream alone.
            for path in PROBED:
                httpx.get(stack.url(path), timeout=60)
            (alone,), *_ = asyncio.run(
                run_streams(
                    stack, tokens, model, 1, prober_interval=args.prober_interval, timeout=args.timeout, probes=False
                )
            )
            if not alone.done:
                print(f"the baseline stream failed: {alone.error}\n{stack.log_tail('web')}")
            ideal = alone.duration
            print(
                f"phase 1: one stream alone took {ideal:.2f} s (first piece after {ms(alone.first_piece or 0)}, "
                f"{alone.pieces} pieces) -> the ideal"
            )

            straight = asyncio.run(straight_to_the_double(fake, model, args.streams, timeout=args.timeout))
            straight_first = [r.first_piece for r in straight if r.first_piece is not None]
            if straight_first:
                print(
                    f"phase 1b: {args.streams} streams at once straight to the double: "
                    f"{sum(r.done for r in straight)} complete, first piece p50 "
                    f"{ms(percentile(straight_first, 0.5))}, p95 {ms(percentile(straight_first, 0.95))}"
                )

            time.sleep(1.0)
            if args.profile:
                py_spy(web_pid, args.profile, "burst-gil", args.profile_seconds + 1)
                time.sleep(0.5)  # py-spy attached before the first request
            before_at = time.monotonic()
            results, started, ended, latencies, probe_failures = asyncio.run(
                run_streams(
                    stack,
                    tokens,
                    model,
                    args.streams,
                    prober_interval=args.prober_interval,
                    timeout=args.timeout,
                    probes=True,
                )
            )
            time.sleep(0.5)
            sampler.stop()
            for other in others.values():
                other.stop()
            if args.profile:
                print(f"profile of the burst's first {args.profile_seconds:g} s: {args.profile / 'burst-gil.txt'}")
            web_log = stack.log_tail("web", chars=3000)

    before = sampler.between(before_at - 1.0, started)
    during = sampler.between(started, ended + 0.5)
    wall = ended - started
    completed = [r for r in results if r.done]
    failed = [r for r in results if not r.done]
    reasons = Counter(r.error or "no done event" for r in failed)
    first = [r.first_piece for r in results if r.first_piece is not None]
    # Streams the server was actually serving at once: between a stream's first piece and its end.
    edges = sorted(
        [(r.started + r.first_piece, 1) for r in results if r.first_piece is not None]
        + [(r.started + r.duration, -1) for r in results if r.first_piece is not None]
    )
    serving = peak_serving = 0
    for _, step in edges:
        serving += step
        peak_serving = max(peak_serving, serving)

    print(f"phase 2: {args.streams} concurrent streams of {args.pieces} pieces x {args.interval:g} s")
    print(f"  completed {len(completed)}, failed {len(failed)}")
    for reason, count in reasons.most_common(5):
        print(f"    {count} x {reason}")
    print(f"  wall {wall:.2f} s = {wall / ideal:.2f} x the ideal ({ideal:.2f} s)")
    if first:
        print(
            f"  first piece: p50 {ms(percentile(first, 0.5))}, p95 {ms(percentile(first, 0.95))}, "
            f"max {ms(max(first))} (alone: {ms(alone.first_piece or 0)})"
        )
        if straight_first:
            print(
                f"  first piece added by Studio to the double's own (phase 1b): "
                f"p50 {ms(percentile(first, 0.5) - percentile(straight_first, 0.5))}, "
                f"p95 {ms(percentile(first, 0.95) - percentile(straight_first, 0.95))}"
            )
    print(f"  peak streams receiving pieces at once: {peak_serving} of {args.streams}")
    if first:
        # What opening the streams cost the web processes: their CPU from the burst's start
        # until the last stream had its first piece (pieces of streams already open included).
        cpu, span = sampler.cpu_between(started, started + max(first))
        if span > 0:
            print(
                f"  web CPU until the last first piece ({span:.1f} s): {cpu:.2f} s = {cpu / span:.2f} cores busy, "
                f"{cpu / args.streams * 1000:.1f} ms per stream opened"
            )
            spent = {"web": cpu} | {
                name: other.cpu_between(started, started + max(first))[0] for name, other in others.items()
            }
            cores = os.cpu_count() or 1
            print(
                "  machine CPU until then, per stream opened: "
                + ", ".join(f"{name} {seconds / args.streams * 1000:.1f} ms" for name, seconds in spent.items())
                + f"; {sum(spent.values()) / span:.2f} of the {cores} cores busy"
            )
    for path in PROBED:
        values, failures = latencies[path], probe_failures[path]
        if values:
            print(
                f"  probe {path}: {len(values)} requests, p50 {ms(percentile(values, 0.5))}, "
                f"p95 {ms(percentile(values, 0.95))}, max {ms(max(values))}"
                + (f"; failed {dict(failures)}" if failures else "")
            )
    if before and during:
        base, peak = max(before), max(during)
        growth = peak - base
        print(
            f"  web RSS (process tree): before {base / 1024:.1f} MiB, peak {peak / 1024:.1f} MiB, "
            f"growth {growth / 1024:.1f} MiB = {growth / args.streams:.1f} KiB/stream"
            + (f" ({growth / peak_serving:.1f} KiB per stream served at once)" if peak_serving else "")
        )
    if failed:
        print(f"  the web log ends:\n{web_log}")

    probe_p95 = max((percentile(v, 0.95) for v in latencies.values() if v), default=float("nan"))
    goal("all streams complete", len(completed) == args.streams, f"{len(completed)}/{args.streams}")
    goal("wall <= 1.5 x ideal", wall <= 1.5 * ideal, f"{wall / ideal:.2f} x")
    goal(
        "zero errors",
        not failed and not any(probe_failures.values()),
        f"{len(failed)} streams, {sum(sum(c.values()) for c in probe_failures.values())} probes",
    )
    goal("probe p95 <= 250 ms", probe_p95 <= 0.25, f"worst p95 {ms(probe_p95)}")


if __name__ == "__main__":
    main()
