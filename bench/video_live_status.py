"""Push latency of live video status: from the worker's change of a job (the row's
``updated_at``, stamped by the worker) to the server-sent event arriving at a client, on
the real stack (web under the Procfile's uvicorn command, Celery worker and beat, the
offline double). K jobs, each watched by its own SSE client (as K open job pages); the
double's jobs finish at random moments (each takes a random 3..12 s).

Baseline, same run: the old page polling (GET .../status every VIDEO_PAGE_POLL_MS, 5 s),
twice: real pollers (one per job, random phase) timing when they first see each state,
and the same polling simulated over every change the stream reported (a poller of random
phase sees a change at its next poll).

    .venv/bin/python bench/video_live_status.py [--jobs 20] [--poll-ms 5000]

Same machine, so the worker's wall clock and ours agree. DATABASE_URL selects the store
(a DuckDB file by default).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.stack import Stack, percentile  # noqa: E402

EMAIL, PASSWORD = "live-status@example.com", "correct-horse-battery-staple"
TERMINAL = {"completed", "failed", "cancelled"}
# (job id, when the client saw it, the row's updated_at, (status, progress, video_url, error))
Sample = tuple[int, float, float, tuple]


def random_length_fake(low: float, high: float):
    """The double, each video job taking its own random time between low and high seconds."""
    from openrouter.fake import FakeOpenRouter

    class RandomLengthFake(FakeOpenRouter):
        def __init__(self, **options):
            super().__init__(**options)
            self.lengths: dict[str, float] = {}
            self._random = random.Random(7)

        def job_state(self, job):
            with self._lock:
                length = self.lengths.setdefault(job.id, self._random.uniform(low, high))
            fraction = (self.clock() - job.created) / length
            if fraction < 0.2:
                return "pending", 0
            if fraction < 1.0:
                return "in_progress", int(fraction * 100)
            return "completed", 100

    return RandomLengthFake(video_duration=high)


def stamp(value: str) -> float:
    return datetime.fromisoformat(value).timestamp()


def state(body: dict) -> tuple:
    return body["status"], body["progress"], body["video_url"], body["error"]


def watch(stack: Stack, token: str, job_id: int, out: list[Sample], lock: threading.Lock) -> None:
    """One SSE client: note when each status event arrives, until the stream ends."""
    headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
    with requests.get(
        stack.url(f"/api/generate/video/{job_id}/events"), headers=headers, stream=True, timeout=120
    ) as response:
        response.raise_for_status()
        event = None
        for raw in response.iter_lines():
            line = raw.decode("utf-8")  # an event stream is UTF-8 by definition
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: ") and event == "status":
                received = time.time()
                body = json.loads(line[6:])
                with lock:
                    out.append((job_id, received, stamp(body["updated_at"]), state(body)))
            elif line.startswith("data: ") and event == "end":
                return


def poll(stack: Stack, token: str, job_id: int, period: float, out: list[Sample], lock: threading.Lock) -> None:
    """One page as before: GET the status every ``period`` s (random phase); note when each
    new state is first seen."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    time.sleep(random.uniform(0, period))
    seen = None
    while True:
        started = time.monotonic()
        body = session.get(stack.url(f"/api/generate/video/{job_id}/status"), timeout=60).json()
        if state(body) != seen:
            seen = state(body)
            with lock:
                out.append((job_id, time.time(), stamp(body["updated_at"]), seen))
        if body["status"] in TERMINAL:
            return
        time.sleep(max(0.0, period - (time.monotonic() - started)))


def summary(latencies: list[float]) -> str:
    if not latencies:
        return "no samples"
    return (
        f"n={len(latencies):4d}  p50 {percentile(latencies, 0.5) * 1000:7.0f} ms  "
        f"p95 {percentile(latencies, 0.95) * 1000:7.0f} ms  max {max(latencies) * 1000:7.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=20, help="jobs, each watched by one SSE client")
    parser.add_argument("--poll-ms", type=int, default=5000, help="the old page polling period (baseline)")
    args = parser.parse_args()
    period = args.poll_ms / 1000

    with (
        tempfile.TemporaryDirectory(prefix="video-live-") as tmp,
        random_length_fake(3.0, 12.0) as fake,
        Stack(Path(tmp), fake=fake, env={"VIDEO_MAX_JOBS_IN_FLIGHT": str(args.jobs)}) as stack,
    ):
        stack.prepare(users=[(EMAIL, PASSWORD)])
        stack.start()
        api = stack.api(EMAIL, PASSWORD)
        token = api.headers["Authorization"].split(" ", 1)[1]
        interval = float(stack.env.get("VIDEO_LIVE_INTERVAL", "0.5"))

        ids = []
        for n in range(args.jobs):
            response = api.post(
                stack.url("/api/generate/video"),
                json={"model": "google/veo-3.1", "prompt": f"a kite over the sea, take {n}", "duration": 4},
                timeout=30,
            )
            response.raise_for_status()
            ids.append(response.json()["id"])

        pushed: list[Sample] = []
        polled: list[Sample] = []
        lock = threading.Lock()
        threads = [threading.Thread(target=watch, args=(stack, token, job_id, pushed, lock)) for job_id in ids]
        threads += [threading.Thread(target=poll, args=(stack, token, job_id, period, polled, lock)) for job_id in ids]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
        took = time.monotonic() - started

    # Events whose updated_at predates the client (the first event at connect) say
    # nothing about push latency: only changes made while the stream was open count.
    first: dict[int, float] = {}
    for job_id, received, _changed, _ in pushed:
        first.setdefault(job_id, received)
    live = [(job_id, received, changed, st) for job_id, received, changed, st in pushed if changed > first[job_id]]
    push_all = [received - changed for _, received, changed, _ in live]
    push_end = [received - changed for _, received, changed, st in live if st[0] in TERMINAL]
    poll_first: dict[int, float] = {}
    for job_id, received, _, _ in polled:
        poll_first.setdefault(job_id, received)
    real_poll = [(received - changed, st) for job_id, received, changed, st in polled if changed > poll_first[job_id]]
    rng = random.Random(11)
    phases = {job_id: rng.uniform(0, period) for job_id in ids}
    simulated = [(phases[job_id] - changed) % period for job_id, _, changed, _ in live]
    simulated_end = [(phases[job_id] - changed) % period for job_id, _, changed, st in live if st[0] in TERMINAL]

    store = "PostgreSQL" if "postgres" in stack.env["DATABASE_URL"] else "DuckDB"
    print(
        f"\n{args.jobs} jobs (3..12 s each at the double), one SSE client each, {args.jobs} pollers at "
        f"{period:g} s; VIDEO_LIVE_INTERVAL {interval:g} s; store {store}; {took:.1f} s"
    )
    print("latency from the worker's change (updated_at) to the client seeing it:")
    rows = [
        ("pushed over SSE, every change", push_all),
        ("pushed over SSE, terminal status", push_end),
        (f"polling {period:g} s, real pollers, every state seen", [lat for lat, _ in real_poll]),
        (f"polling {period:g} s, real pollers, terminal status", [lat for lat, st in real_poll if st[0] in TERMINAL]),
        (f"polling {period:g} s, simulated on the SSE's changes", simulated),
        (f"polling {period:g} s, simulated, terminal status", simulated_end),
    ]
    for label, values in rows:
        print(f"  {label:<48} {summary(values)}")
    goal = percentile(push_all, 0.95) if push_all else float("inf")
    print(f"goal push p95 <= 1 s: {'met' if goal <= 1.0 else 'NOT met'} ({goal * 1000:.0f} ms)")


if __name__ == "__main__":
    main()
