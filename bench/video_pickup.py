"""Pickup latency: from POST /api/generate/video to the provider receiving the submit.

Two runs of the same stack (web, worker, beat as real processes; the offline double in
this process, noting when each submit arrives):

* ours: the submit task is sent when the job's row commits;
* sweep only: the web process sends its tasks to a queue no worker reads, so a worker
  picks queued jobs up every 15 s (the beat's sweep alone, with no grace).

Jobs are created one at a time at random moments, so they land anywhere in the tick.
Prints p50 / p95 / max of both and the ratio. Goal: ours p95 <= 1 s.

    .venv/bin/python bench/video_pickup.py [--jobs 40] [--baseline-jobs 20] [--tick 15]

DATABASE_URL / CELERY_BROKER_URL select the store and broker (DuckDB file and the
filesystem broker by default).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.stack import Stack, percentile, timed_fake  # noqa: E402

EMAIL, PASSWORD = "pickup@example.com", "correct-horse-battery-staple"


def measure(*, jobs: int, spread: float, env: dict, sweep_only: bool = False) -> list[float]:
    with (
        tempfile.TemporaryDirectory(prefix="video-pickup-") as data_dir,
        timed_fake(video_duration=2) as fake,
        Stack(Path(data_dir), fake=fake, env={"VIDEO_MAX_JOBS_IN_FLIGHT": "100000", **env}) as stack,
    ):
        if sweep_only:
            stack.web_env = {"CELERY_TASK_DEFAULT_QUEUE": f"{stack.queue}-unread"}
        stack.prepare(users=[(EMAIL, PASSWORD)])
        stack.start()
        api = stack.api(EMAIL, PASSWORD)
        api.get(stack.url("/api/generate/videos"), timeout=30)  # warm the web process
        sent: dict[str, float] = {}
        for index in range(jobs):
            time.sleep(random.uniform(0, 2 * spread / jobs))
            prompt = f"pickup {index} {random.random()}"
            sent[prompt] = time.monotonic()
            response = api.post(
                stack.url("/api/generate/video"), json={"model": "google/veo-3.1", "prompt": prompt}, timeout=30
            )
            if response.status_code != 202:
                raise SystemExit(f"HTTP {response.status_code}: {response.text[:500]}\n{stack.log_tail('web')}")
        deadline = time.monotonic() + 120
        while len(fake.submitted_at) < jobs and time.monotonic() < deadline:
            time.sleep(0.1)
        missing = jobs - len(fake.submitted_at)
        if missing:
            raise SystemExit(f"{missing} jobs never reached the provider\n{stack.log_tail()}")
        return [fake.submitted_at[prompt] - sent[prompt] for prompt in sent]


def report(name: str, latencies: list[float]) -> tuple[float, float]:
    p50, p95 = percentile(latencies, 0.5), percentile(latencies, 0.95)
    print(
        f"{name:<34} n={len(latencies):>3}  p50 {p50 * 1000:8.0f} ms  p95 {p95 * 1000:8.0f} ms  "
        f"max {max(latencies) * 1000:8.0f} ms"
    )
    return p50, p95


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=40)
    parser.add_argument("--baseline-jobs", type=int, default=20)
    parser.add_argument("--tick", type=float, default=15.0, help="the sweep-only pickup interval, seconds")
    args = parser.parse_args()

    ours = measure(jobs=args.jobs, spread=10, env={})
    sweep_only = measure(
        jobs=args.baseline_jobs,
        spread=3 * args.tick,
        env={"VIDEO_SWEEP_INTERVAL": str(args.tick), "VIDEO_SWEEP_GRACE": "0"},
        sweep_only=True,
    )
    print()
    o50, o95 = report("submit on commit (ours)", ours)
    s50, s95 = report(f"{args.tick:g} s tick (sweep only)", sweep_only)
    print(
        f"\nours / sweep only: p50 {o50 / s50:.3f}x, p95 {o95 / s95:.3f}x   "
        f"(goal p95 <= 1 s: {'met' if o95 <= 1 else 'NOT met'})"
    )


if __name__ == "__main__":
    main()
