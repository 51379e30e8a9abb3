"""
Small programs run as separate processes by the multi-process tests:

    python -m tests.django_duckdb.procs write <count> <label> [pause]
    python -m tests.django_duckdb.procs hold <seconds>
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
    for attempt in range(50):
        try:
            owner, _ = Person.objects.get_or_create(
                username=label, defaults={"email": f"{label}@example.org"}
            )
            break
        except OperationalError as exc:  # a concurrent first insert conflicted
            errors.append(("owner", str(exc)[:200]))
            time.sleep(0.05)
    errors.clear()
    for i in range(count):
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


def count():
    from django.db import connection

    from tests.django_duckdb.testapp.models import Job

    result = {
        "jobs": Job.objects.count(),
        "done": Job.objects.filter(status="done").count(),
        "by_worker": dict(
            Job.objects.values_list("worker").annotate(n=django.db.models.Count("id"))
        ),
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
    elif command == "count":
        count()
    else:
        raise SystemExit(f"unknown command {command!r}")
