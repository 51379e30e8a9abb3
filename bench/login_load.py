"""Concurrent failed logins from one address against the real web process: how many
passwords get checked, how far the process's memory grows, and how slow pages get.

    .venv/bin/python bench/login_load.py [--bursts 60,300] [--probe-interval 0.1]

The web server is started with the command of the Procfile's ``web:`` line (uvicorn serving
core.asgi, what ``make run`` runs), web process only, on a fresh DuckDB store under a
temporary DATA_DIR, with Studio's own settings: the production Argon2 hasher, the default
THROTTLE_AUTH_IP (30/min), PASSWORD_CHECKS_MAX_CONCURRENT and the other login limits as
configured in the environment. No provider is needed.

Each burst sends N ``POST /api/auth/login`` at once over N connections from one client
address (each burst from an address of its own on the loopback range, 127.0.0.2, .3, ...,
so a burst does not start with the previous one's count), each for a different unknown
email with a wrong password. A wrong password is checked exactly when the answer is 401;
a 429 was refused before any hash (the address's limit, or every password-hashing slot of
the process busy: the detail says which).

Memory: the web process's resident set (VmRSS of /proc/PID/status, children included when
uvicorn runs workers) before each burst (idle) and its peak during the burst (sampled
every 10 ms, and the kernel's VmHWM after resetting it through /proc/PID/clear_refs where
allowed). Latency: ``GET /login`` from a separate process every --probe-interval seconds,
idle (before the first burst) and during each burst; p95 and the ratio to idle.

The exit code is 0 whatever the figures are.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.stack import Stack, percentile  # noqa: E402


def _status_kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants (uvicorn's workers, when it runs several)."""
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                queue.extend(int(child) for child in (task / "children").read_text().split())
            except (FileNotFoundError, ProcessLookupError):
                pass
    return found


def rss_mib(pid: int) -> float:
    return sum(_status_kb(each, "VmRSS") for each in _tree(pid)) / 1024


def hwm_mib(pid: int) -> float:
    return sum(_status_kb(each, "VmHWM") for each in _tree(pid)) / 1024


def reset_hwm(pid: int) -> bool:
    """Reset the kernel's peak-RSS mark (Linux >= 4.0, "5" to clear_refs)."""
    try:
        for each in _tree(pid):
            Path(f"/proc/{each}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


class RssSampler(threading.Thread):
    def __init__(self, pid: int, interval: float = 0.01) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak = 0.0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.peak = max(self.peak, rss_mib(self.pid))
            time.sleep(self.interval)

    def stop(self) -> float:
        self._stop_event.set()
        self.join()
        return self.peak


def _probe(url: str, interval: float, stop, out) -> None:
    """In a process of its own: GET url every ``interval`` s; (start, seconds) pairs."""
    with httpx.Client(timeout=60) as client:
        while not stop.is_set():
            started = time.time()
            try:
                client.get(url).raise_for_status()
                out.put((started, time.time() - started))
            except httpx.HTTPError:
                out.put((started, float("inf")))
            time.sleep(max(0.0, interval - (time.time() - started)))


class Prober:
    def __init__(self, url: str, interval: float) -> None:
        context = multiprocessing.get_context("spawn")
        self._stop = context.Event()
        self._queue = context.Queue()
        self._process = context.Process(target=_probe, args=(url, interval, self._stop, self._queue), daemon=True)
        self.samples: list[tuple[float, float]] = []

    def __enter__(self) -> Prober:
        self._process.start()
        return self

    def drain(self) -> None:
        while not self._queue.empty():
            self.samples.append(self._queue.get())

    def between(self, start: float, end: float) -> list[float]:
        self.drain()
        return [seconds for started, seconds in self.samples if start <= started <= end]

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._process.join(timeout=30)
        self.drain()


async def burst(base: str, size: int, source: str, tag: str) -> tuple[Counter, float]:
    """``size`` failed logins at once from ``source``; answers counted by kind, and the wall time."""
    transport = httpx.AsyncHTTPTransport(local_address=source, limits=httpx.Limits(max_connections=size))
    async with httpx.AsyncClient(transport=transport, timeout=300) as client:

        async def one(n: int) -> str:
            try:
                answer = await client.post(
                    f"{base}/api/auth/login",
                    json={"email": f"load-{tag}-{n}@example.com", "password": "not-the-password"},
                )
            except httpx.HTTPError as exc:
                return f"error {type(exc).__name__}"
            if answer.status_code == 429:
                return "429 busy" if "busy" in answer.json().get("detail", "") else "429 address limit"
            return str(answer.status_code)

        started = time.monotonic()
        kinds = Counter(await asyncio.gather(*(one(n) for n in range(size))))
        return kinds, time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bursts", default="60,300", help="comma-separated burst sizes (default 60,300)")
    parser.add_argument("--probe-interval", type=float, default=0.1)
    parser.add_argument("--idle-seconds", type=float, default=3.0, help="baseline /login probing before the bursts")
    args = parser.parse_args()
    sizes = [int(size) for size in args.bursts.split(",")]

    with tempfile.TemporaryDirectory(prefix="login-load-") as tmp:
        # No provider call is made: the base URL only has to be well-formed.
        stack = Stack(Path(tmp), fake=SimpleNamespace(base_url="http://127.0.0.1:9/api/v1"))
        with stack:
            stack.manage("migrate", "--noinput", "--verbosity", "0")
            stack.start_web_only()
            pid = stack.processes["web"].pid
            base = stack.url("")
            # Warm up: the first login loads the hasher and the first page its templates.
            httpx.post(f"{base}/api/auth/login", json={"email": "warm@example.com", "password": "x"}, timeout=60)
            httpx.get(f"{base}/login", timeout=60)
            limits = {
                name: stack.env.get(name, "(default)")
                for name in ("THROTTLE_AUTH_IP", "PASSWORD_CHECKS_MAX_CONCURRENT", "PASSWORD_CHECKS_WAIT")
            }
            print(f"web process {pid} ({' '.join(stack.web_command()[:2])} ...), settings {limits}")
            with Prober(f"{base}/login", args.probe_interval) as prober:
                # The baseline: --idle-seconds of probes, once the probing process is up.
                deadline = time.time() + 60
                while not prober.between(0, time.time()) and time.time() < deadline:
                    time.sleep(0.1)
                idle_start = time.time()
                time.sleep(args.idle_seconds)
                idle = prober.between(idle_start, time.time())
                idle_p95 = percentile(idle, 0.95)
                print(f"idle: RSS {rss_mib(pid):.0f} MiB, GET /login p95 {idle_p95 * 1000:.1f} ms ({len(idle)} probes)")
                for number, size in enumerate(sizes, start=2):
                    source = f"127.0.0.{number}"
                    idle_rss = rss_mib(pid)
                    hwm_reset = reset_hwm(pid)
                    sampler = RssSampler(pid)
                    sampler.start()
                    started = time.time()
                    kinds, wall = asyncio.run(burst(base, size, source, str(number)))
                    time.sleep(0.3)  # pages the probe sent at the end come back
                    ended = time.time()
                    peak = max(sampler.stop(), hwm_mib(pid) if hwm_reset else 0.0)
                    during = prober.between(started, ended)
                    p95 = percentile(during, 0.95) if during else float("nan")
                    print(
                        f"burst of {size} from {source}: passwords checked (401) {kinds.get('401', 0)}, "
                        f"refused before any hash {kinds.get('429 address limit', 0)} (address limit) + "
                        f"{kinds.get('429 busy', 0)} (hashing slots busy), other {dict(kinds)}; wall {wall:.2f} s"
                    )
                    print(
                        f"    memory: idle {idle_rss:.0f} MiB, peak {peak:.0f} MiB "
                        f"({peak / idle_rss:.2f}x idle; peak from {'VmHWM and ' if hwm_reset else ''}10 ms samples)"
                    )
                    print(
                        f"    GET /login p95 during the burst {p95 * 1000:.1f} ms ({len(during)} probes), "
                        f"{p95 / idle_p95:.1f}x idle"
                    )
                    time.sleep(1)


if __name__ == "__main__":
    main()
