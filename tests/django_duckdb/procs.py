"""
Small programs run as separate processes by the multi-process tests:

    python -m tests.django_duckdb.procs write <count> <label> [pause]
    python -m tests.django_duckdb.procs hold <seconds>
    python -m tests.django_duckdb.procs serve <seconds> <threads>
    python -m tests.django_duckdb.procs idle <seconds>
    python -m tests.django_duckdb.procs count

They use tests.django_duckdb.settings_standalone (DUCKDB_TEST_NAME is the file)
and print one JSON line with what happened.
"""

import json
import os
import sys
import time

import django


def write(count, label, pause=0.0):
    """Insert rows and move them through a conditional update, like a worker."""
    from django.db import OperationalError, close_old_connections, transaction

    from tests.django_duckdb.testapp.models import Job, Person

    errors = []
    owner = None
    for _attempt in range(50):
        try:
            owner, _ = Person.objects.get_or_create(username=label, defaults={"email": f"{label}@example.org"})
            break
        except OperationalError as exc:  # a concurrent first insert conflicted
            errors.append(("owner", str(exc)[:200]))
            time.sleep(0.05)
    errors.clear()
    for _ in range(count):
        try:
            with transaction.atomic():
                job = Job.objects.create(owner=owner, worker=label)
                Job.objects.filter(pk=job.pk, status="queued").update(status="done")
        except Exception as exc:  # reported, the test fails on any
            errors.append((type(exc).__name__, str(exc)[:300]))
        # Like a request or a task ending: give the connection back.
        close_old_connections()
        if pause:
            time.sleep(pause)
    print(json.dumps({"pid": os.getpid(), "errors": errors}))


def hold(seconds):
    """Keep the database file open (a transaction in progress) for a while."""
    from django.db import connection, transaction

    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM testapp_job")
        print(json.dumps({"pid": os.getpid(), "holding": True}), flush=True)
        time.sleep(seconds)


def serve(seconds, threads):
    """A web server's worth of load: threads running the request mix."""
    import threading

    from django.test import Client

    from tests.django_duckdb.testapp.models import Person

    user, _ = Person.objects.get_or_create(username="web", defaults={"email": "web@example.org"})
    login = Client()
    login.force_login(user)
    errors, counts = [], []
    stop = time.monotonic() + seconds

    def run():
        client = Client()
        client.cookies = login.cookies
        done = 0
        while time.monotonic() < stop:
            try:
                response = client.get("/bench/request/")
                if response.status_code != 200:
                    errors.append(f"status {response.status_code}")
            except Exception as exc:
                errors.append(f"{type(exc).__name__}: {str(exc)[:300]}")
            done += 1
        counts.append(done)

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    print(json.dumps({"pid": os.getpid(), "requests": sum(counts), "errors": errors}))


def idle(seconds):
    """One query, then stay alive without touching the database."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM testapp_job")
    print(json.dumps({"pid": os.getpid(), "queried": True}), flush=True)
    time.sleep(seconds)


def count():
    from django.db import connection

    from tests.django_duckdb.testapp.models import Job

    result = {
        "jobs": Job.objects.count(),
        "done": Job.objects.filter(status="done").count(),
        "by_worker": dict(Job.objects.values_list("worker").annotate(n=django.db.models.Count("id"))),
    }
    connection.close()
    print(json.dumps(result))


if __name__ == "__main__":
    django.setup()
    command, *args = sys.argv[1:]
    if command == "write":
        write(int(args[0]), args[1], float(args[2]) if len(args) > 2 else 0.0)
    elif command == "hold":
        hold(float(args[0]))
    elif command == "serve":
        serve(float(args[0]), int(args[1]))
    elif command == "idle":
        idle(float(args[0]))
    elif command == "count":
        count()
    else:
        raise SystemExit(f"unknown command {command!r}")
