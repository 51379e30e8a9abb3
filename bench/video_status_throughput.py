"""Throughput of GET /api/generate/video/{id}/status, which every open job page polls,
as a ratio to a trivial JSON view (a plain Django view returning {"ok": true}) served by
the same web process (the Procfile's uvicorn command, one process), measured in the same run.

Also shown, to see where the time goes: a DRF view that only authenticates (JWT), and
the status endpoint with a session cookie (what the pages send) besides a bearer token.

    .venv/bin/python bench/video_status_throughput.py [--seconds 8] [--rounds 3] [--clients 8]

DATABASE_URL selects the store (a DuckDB file by default).
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import multiprocessing.queues
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.stack import Stack  # noqa: E402

EMAIL, PASSWORD = "throughput@example.com", "correct-horse-battery-staple"


def _client_process(port, path, headers, seconds, threads, results):
    counts = []
    errors = []
    stop_at = time.monotonic() + seconds

    def run():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        done = 0
        while time.monotonic() < stop_at:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                errors.append(response.status)
                break
            done += 1
        conn.close()
        counts.append(done)

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    results.put((sum(counts), errors[:3]))


def requests_per_second(port: int, path: str, headers: dict, seconds: float, clients: int) -> float:
    processes_count = 2
    # (requests answered, the first error statuses) from each client process
    results: multiprocessing.queues.Queue[tuple[int, list[int]]] = multiprocessing.Queue()
    processes = [
        multiprocessing.Process(
            target=_client_process, args=(port, path, headers, seconds, max(1, clients // processes_count), results)
        )
        for _ in range(processes_count)
    ]
    for process in processes:
        process.start()
    total = 0
    for _ in processes:
        done, errors = results.get(timeout=seconds + 60)
        if errors:
            raise SystemExit(f"{path}: HTTP {errors}")
        total += done
    for process in processes:
        process.join()
    return total / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=8, help="concurrent keep-alive connections")
    args = parser.parse_args()

    from openrouter.fake import FakeOpenRouter

    with (
        tempfile.TemporaryDirectory(prefix="video-throughput-") as data_dir,
        FakeOpenRouter() as fake,
        Stack(
            Path(data_dir),
            fake=fake,
            env={"DJANGO_SETTINGS_MODULE": "bench.video_bench_settings", "JWT_ACCESS_MINUTES": "60"},
        ) as stack,
    ):
        stack.prepare(users=[(EMAIL, PASSWORD)])
        stack.start_web()
        stack.wait_until_healthy()
        api = stack.api(EMAIL, PASSWORD)
        job = api.post(
            stack.url("/api/generate/video"), json={"model": "google/veo-3.1", "prompt": "bench"}, timeout=30
        ).json()["id"]
        import requests

        browser = requests.Session()
        browser.get(stack.url("/login"), timeout=30)
        browser.post(
            stack.url("/login"),
            data={"username": EMAIL, "password": PASSWORD, "csrfmiddlewaretoken": browser.cookies["csrftoken"]},
            headers={"Referer": stack.url("/login")},
            timeout=30,
        )
        session_cookie = f"sessionid={browser.cookies['sessionid']}"
        bearer = {"Authorization": api.headers["Authorization"]}
        status_path = f"/api/generate/video/{job}/status"
        cases = {
            "trivial JSON view (baseline)": ("/bench/trivial-json", {}),
            "DRF view, JWT auth only": ("/bench/drf-authenticated", bearer),
            "status, JWT (API clients)": (status_path, bearer),
            "status, session cookie (pages)": (status_path, {"Cookie": session_cookie}),
        }
        for path, headers in cases.values():  # warm up, and check every case answers 200
            requests_per_second(stack.port, path, headers, 1.0, 2)
        rates: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(args.rounds):
            for name, (path, headers) in cases.items():
                rates[name].append(requests_per_second(stack.port, path, headers, args.seconds, args.clients))

    baseline = statistics.median(rates["trivial JSON view (baseline)"])
    store = "PostgreSQL" if "postgres" in stack.env["DATABASE_URL"] else "DuckDB"
    print(
        f"\nuvicorn, {stack.web_concurrency} process(es), {args.clients} keep-alive clients, "
        f"{args.rounds} rounds of {args.seconds:g} s, store {store}; median requests/s:"
    )
    for name, values in rates.items():
        median = statistics.median(values)
        print(f"  {name:<34} {median:8.0f} /s   ratio to baseline {median / baseline:.3f}")


if __name__ == "__main__":
    main()
