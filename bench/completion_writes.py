"""What finishing a text request's history row costs the database step, on DuckDB.

    .venv/bin/python bench/completion_writes.py [--rows 1 2 3] [--rounds 10] [--per-round 150]

A fresh DuckDB file under a temporary DATA_DIR is migrated, and pending generation rows
are made. Then, rounds alternating, batches of ``--rows`` rows are completed with the
values a completion writes (status, finish time, text, html, provider id, finish
reason, tokens) two ways: ``core.db.update_rows`` (what the text pipeline runs), and,
as the baseline measured in the same run, Django's ``QuerySet.update`` per row (what
update_rows ran for batches under ``JOINED_UPDATE_FROM`` before). Each batch is one
step's work, as the database-step thread runs it.

Prints, per batch size, the median over rounds of CPU time (this process's, from
``resource``) and wall time per row for each way, and the ratio update_rows/baseline.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(args: argparse.Namespace) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from accounts.models import User
    from core.db import update_rows
    from generation.models import Generation

    call_command("migrate", verbosity=0, interactive=False)
    owner = User.objects.create_user(email="bench@example.com", password="a-long-bench-password")
    needed = sum(args.rows) * args.per_round * args.rounds * 2
    Generation.objects.bulk_create(
        [
            Generation(owner=owner, kind="text", model_id="openai/gpt-4o-mini", prompt="hi", status="pending")
            for _ in range(needed)
        ]
    )
    pending = iter(Generation.objects.order_by("pk").values_list("pk", flat=True))

    def values(index: int) -> dict:
        return {
            "status": "completed",
            "finished_at": timezone.now(),
            "text": f"Offline answer {index}",
            "html": f"<p>Offline answer {index}</p>",
            "provider_id": f"gen-{index}",
            "finish_reason": "stop",
            "prompt_tokens": 5,
            "completion_tokens": 20,
            "total_tokens": 25,
        }

    def with_update_rows(keys: list[int]) -> int:
        return len(update_rows(Generation, {key: values(key) for key in keys}, where={"status": "pending"}))

    def per_row_orm(keys: list[int]) -> int:
        return sum(Generation._base_manager.filter(pk=key, status="pending").update(**values(key)) for key in keys)

    ways = {"update_rows": with_update_rows, "QuerySet.update per row": per_row_orm}
    print(f"DuckDB, {args.rounds} rounds of {args.per_round} batches per way, alternating; ms per row written")
    for size in args.rows:
        figures: dict[str, list[tuple[float, float]]] = {name: [] for name in ways}
        for _ in range(args.rounds):
            for name, way in ways.items():
                batches = [[next(pending) for _ in range(size)] for _ in range(args.per_round)]
                wall, cpu = time.perf_counter(), cpu_seconds()
                for batch in batches:
                    if way(batch) != size:
                        raise SystemExit(f"{name} did not write every row of a batch")
                rows = size * args.per_round
                figures[name].append(((cpu_seconds() - cpu) * 1000 / rows, (time.perf_counter() - wall) * 1000 / rows))
        medians = {name: [statistics.median(f[i] for f in runs) for i in (0, 1)] for name, runs in figures.items()}
        (ours_cpu, ours_wall), (base_cpu, base_wall) = medians.values()
        print(
            f"batches of {size}: update_rows CPU {ours_cpu:.3f} (wall {ours_wall:.3f}), "
            f"QuerySet.update per row CPU {base_cpu:.3f} (wall {base_wall:.3f}); "
            f"ratio CPU x{ours_cpu / base_cpu:.2f}, wall x{ours_wall / base_wall:.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="+", default=[1, 2, 3], help="rows per batch")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--per-round", type=int, default=150, help="batches per way and round")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        measure(args)
        return
    with tempfile.TemporaryDirectory(prefix="completion-writes-") as data_dir:
        # A process of its own, on a store of its own: the settings read DATA_DIR at start.
        env = {name: value for name, value in os.environ.items() if name != "DATABASE_URL"}
        env.update(DJANGO_SETTINGS_MODULE="config.settings", DATA_DIR=data_dir, PYTHONPATH=str(ROOT))
        command = [
            sys.executable,
            __file__,
            "--child",
            "--rounds",
            str(args.rounds),
            "--per-round",
            str(args.per_round),
        ]
        subprocess.run([*command, "--rows", *map(str, args.rows)], cwd=ROOT, env=env, check=True)


if __name__ == "__main__":
    main()
