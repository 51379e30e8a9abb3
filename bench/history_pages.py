"""What the pages and JSON lists cost with a long history: one person with 10,000
generations (text and image rows over 90 days) and 200 conversations, served by the web
process `make run` starts (tests/support/stack.py, a fresh DuckDB file, or PostgreSQL with
``--postgres-url``).

    .venv/bin/python bench/history_pages.py [--rows 10000] [--requests 60]

Each path is asked ``--requests`` times in turn, sequentially, on one keep-alive session
(pages with the person's web session, the JSON lists with a JWT), after a few warm-up
requests. Prints p50/p95 per path and each p50's ratio to ``/healthz`` measured in the
same rounds (the machine's noise moves both). Every answer must be a 200.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from openrouter.fake import FakeOpenRouter  # noqa: E402
from tests.support.stack import Stack, percentile  # noqa: E402

EMAIL, PASSWORD = "history-bench@example.com", "a-long-bench-password-1"
PAGES = ["/history", "/gallery", "/usage", "/conversations"]
LISTS = ["/api/generations", "/api/conversations", "/api/usage"]

SEED = """
import random
from datetime import timedelta
from decimal import Decimal
from django.utils import timezone
from accounts.models import User
from conversations.models import Conversation
from generation.models import Generation

user = User.objects.get(email={email!r})
now = timezone.now()
rng = random.Random(7)
rows = []
for i in range({rows}):
    kind = Generation.Kind.IMAGE if i % 5 == 0 else Generation.Kind.TEXT
    created = now - timedelta(minutes=rng.randrange(90 * 24 * 60))
    rows.append(Generation(
        owner=user, kind=kind, model_id="openai/gpt-4o-mini", prompt=f"prompt number {{i}} about things",
        status=Generation.Status.COMPLETED, text="" if kind == Generation.Kind.IMAGE else "an answer " * 20,
        prompt_tokens=12, completion_tokens=40, total_tokens=52, cost=Decimal("0.00012"),
        created_at=created, finished_at=created + timedelta(seconds=2),
    ))
Generation.objects.bulk_create(rows, batch_size=1000)
Conversation.objects.bulk_create(
    [Conversation(owner=user, title=f"Conversation {{i}}", model_id="openai/gpt-4o-mini") for i in range(200)]
)
"""


def web_session(stack: Stack) -> requests.Session:
    session = requests.Session()
    form = session.get(stack.url("/login"), timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
    assert token, "no CSRF token on /login"
    answer = session.post(
        stack.url("/login"),
        data={"username": EMAIL, "password": PASSWORD, "csrfmiddlewaretoken": token.group(1)},
        headers={"Referer": stack.url("/login")},
        allow_redirects=False,
        timeout=30,
    )
    assert answer.status_code == 302, f"login: {answer.status_code}"
    return session


def timed(session: requests.Session, url: str) -> float:
    started = time.perf_counter()
    answer = session.get(url, timeout=60)
    elapsed = time.perf_counter() - started
    assert answer.status_code == 200, f"{url}: {answer.status_code} {answer.text[:200]}"
    return elapsed * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--postgres-url", default="", help="a PostgreSQL database to use (emptied first)")
    options = parser.parse_args()

    store_env = {"DATABASE_URL": options.postgres_url} if options.postgres_url else None
    with tempfile.TemporaryDirectory(prefix="history-bench-") as tmp, FakeOpenRouter() as fake:
        with Stack(Path(tmp), fake=fake, store_env=store_env) as stack:
            if options.postgres_url:
                stack.manage("flush", "--noinput")
            stack.prepare(users=[(EMAIL, PASSWORD)])
            stack.manage("shell", "-c", SEED.format(email=EMAIL, rows=options.rows), timeout=600)
            stack.start_web_only()
            web, api = web_session(stack), stack.api(EMAIL, PASSWORD)
            plain = requests.Session()
            targets = [("/healthz", plain)] + [(p, web) for p in PAGES] + [(p, api) for p in LISTS]
            times: dict[str, list[float]] = {path: [] for path, _ in targets}
            for round_ in range(options.requests + 3):
                for path, session in targets:
                    elapsed = timed(session, stack.url(path))
                    if round_ >= 3:  # warm-up rounds are not counted
                        times[path].append(elapsed)

    store = "PostgreSQL" if options.postgres_url else "DuckDB"
    base = percentile(times["/healthz"], 0.5)
    print(f"{options.rows:,} generations, 200 conversations, {store}, {options.requests} sequential requests each")
    print(f"{'path':<22}{'p50 ms':>9}{'p95 ms':>9}{'p50 / healthz':>15}")
    for path, values in times.items():
        p50, p95 = percentile(values, 0.5), percentile(values, 0.95)
        print(f"{path:<22}{p50:>9.1f}{p95:>9.1f}{p50 / base:>14.1f}x")


if __name__ == "__main__":
    main()
