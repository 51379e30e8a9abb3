"""Prometheus metrics: the counters and histograms other code moves through one-line hooks,
kept multiprocess-safe (prometheus-client's multiprocess mode: each process writes its own
files under PROMETHEUS_MULTIPROC_DIR, set by config/startup.py, and a scrape adds them up).

Imports nothing of the project, so any module (core/ included) may call a hook. Figures
that are a state of the database (video jobs by state, generations by outcome) are read at
scrape time by operations.collectors instead.
"""

from __future__ import annotations

import fcntl
import glob
import os
import re

from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.mmap_dict import MmapedDict

# Seconds: web requests and provider calls range from a few ms (a page) to minutes (a video
# download); the database-step wait should stay in the low milliseconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
WAIT_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)

REQUESTS = Counter(
    "studio_http_requests_total",
    "Web requests answered, by route (the URL pattern's name), method and status.",
    ["route", "method", "status"],
)
REQUEST_SECONDS = Histogram(
    "studio_http_request_duration_seconds",
    "Time to answer a web request (a stream: until its headers), by route.",
    ["route", "method"],
    buckets=LATENCY_BUCKETS,
)
STREAMS = Gauge(
    "studio_streams_in_flight",
    "Event streams (text/event-stream answers) being sent now, by route.",
    ["route"],
    multiprocess_mode="livesum",
)
PROVIDER_CALLS = Counter(
    "studio_provider_calls_total",
    "HTTP exchanges with the provider, by endpoint and outcome (ok, or the error's kind).",
    ["endpoint", "outcome"],
)
PROVIDER_SECONDS = Histogram(
    "studio_provider_call_duration_seconds",
    "Time of one exchange with the provider (a stream: until its headers), by endpoint.",
    ["endpoint"],
    buckets=LATENCY_BUCKETS,
)
BUDGET_REFUSALS = Counter(
    "studio_budget_refusals_total",
    "Requests refused with 402: by kind (text, image, video) and reason (budget: it could pass the "
    "owner's budget; price_unknown: the model's price is not known, so it cannot be checked).",
    ["kind", "reason"],
)
DB_STEP_WAIT = Histogram(
    "studio_db_step_wait_seconds",
    "Time an async request's database step waited for a thread of the pool (core.db.in_db).",
    buckets=WAIT_BUCKETS,
)


def request_finished(*, route: str, method: str, status: int, seconds: float) -> None:
    REQUESTS.labels(route, method, str(status)).inc()
    REQUEST_SECONDS.labels(route, method).observe(seconds)


def stream_started(*, route: str) -> None:
    STREAMS.labels(route).inc()


def stream_ended(*, route: str) -> None:
    STREAMS.labels(route).dec()


def provider_call(*, endpoint: str, outcome: str, seconds: float) -> None:
    PROVIDER_CALLS.labels(endpoint, outcome).inc()
    PROVIDER_SECONDS.labels(endpoint).observe(seconds)


def budget_refused(*, kind: str, reason: str) -> None:
    BUDGET_REFUSALS.labels(kind or "unknown", reason).inc()


def db_step_waited(seconds: float) -> None:
    DB_STEP_WAIT.observe(max(seconds, 0.0))


# ------------------------------------------------------------------ files of dead processes

_PID_FILE = re.compile(r"^(?P<type>[a-z]+)_(?:(?P<mode>[a-z]+)_)?(?P<pid>\d+)\.db$")
ARCHIVE = "archive"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def compact_dead_processes(folder: str | None = None) -> int:
    """Fold the files of processes that are gone into one archive file per type, so the
    folder does not grow with every restart and totals never go backwards; drop their live
    gauges (a dead process has no stream in flight). Returns how many files were folded.

    Serialised by a lock file: web processes and the worker may start together."""
    folder = folder or os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not folder or not os.path.isdir(folder):
        return 0
    folded = 0
    with open(os.path.join(folder, ".compact.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for path in sorted(glob.glob(os.path.join(folder, "*.db"))):
            match = _PID_FILE.match(os.path.basename(path))
            if not match or _alive(int(match["pid"])):
                continue
            kind = match["type"]
            if kind in ("counter", "histogram"):
                archive = MmapedDict(os.path.join(folder, f"{kind}_{ARCHIVE}.db"))
                try:
                    for key, value, timestamp, _ in MmapedDict.read_all_values_from_file(path):
                        archive.write_value(key, archive.read_value(key)[0] + value, timestamp)
                finally:
                    archive.close()
            # Gauges (live, or per process) of a dead process say nothing about now.
            os.remove(path)
            folded += 1
    return folded
