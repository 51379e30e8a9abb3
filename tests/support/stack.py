"""A whole Studio stack as real processes, for the integration tests and the benchmarks.

The web app (started with the command of the Procfile's ``web:`` line, so the stack runs
what ``make run`` runs), a Celery worker (threads pool) and Celery beat run as
separate processes on one store (a DuckDB file they take turns on, or a PostgreSQL
database) and one broker (Kombu's filesystem transport under the stack's DATA_DIR, or
the Redis of CELERY_BROKER_URL with a queue of the stack's own). The offline OpenRouter
double is served from the calling process, so callers can see what the provider got.
Callers talk to the stack over HTTP only.

    with FakeOpenRouter(video_duration=3) as fake, Stack(tmp_dir, fake=fake) as stack:
        stack.prepare(users=[("a@example.com", "pw")])
        stack.start()
        api = stack.api("a@example.com", "pw")
        api.post(stack.url("/api/generate/video"), json={...})
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


_VARIABLE = re.compile(
    r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}"
    r"|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))"
)


def procfile_command(name: str, env: dict, procfile: Path = ROOT / "Procfile") -> list[str]:
    """The argv of the Procfile line ``name:``, with ``$VAR``, ``${VAR}`` and
    ``${VAR:-default}`` taken from ``env`` (as the shell honcho runs it would), and a
    relative program path made absolute under the project root."""
    for line in procfile.read_text().splitlines():
        key, sep, command = line.partition(":")
        if sep and key.strip() == name and not key.lstrip().startswith("#"):
            break
    else:
        raise RuntimeError(f"{procfile} has no {name!r} line")

    def substitute(match: re.Match) -> str:
        variable = match["braced"] or match["plain"]
        value = env.get(variable, "")
        if value == "" and match["default"] is not None:
            return match["default"]
        if variable not in env:
            raise RuntimeError(f"{procfile} line {name!r} needs ${variable}, which is not set")
        return value

    args = shlex.split(_VARIABLE.sub(substitute, command))
    if "/" in args[0] and not os.path.isabs(args[0]):
        args[0] = str(ROOT / args[0])
    return args


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def fresh_store(data_dir: Path):
    """DATABASE_URL of a new, empty store of the kind the environment selects: a DuckDB file
    under ``data_dir`` by default, a new PostgreSQL database when DATABASE_URL is postgres."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        yield {"DATABASE_URL": f"duckdb:///{data_dir / 'studio.duckdb'}"}
        return
    from urllib.parse import urlsplit, urlunsplit

    import psycopg

    parts = urlsplit(url)
    name = f"studio_video_{uuid.uuid4().hex[:10]}"
    admin = urlunsplit(parts._replace(path="/postgres", query=""))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield {"DATABASE_URL": urlunsplit(parts._replace(path=f"/{name}"))}
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Stack:
    """Web, worker and beat processes of one Studio installation (see the module docstring)."""

    def __init__(
        self,
        data_dir: Path,
        *,
        fake,
        store_env: dict | None = None,
        env: dict | None = None,
        worker_concurrency: int = 4,
        web_concurrency: int = 1,
        web_env: dict | None = None,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.logs = self.data_dir / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.fake = fake
        self.port = free_port()
        self.queue = f"studio-video-{uuid.uuid4().hex[:8]}"
        self.worker_concurrency = worker_concurrency
        self.web_concurrency = web_concurrency
        # Only the web process's, over ``env`` (e.g. a queue no worker reads).
        self.web_env = web_env or {}
        self.processes: dict[str, subprocess.Popen] = {}
        self._log_files: list = []
        self._store_cm = None
        store_env = store_env
        if store_env is None:
            self._store_cm = fresh_store(self.data_dir)
            store_env = self._store_cm.__enter__()
        self.env = {
            **os.environ,
            # The processes run as `make run` runs them, whatever settings the caller uses.
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATA_DIR": str(self.data_dir),
            **store_env,
            "SECRET_KEY": "video-stack-" + uuid.uuid4().hex * 2,
            "DEBUG": "false",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "PORT": str(self.port),
            # Read by the Procfile's web line (uvicorn's worker processes).
            "WEB_CONCURRENCY": str(web_concurrency),
            "OPENROUTER_BASE_URL": fake.base_url,
            "OPENROUTER_API_KEY": "stack-test-key",
            "OPENROUTER_READ_TIMEOUT": "30",
            "CELERY_TASK_DEFAULT_QUEUE": self.queue,
            "THROTTLE_GENERATION": "100000/min",
            # Quick enough for tests; each can be overridden through ``env``.
            "VIDEO_POLL_INTERVAL": "1",
            "VIDEO_SWEEP_INTERVAL": "2",
            "VIDEO_SWEEP_GRACE": "2",
            "VIDEO_TASK_LEASE": "20",
            "VIDEO_RETRY_BACKOFF": "1",
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }

    # ------------------------------------------------------------------ set-up

    def manage(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result

    def prepare(
        self,
        *,
        users: Sequence[tuple[str, str]] = (),
        admins: Sequence[tuple[str, str]] = (),
        extra_models: dict[str, str] | None = None,
    ) -> None:
        """Migrate, fill the catalogue from the double, create users and administrators,
        and add catalogue entries ``{new id: copied from id}`` (e.g. fault-marked models).
        Before start(): on DuckDB one process at a time holds the file."""
        self.manage("migrate", "--noinput", "--verbosity", "0")
        self.manage("sync_models")
        script = ["from accounts.models import User", "from catalogue.models import ProviderModel"]
        for email, password in users:
            script.append(f"User.objects.create_user({email!r}, {password!r})")
        for email, password in admins:
            script.append(f"User.objects.create_superuser({email!r}, {password!r})")
        for new_id, base in (extra_models or {}).items():
            script.append(f"m = ProviderModel.objects.get(pk={base!r}); m.pk = {new_id!r}; m.save(force_insert=True)")
        self.manage("shell", "-c", "; ".join(script))

    # ------------------------------------------------------------------ processes

    def _spawn(self, name: str, args: list[str], env: dict | None = None) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "ab")
        self._log_files.append(log)
        process = subprocess.Popen(
            args, cwd=ROOT, env=env or self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.processes[name] = process
        return process

    def start(self) -> None:
        self.start_web()
        self.start_worker()
        self.start_beat()
        self.wait_until_healthy()

    def start_web(self) -> None:
        """The web server exactly as the Procfile's ``web:`` line starts it, on this stack's
        PORT and WEB_CONCURRENCY (from the constructor, or ``env``)."""
        self._spawn("web", self.web_command(), {**self.env, **self.web_env})

    def web_command(self) -> list[str]:
        return procfile_command("web", {**self.env, **self.web_env})

    def start_web_only(self) -> None:
        """Only the web process (no worker, no beat): enough for text and images."""
        self.start_web()
        self.wait_until_healthy()

    def start_worker(self, name: str = "worker") -> None:
        log_path = self.logs / f"{name}.log"
        start = log_path.stat().st_size if log_path.exists() else 0
        self._spawn(
            name,
            [
                str(BIN / "celery"),
                "-A",
                "config",
                "worker",
                "--pool",
                "threads",
                "--concurrency",
                str(self.worker_concurrency),
                "--loglevel",
                "INFO",
                "-n",
                f"{self.queue}-{uuid.uuid4().hex[:6]}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
        )
        self._wait_for_log(name, "ready.", start)

    def start_beat(self) -> None:
        self._spawn(
            "beat",
            [
                str(BIN / "celery"),
                "-A",
                "config",
                "beat",
                "--loglevel",
                "INFO",
                "--schedule",
                str(self.data_dir / "celerybeat-schedule"),
            ],
        )
        self._wait_for_log("beat", "beat: Starting", 0)

    def kill(self, name: str) -> None:
        """SIGKILL a process and everything it started: no warm shutdown, nothing handed back."""
        process = self.processes.pop(name)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)

    def stop(self, name: str) -> None:
        process = self.processes.pop(name)
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=30)

    def _wait_for_log(self, name: str, text: str, offset: int, timeout: float = 90) -> None:
        path = self.logs / f"{name}.log"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if path.exists() and text in path.read_bytes()[offset:].decode(errors="replace"):
                return
            if self.processes[name].poll() is not None:
                raise RuntimeError(f"{name} exited:\n{self.log_tail(name)}")
            time.sleep(0.2)
        raise RuntimeError(f"{name} did not log {text!r} within {timeout} s:\n{self.log_tail(name)}")

    def wait_until_healthy(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        last: object = None
        while time.monotonic() < deadline:
            try:
                response = requests.get(self.url("/healthz"), timeout=5)
                if response.status_code == 200:
                    return
                last = response
            except requests.RequestException as exc:
                last = exc
            if self.processes["web"].poll() is not None:
                break
            time.sleep(0.3)
        raise RuntimeError(f"web is not healthy ({last}):\n{self.log_tail('web')}")

    def log_tail(self, name: str | None = None, chars: int = 4000) -> str:
        names = [name] if name else sorted(p.stem for p in self.logs.glob("*.log"))
        parts = []
        for each in names:
            path = self.logs / f"{each}.log"
            if path.exists():
                parts.append(f"----- {each} -----\n" + path.read_bytes()[-chars:].decode(errors="replace"))
        return "\n".join(parts)

    # ------------------------------------------------------------------ HTTP

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def api(self, email: str, password: str) -> requests.Session:
        """A session that sends the user's JWT access token."""
        session = requests.Session()
        response = session.post(self.url("/api/auth/login"), json={"email": email, "password": password}, timeout=30)
        response.raise_for_status()
        session.headers["Authorization"] = f"Bearer {response.json()['access']}"
        return session

    def wait_for_status(self, api: requests.Session, job_id: int, statuses, timeout: float = 90) -> dict:
        """Poll the status endpoint until the job is in one of ``statuses``; its body."""
        statuses = {statuses} if isinstance(statuses, str) else set(statuses)
        deadline = time.monotonic() + timeout
        body = None
        while time.monotonic() < deadline:
            body = api.get(self.url(f"/api/generate/video/{job_id}/status"), timeout=30).json()
            if body.get("status") in statuses:
                return body
            time.sleep(0.25)
        raise AssertionError(f"job {job_id} not {statuses} within {timeout} s (last: {body})\n{self.log_tail()}")

    # ------------------------------------------------------------------ teardown

    def close(self) -> None:
        for name in list(self.processes):
            try:
                self.stop(name)
            except Exception:  # noqa: BLE001 - keep stopping the others
                pass
        for log in self._log_files:
            log.close()
        broker = self.env.get("CELERY_BROKER_URL", "")
        if broker.startswith("redis://"):
            try:
                import redis

                client = redis.Redis.from_url(broker)
                queues = {self.env["CELERY_TASK_DEFAULT_QUEUE"], self.web_env.get("CELERY_TASK_DEFAULT_QUEUE")}
                for queue in queues - {None}:
                    client.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
            except Exception:  # noqa: BLE001 - best effort
                pass
        if self._store_cm is not None:
            self._store_cm.__exit__(None, None, None)

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def timed_fake(*, poll_delay: float = 0.0, **kwargs):
    """A FakeOpenRouter that notes when each job was submitted (by prompt) and when each
    poll arrived (by job id), and answers each poll after ``poll_delay`` seconds."""
    import threading

    from openrouter.fake import FakeOpenRouter

    class TimedFake(FakeOpenRouter):
        def __init__(self, **options):
            super().__init__(**options)
            self.submitted_at: dict[str, float] = {}
            self.polled_at: dict[str, list[float]] = {}
            self._times = threading.Lock()

        def new_job(self, model, fault, body):
            job = super().new_job(model, fault, body)
            with self._times:
                self.submitted_at[body.get("prompt")] = time.monotonic()
            return job

        def job_state(self, job):
            with self._times:
                self.polled_at.setdefault(job.id, []).append(time.monotonic())
            if poll_delay:
                time.sleep(poll_delay)
            return super().job_state(job)

    return TimedFake(**kwargs)


def percentile(values, fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]
