"""Where a short /v1/ chat completion's CPU goes, thread by thread, in one process.

    .venv/bin/python bench/request_cpu.py [--requests 400] [--rounds 5] [--clients 16] [--stream]
        [--profile FILE]

The served ASGI app (core.asgi, what uvicorn runs) is started as uvicorn starts it (the
lifespan protocol's startup) and called in this process, without a socket in front of
it, by ``--clients`` concurrent callers, on a fresh DuckDB installation
(tests/support/stack.py; ``--store postgres``: a fresh PostgreSQL database, the cache
and broker on Redis) whose provider is the offline double in a process of its own
(over real HTTP). For each round: the process's CPU time per request; then, over all
rounds, the CPU per request of each kind of thread (the event loop, the database-step
threads, the request threads Django's sync parts run on, markdown). The baseline, in the
same run: ``GET /healthz`` (a query of the database and the broker check) the same way;
the chat completion's CPU is printed as a ratio to it. ``--profile FILE`` writes a cProfile
of the event loop's thread for the chat rounds (slower: compare its shares, not its times).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from gateway_throughput import Double, studio_keys  # noqa: E402

from tests.support.asgi import http_scope, start_up  # noqa: E402
from tests.support.stack import ROOT, Stack  # noqa: E402


def thread_cpu() -> dict[str, float]:
    """CPU seconds of this process's threads, summed by the kind in their names."""
    names = {str(thread.native_id): thread.name for thread in threading.enumerate()}
    ticks = os.sysconf("SC_CLK_TCK")
    kinds: dict[str, float] = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            fields = Path(f"/proc/self/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()
            comm = Path(f"/proc/self/task/{tid}/comm").read_text().strip()
        except OSError:
            continue
        kind = names.get(tid, comm).split(" (")[0].rstrip("0123456789_-")
        kinds[kind] = kinds.get(kind, 0.0) + (int(fields[11]) + int(fields[12])) / ticks
    return kinds


async def call(application, request_scope: dict, body: bytes = b"") -> int:
    sent = False

    async def receive():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # the client never goes away

    status = 0

    async def send(message):
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await application(request_scope, receive, send)
    return status


async def rounds(application, make_request, *, requests: int, rounds: int, clients: int, profile=None):
    """CPU ms per request of each round, and of each kind of thread over all rounds."""

    async def run(count: int) -> None:
        numbers = iter(range(count))

        async def client() -> None:
            for number in numbers:
                status = await call(application, *make_request(number))
                if status != 200:
                    raise SystemExit(f"request {number} answered {status}")

        await asyncio.gather(*(client() for _ in range(clients)))

    await run(max(50, requests // 4))  # warm up: connections, kept reads, threads
    per_round, walls = [], []
    before = thread_cpu()
    for _ in range(rounds):
        started, wall = time.process_time(), time.perf_counter()
        if profile is not None:
            profile.enable()
        await run(requests)
        if profile is not None:
            profile.disable()
        per_round.append(1000 * (time.process_time() - started) / requests)
        walls.append(1000 * (time.perf_counter() - wall) * clients / requests)
    after = thread_cpu()
    total = requests * rounds
    by_thread = {kind: 1000 * (after[kind] - before.get(kind, 0.0)) / total for kind in after}
    return per_round, walls, {kind: ms for kind, ms in by_thread.items() if ms >= 0.01}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=400, help="requests per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--stream", action="store_true", help="streamed chat completions")
    parser.add_argument("--profile", type=Path, help="write a cProfile of the event loop's thread here")
    parser.add_argument("--store", choices=["duckdb", "postgres"], default="duckdb")
    parser.add_argument(
        "--postgres-url", default=os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    )
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/6"))
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="request-cpu-", dir=ROOT / "var" if (ROOT / "var").is_dir() else None))
    double = Double(work)
    env = {"THROTTLE_GENERATION": "1000000/min"}
    if args.store == "postgres":
        os.environ["DATABASE_URL"] = args.postgres_url  # fresh_store makes a database beside it
        env.update(CELERY_BROKER_URL=args.redis_url, CACHE_URL=args.redis_url)
    stack = Stack(work / "studio", fake=double, env=env)
    try:
        stack.prepare()
        keys = studio_keys(stack)
        os.environ.update(stack.env)
        import uvloop

        from core.asgi import application

        body = json.dumps(
            {
                "model": "openai/gpt-4o-mini",
                "messages": [{"role": "user", "content": "Say hi"}],
                "max_tokens": 16,
                "stream": args.stream,
            }
        ).encode()

        def chat(number: int):
            headers = [
                (b"content-type", b"application/json"),
                (b"authorization", f"Bearer {keys[number % len(keys)]}".encode()),
                (b"content-length", str(len(body)).encode()),
            ]
            return http_scope("POST", "/v1/chat/completions", headers, host="127.0.0.1", port=8000), body

        def healthz(number: int):
            return (http_scope("GET", "/healthz", host="127.0.0.1", port=8000),)

        profile = cProfile.Profile() if args.profile else None
        options = dict(requests=args.requests, rounds=args.rounds, clients=args.clients)

        async def both():
            await start_up(application)  # as uvicorn does (--lifespan on), before any request
            base = await rounds(application, healthz, **options)
            chat_figures = await rounds(application, chat, profile=profile, **options)
            return base, chat_figures

        (base_rounds, base_walls, base_threads), (chat_rounds, chat_walls, chat_threads) = uvloop.run(both())
    finally:
        stack.close()
        double.process.close()

    def median(values):
        return sorted(values)[len(values) // 2]

    mode = "streamed" if args.stream else "whole"
    store = "PostgreSQL + Redis" if args.store == "postgres" else "DuckDB"
    print(f"{args.rounds} rounds of {args.requests} requests, {args.clients} clients, {store}, in one process")
    for name, per_round, walls, threads in (
        ("GET /healthz", base_rounds, base_walls, base_threads),
        (f"chat completion ({mode})", chat_rounds, chat_walls, chat_threads),
    ):
        print(
            f"{name:<28} CPU ms/request: median {median(per_round):.2f}, min {min(per_round):.2f}; "
            f"wall ms/request per client: median {median(walls):.2f}; by thread: "
            + ", ".join(f"{kind} {ms:.2f}" for kind, ms in sorted(threads.items(), key=lambda item: -item[1]))
        )
    print(f"chat completion / healthz CPU (medians): x{median(chat_rounds) / median(base_rounds):.2f}")
    if profile is not None:
        profile.dump_stats(args.profile)
        print(f"profile of the event loop's thread: {args.profile}")


if __name__ == "__main__":
    main()
