"""
Benchmark 1: a request-shaped ORM mix through Django's test client, on
django_duckdb and on sqlite3, in the same run.

Each request does a session lookup, a user by primary key, an indexed
filter, an insert and a conditional update (tests/django_duckdb/views.py).
Each backend runs in a fresh process on a fresh file; rounds alternate the
backends and the median round counts.

    .venv/bin/python bench/duckdb_request_bench.py [--requests 2000] [--rounds 3]

Prints requests/s for each and the ratio duckdb/sqlite (goal >= 0.8).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def child(requests, warmup):
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from tests.django_duckdb.testapp.models import Job, Person

    call_command("migrate", verbosity=0, interactive=False)
    user = Person.objects.create_user("bench", "bench@example.org", "pw")
    Job.objects.bulk_create([Job(owner=user) for _ in range(500)])
    client = Client()
    client.force_login(user)
    connection.close()

    for _ in range(warmup):
        assert client.get("/bench/request/").status_code == 200
    started = time.perf_counter()
    for _ in range(requests):
        response = client.get("/bench/request/")
        assert response.status_code == 200
    elapsed = time.perf_counter() - started
    print(json.dumps({"rps": requests / elapsed, "ms_per_request": 1000 * elapsed / requests}))


def run(backend, requests, warmup):
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.django_duckdb.settings_standalone",
            "PYTHONPATH": str(ROOT),
            "DUCKDB_TEST_NAME": str(Path(tmp) / f"bench.{backend}"),
            "DUCKDB_TEST_ENGINE": ("django_duckdb" if backend == "duckdb" else "django.db.backends.sqlite3"),
        }
        out = subprocess.run(
            [sys.executable, __file__, "--child", "--requests", str(requests), "--warmup", str(warmup)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if out.returncode != 0:
            raise SystemExit(f"{backend} run failed:\n{out.stderr}")
        return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", action="store_true")
    args = parser.parse_args()
    if args.child:
        return child(args.requests, args.warmup)
    results = {"sqlite": [], "duckdb": []}
    for round_ in range(args.rounds):
        for backend in ("sqlite", "duckdb"):
            r = run(backend, args.requests, args.warmup)
            results[backend].append(r["rps"])
            print(f"round {round_ + 1} {backend:>6}: {r['rps']:8.1f} requests/s ({r['ms_per_request']:.2f} ms)")
    sqlite = statistics.median(results["sqlite"])
    duck = statistics.median(results["duckdb"])
    print(f"\nmedian requests/s: sqlite3 {sqlite:.1f}, django_duckdb {duck:.1f}")
    print(f"ratio duckdb/sqlite: {duck / sqlite:.2f} (goal >= 0.8)")


if __name__ == "__main__":
    main()
