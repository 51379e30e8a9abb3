"""One worker keeping 500 video jobs in flight: are they polled on schedule?

The stack runs as real processes (web, one Celery worker with the threads pool, beat);
the offline double, in this process, answers every poll after 50 ms and notes when each
poll arrives. After all jobs are submitted, polls are watched for a while: for each job,
the gap between two polls minus VIDEO_POLL_INTERVAL is how far behind schedule the
second poll fell (it includes the double's 50 ms and our own bookkeeping).

    .venv/bin/python bench/video_inflight.py [--jobs 500] [--interval 15] [--window 60] [--concurrency 4]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.stack import Stack, percentile, timed_fake  # noqa: E402

EMAIL, PASSWORD = "inflight@example.com", "correct-horse-battery-staple"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=500)
    parser.add_argument("--interval", type=float, default=15.0, help="VIDEO_POLL_INTERVAL, seconds")
    parser.add_argument("--window", type=float, default=60.0, help="seconds of polling to watch")
    parser.add_argument("--concurrency", type=int, default=4, help="worker threads")
    parser.add_argument("--poll-delay", type=float, default=0.05, help="the double's answer time per poll")
    args = parser.parse_args()

    with (
        tempfile.TemporaryDirectory(prefix="video-inflight-") as data_dir,
        timed_fake(poll_delay=args.poll_delay, video_duration=10**6) as fake,
        Stack(
            Path(data_dir),
            fake=fake,
            worker_concurrency=args.concurrency,
            env={
                "VIDEO_MAX_JOBS_IN_FLIGHT": str(args.jobs * 2),
                "VIDEO_POLL_INTERVAL": str(args.interval),
                "VIDEO_SWEEP_INTERVAL": "15",
                "VIDEO_SWEEP_GRACE": "15",
                "VIDEO_TASK_LEASE": "300",
                "VIDEO_JOB_DEADLINE": "7200",
            },
        ) as stack,
    ):
        stack.prepare(users=[(EMAIL, PASSWORD)])
        stack.start()
        api = stack.api(EMAIL, PASSWORD)

        def create(index: int) -> None:
            response = api.post(
                stack.url("/api/generate/video"),
                json={"model": "google/veo-3.1", "prompt": f"in flight {index}"},
                timeout=120,
            )
            response.raise_for_status()

        started = time.monotonic()
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(create, range(args.jobs)))
        created = time.monotonic() - started
        while len(fake.submitted_at) < args.jobs:
            if time.monotonic() - started > 600:
                raise SystemExit(f"only {len(fake.submitted_at)} submitted\n{stack.log_tail()}")
            time.sleep(0.2)
        all_submitted = time.monotonic()
        print(
            f"{args.jobs} jobs created over HTTP in {created:.1f} s; all at the provider after "
            f"{all_submitted - started:.1f} s"
        )
        # Let every job reach its first poll, then watch a whole window.
        time.sleep(args.interval + 2)
        window_start = time.monotonic()
        time.sleep(args.window)
        window_end = time.monotonic()
        statuses = api.get(stack.url("/api/generate/videos"), params={"status": "processing"}, timeout=60).json()
        worker_log = stack.log_tail("worker", chars=20000)

    late = []
    polled_jobs = 0
    polls_in_window = 0
    for times in fake.polled_at.values():
        in_window = [t for t in times if window_start <= t <= window_end]
        polls_in_window += len(in_window)
        polled_jobs += bool(in_window)
        earlier = [t for t in times if t < window_start][-1:]
        series = earlier + in_window
        late += [b - a - args.interval for a, b in zip(series, series[1:])]
    expected = args.jobs * args.window / args.interval
    never = args.jobs - polled_jobs
    print(
        f"window {args.window:.0f} s, poll interval {args.interval:g} s, double answers in "
        f"{args.poll_delay * 1000:.0f} ms, worker threads {args.concurrency}"
    )
    print(
        f"polls: {polls_in_window} in the window, {polls_in_window / args.window:.1f}/s "
        f"(schedule: {expected:.0f}, {args.jobs / args.interval:.1f}/s; ratio {polls_in_window / expected:.3f})"
    )
    print(f"jobs polled in the window: {polled_jobs}/{args.jobs}; still processing: {statuses['count']}")
    if late:
        print(
            f"behind schedule per poll: p50 {percentile(late, 0.5) * 1000:.0f} ms, "
            f"p95 {percentile(late, 0.95) * 1000:.0f} ms, p99 {percentile(late, 0.99) * 1000:.0f} ms, "
            f"max {max(late) * 1000:.0f} ms; over 1 s late: {sum(x > 1 for x in late)} of {len(late)}"
        )
    per_job: dict[int, int] = {}
    for times in fake.polled_at.values():
        n = len([t for t in times if window_start <= t <= window_end])
        per_job[n] = per_job.get(n, 0) + 1
    print("polls per job in the window:", dict(sorted(per_job.items())))
    if never:
        print(f"WARNING: {never} jobs were not polled in the window; the worker's log ends:\n{worker_log}")


if __name__ == "__main__":
    main()
