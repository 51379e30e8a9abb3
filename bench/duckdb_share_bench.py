"""
Benchmark 2: two processes sharing one DuckDB file.

A "web" process serves the request mix (tests/django_duckdb/views.py) from
several threads through Django's test client, continuously; a "worker"
process does a small write (an insert and a conditional update in a
transaction, like a Celery task) every second. Measured in the same run:

* web throughput alone, and with the worker (ratio; goal >= 0.8);
* the worker's wait: how long each write takes from start to commit,
  including waiting for the file (p50 / p99; goal p99 <= 1 s);
* lock errors on either side (goal: none).

    .venv/bin/python bench/duckdb_share_bench.py [--seconds 15] [--threads 4]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _setup_django():
    import django

    django.setup()


def web(seconds, threads):
    _setup_django()
    from django.test import Client

    from tests.django_duckdb.testapp.models import Person

    user = Person.objects.get(username="web")
    login = Client()
    login.force_login(user)
    cookies = login.cookies
    counts, errors = [], []
    stop = time.monotonic() + seconds

    def serve():
        client = Client()
        client.cookies = cookies
        done = 0
        while time.monotonic() < stop:
            try:
                response = client.get("/bench/request/")
                if response.status_code != 200:
                    errors.append(f"status {response.status_code}")
            except Exception as exc:
                errors.append(f"{type(exc).__name__}: {str(exc)[:200]}")
            done += 1
        counts.append(done)

    workers = [threading.Thread(target=serve) for _ in range(threads)]
    started = time.monotonic()
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    elapsed = time.monotonic() - started
    from django.db import connection

    from django_duckdb import registry

    instance = registry.get_instance(connection.settings_dict["NAME"])
    print(
        json.dumps(
            {
                "requests": sum(counts),
                "rps": sum(counts) / elapsed,
                "errors": errors[:20],
                "error_count": len(errors),
                "opens": instance.opens,
                "yields": instance.yields,
            }
        )
    )


def worker(seconds, interval):
    _setup_django()
    from django.db import close_old_connections, transaction

    from tests.django_duckdb.testapp.models import Job, Person

    owner = Person.objects.get(username="worker")
    close_old_connections()
    waits, errors = [], []
    stop = time.monotonic() + seconds
    next_at = time.monotonic() + interval / 2
    while True:
        now = time.monotonic()
        if now >= stop:
            break
        time.sleep(max(0.0, next_at - now))
        next_at += interval
        started = time.monotonic()
        try:
            with transaction.atomic():
                job = Job.objects.create(owner=owner, worker="worker")
                Job.objects.filter(pk=job.pk, status="queued").update(status="done")
            waits.append(time.monotonic() - started)
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {str(exc)[:200]}")
        close_old_connections()  # a task ends: give the file back
    print(json.dumps({"waits": waits, "errors": errors}))


def prepare():
    _setup_django()
    from django.core.management import call_command

    from tests.django_duckdb.testapp.models import Job, Person

    call_command("migrate", verbosity=0, interactive=False)
    web_user = Person.objects.create_user("web", "web@example.org", "pw")
    Person.objects.create_user("worker", "worker@example.org", "pw")
    Job.objects.bulk_create([Job(owner=web_user) for _ in range(500)])


def spawn(env, *args):
    return subprocess.Popen(
        [sys.executable, __file__, *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def collect(proc):
    out, err = proc.communicate(timeout=600)
    if proc.returncode != 0:
        raise SystemExit(f"process failed:\n{err}")
    return json.loads(out.strip().splitlines()[-1])


def percentile(values, q):
    values = sorted(values)
    if not values:
        return float("nan")
    index = min(len(values) - 1, max(0, round(q / 100 * (len(values) - 1))))
    return values[index]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--role")
    args = parser.parse_args()
    if args.role == "prepare":
        return prepare()
    if args.role == "web":
        return web(args.seconds, args.threads)
    if args.role == "worker":
        return worker(args.seconds, args.interval)

    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.django_duckdb.settings_standalone",
            "PYTHONPATH": str(ROOT),
            "DUCKDB_TEST_NAME": str(Path(tmp) / "shared.duckdb"),
        }
        collect_prepare = spawn(env, "--role", "prepare")
        collect_prepare.communicate(timeout=300)
        common = ["--seconds", str(args.seconds), "--threads", str(args.threads)]
        alone, shared = [], []
        waits, errors = [], 0

        def run_alone(round_):
            nonlocal errors
            r = collect(spawn(env, "--role", "web", *common))
            alone.append(r["rps"])
            errors += r["error_count"]
            print(f"round {round_ + 1} web alone:       {r['rps']:7.1f} requests/s, errors {r['error_count']}")

        def run_shared(round_):
            nonlocal errors, waits
            web_proc = spawn(env, "--role", "web", *common)
            worker_proc = spawn(
                env,
                "--role",
                "worker",
                "--seconds",
                str(args.seconds),
                "--interval",
                str(args.interval),
            )
            r = collect(web_proc)
            w = collect(worker_proc)
            shared.append(r["rps"])
            waits += w["waits"]
            errors += r["error_count"] + len(w["errors"])
            print(
                f"round {round_ + 1} web with worker: {r['rps']:7.1f} requests/s, errors "
                f"{r['error_count']}, file opened {r['opens']}x, handed over "
                f"{r['yields']}x; worker writes {len(w['waits'])}, errors {len(w['errors'])}"
            )
            for e in (r["errors"] + w["errors"])[:5]:
                print("   ", e)

        # Alternate the order so drift in the machine's load cancels out.
        for round_ in range(args.rounds):
            if round_ % 2 == 0:
                run_alone(round_)
                run_shared(round_)
            else:
                run_shared(round_)
                run_alone(round_)
        ratio = statistics.median(shared) / statistics.median(alone)
        print(f"\nweb requests/s alone {statistics.median(alone):.1f}, with worker {statistics.median(shared):.1f}")
        print(f"throughput ratio with/without worker: {ratio:.2f} (goal >= 0.8)")
        print(
            f"worker wait: p50 {1000 * percentile(waits, 50):.0f} ms, p99 "
            f"{1000 * percentile(waits, 99):.0f} ms, max {1000 * max(waits or [0]):.0f} ms "
            f"over {len(waits)} writes (goal p99 <= 1000 ms)"
        )
        print(f"lock/other errors: {errors} (goal 0)")


if __name__ == "__main__":
    main()
