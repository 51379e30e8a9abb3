"""Settings for bench/video_status_throughput.py: the project's, plus a trivial JSON view
on the same server to compare the status endpoint with."""

from config.settings import *  # noqa: F401,F403

ROOT_URLCONF = "bench.video_bench_urls"
