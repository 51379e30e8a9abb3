"""What a web process keeps of a request's reads (core.changes: the key's owner, the budget
limits, the catalogue entry) never outlives a change: a revoked key, a deactivated owner, a
lowered budget, a disabled model apply to the very next request, whether the change was
made in this process or in another one.

Served by uvicorn (as `make run` serves it) through the database-step pool, on the test
database; the "another process" cases change the rows with a statement no hook sees (as
another process's write looks to this one) and move the installation's change counter from
a separate Python process, as that process's services would."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.db.backends import utils
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

from accounts.api_keys import ApiKey, api_key_revoke
from billing.models import UserBudget
from billing.services import limits_update
from catalogue.models import ProviderModel
from catalogue.services import model_access_update
from core import changes
from tests.conftest import require_service
from tests.support.v1 import PRICED_MODEL
from tests.support.v1 import ask_chat as ask

pytestmark = pytest.mark.django_db(transaction=True)

MODEL = PRICED_MODEL
ROOT = Path(__file__).resolve().parents[2]
WRITE = re.compile(r'^(?:INSERT INTO|UPDATE) "(\w+)"')


def ask_each_way(base: str, secret: str, *, emptying: list) -> Iterator[bool]:
    """A whole request, then a streamed one, each once ``emptying`` is emptied; yields
    (whether it streamed) when each has finished."""
    for stream in (False, True):
        emptying.clear()
        answer = ask(base, secret, stream=stream)
        assert answer.status_code == 200, answer.text
        time.sleep(0.2)  # the streamed row is finished after the last event
        yield stream


def move_counter_from_another_process() -> None:
    """The installation's counter moved by a separate Python process, as another web process
    (or another machine's, through Redis) moves it."""
    script = (
        "import sys; from core.changes import counter_at; "
        "counter_at(data_dir=sys.argv[1], cache_url=sys.argv[2], key=sys.argv[3]).move()"
    )
    arguments = [str(settings.DATA_DIR), settings.CACHE_URL, settings.CHANGES_KEY]
    subprocess.run([sys.executable, "-c", script, *arguments], cwd=ROOT, check=True, timeout=60)


@pytest.fixture(autouse=True)
def own_counter(settings, tmp_path):
    """A change counter of this test's own (a file under its own DATA_DIR, or its own Redis
    key): other test runs sharing the project's DATA_DIR or Redis move theirs, which would
    make this process read again when a test says it must not."""
    settings.DATA_DIR = tmp_path
    settings.CHANGES_KEY = f"studio:changes:test:{tmp_path.name}"


@pytest.fixture
def statements():
    """Every statement any thread of this process runs (the pool's threads included)."""
    seen: list[str] = []
    original = utils.CursorWrapper._execute_with_wrappers

    def counting(self, sql, params, many, executor):
        seen.append(sql)
        return original(self, sql, params, many, executor)

    utils.CursorWrapper._execute_with_wrappers = counting
    yield seen
    utils.CursorWrapper._execute_with_wrappers = original


def test_a_request_after_the_first_reads_no_key_budget_or_catalogue_row(served, statements):
    base, _, secret = served
    assert ask(base, secret).status_code == 200
    for _ in ask_each_way(base, secret, emptying=statements):
        tables = [match[1] for sql in statements if (match := WRITE.match(sql))]
        reads = [sql for sql in statements if sql.startswith("SELECT")]
        assert reads == [], reads
        # What every request writes: its history row, pending then finished.
        assert tables == ["generations", "generations"], statements


def test_a_lone_request_writes_its_rows_without_opening_a_transaction(served, monkeypatch) -> None:
    """Each of its two writes is one statement, a transaction of its own: a BEGIN and a
    COMMIT around it would cost two more statements (DuckDB) or round trips (PostgreSQL)."""
    base, _, secret = served
    assert ask(base, secret).status_code == 200
    opened: list[str] = []
    original = BaseDatabaseWrapper.set_autocommit

    def noting(self, autocommit, *args, **kwargs):
        if not autocommit:
            opened.append(threading.current_thread().name)
        return original(self, autocommit, *args, **kwargs)

    monkeypatch.setattr(BaseDatabaseWrapper, "set_autocommit", noting)
    for _ in ask_each_way(base, secret, emptying=opened):
        assert opened == []


@pytest.fixture
def counter_readings(monkeypatch) -> list[int]:
    """Every reading of the installation's change counter, on either store."""
    readings: list[int] = []
    for kind in (changes.SharedCounter, changes.RedisCounter):

        def counting(self, original=kind.value):
            value = original(self)
            readings.append(value)
            return value

        monkeypatch.setattr(kind, "value", counting)
    return readings


def test_a_request_reads_the_change_counter_once(served, counter_readings):
    base, _, secret = served
    assert ask(base, secret).status_code == 200
    for _ in ask_each_way(base, secret, emptying=counter_readings):
        # The key's owner, the budget limits and the catalogue entry: kept, checked once.
        assert len(counter_readings) == 1, counter_readings


def test_a_request_that_changes_a_kept_value_reads_it_afresh_after_the_change(settings, tmp_path):
    from accounts.api_keys import _kept_keys

    token = changes.request_began()
    try:
        stamp = _kept_keys.stamp()
        _kept_keys.put("a key", "its owner", stamp)
        assert _kept_keys.get("a key") == "its owner"
        changes.changed()  # outside a transaction: the counter moves once, at once
        assert _kept_keys.get("a key") is None
    finally:
        changes.request_ended(token)
        _kept_keys.clear()


def test_a_revoked_key_is_refused_at_the_next_request(served, user):
    base, key, secret = served
    assert ask(base, secret).status_code == 200
    api_key_revoke(key_id=key.pk, by=user)
    answer = ask(base, secret)
    assert answer.status_code == 401
    assert "revoked" in answer.json()["error"]["message"]


def test_a_deactivated_owner_is_refused_at_the_next_request(served, user):
    base, _, secret = served
    assert ask(base, secret).status_code == 200
    user.is_active = False
    user.save()
    assert ask(base, secret).status_code == 401


def test_a_lowered_budget_applies_to_the_next_request(served, user):
    base, _, secret = served
    limits_update(user=user, daily_budget_usd=Decimal("5"), monthly_budget_usd=None)
    assert ask(base, secret).status_code == 200
    limits_update(user=user, daily_budget_usd=Decimal("0"), monthly_budget_usd=None)
    answer = ask(base, secret)
    assert answer.status_code == 402, answer.text


def test_a_disabled_model_is_refused_at_the_next_request(served, admin_user):
    base, _, secret = served
    assert ask(base, secret).status_code == 200
    model_access_update(model=ProviderModel.objects.get(pk=MODEL), enabled=False)
    answer = ask(base, secret)
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "model_not_found"


def test_a_key_revoked_by_another_process_is_refused_at_the_next_request(served):
    base, key, secret = served
    assert ask(base, secret).status_code == 200
    ApiKey.objects.filter(pk=key.pk).update(revoked_at=timezone.now(), revoked_reason=ApiKey.RevokeReason.ADMIN)
    # Unseen by this process until the counter moves: the key is kept (and the test can fail).
    assert ask(base, secret).status_code == 200
    move_counter_from_another_process()
    assert ask(base, secret).status_code == 401


def test_a_budget_lowered_by_another_process_applies_to_the_next_request(served, user):
    base, _, secret = served
    limits_update(user=user, daily_budget_usd=Decimal("5"), monthly_budget_usd=None)
    assert ask(base, secret).status_code == 200
    UserBudget.objects.filter(pk=user.pk).update(daily_budget_usd=Decimal("0"))
    assert ask(base, secret).status_code == 200
    move_counter_from_another_process()
    assert ask(base, secret).status_code == 402


def test_a_model_disabled_by_another_process_is_refused_at_the_next_request(served):
    base, _, secret = served
    assert ask(base, secret).status_code == 200
    ProviderModel.objects.filter(pk=MODEL).update(enabled=False)
    move_counter_from_another_process()
    assert ask(base, secret).status_code == 404


@pytest.mark.parametrize("cache_url", ["", "redis"])
def test_the_counter_is_shared_by_the_processes_of_the_installation(tmp_path, cache_url):
    """DATA_DIR's file on one machine; a Redis key when the cache is Redis (several machines)."""
    if cache_url == "redis":
        require_service("Redis", "127.0.0.1", 6379)
        cache_url = settings.CACHE_URL if settings.CACHE_URL.startswith("redis") else "redis://127.0.0.1:6379/13"
    key = f"studio:changes:test:{tmp_path.name}"
    here = changes.counter_at(data_dir=tmp_path, cache_url=cache_url, key=key)
    before = here.value()
    script = (
        "import sys; from core.changes import counter_at; "
        "counter_at(data_dir=sys.argv[1], cache_url=sys.argv[2], key=sys.argv[3]).move()"
    )
    for _ in range(3):
        subprocess.run([sys.executable, "-c", script, str(tmp_path), cache_url, key], cwd=ROOT, check=True, timeout=60)
    assert here.value() == before + 3


def test_a_token_of_ended_sessions_is_refused_at_the_next_request(served, user):
    from accounts.tokens import access_token_for, user_sessions_end

    base, _, _ = served
    token = str(access_token_for(user=user))
    body = {"model": MODEL, "prompt": "hi", "max_tokens": 8}

    def generate() -> requests.Response:
        return requests.post(
            f"{base}/api/generate/text", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )

    assert generate().status_code in (200, 201)
    user_sessions_end(user=user)
    assert generate().status_code == 401


def test_a_deactivated_users_token_is_refused_at_the_next_request(served, user):
    from accounts.tokens import access_token_for

    base, _, _ = served
    token = str(access_token_for(user=user))
    body = {"model": MODEL, "prompt": "hi", "max_tokens": 8}

    def generate() -> requests.Response:
        return requests.post(
            f"{base}/api/generate/text", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )

    assert generate().status_code in (200, 201)
    user.is_active = False
    user.save()
    assert generate().status_code == 401


def test_a_kept_key_is_checked_on_the_event_loop_and_a_new_one_in_a_database_step(served, monkeypatch):
    """Authentication that reads nothing (the key kept, its use noted within the minute,
    throttles in this process's memory) is not handed to a database-step thread."""
    from accounts import authentication

    base, _, secret = served
    threads: list[str] = []
    real = authentication.api_key_authenticate

    def recording(*args, **kwargs):
        threads.append(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(authentication, "api_key_authenticate", recording)
    in_memory = settings.CACHES["default"]["BACKEND"].endswith("LocMemCache")
    assert ask(base, secret).status_code == 200  # first read of the key: a database step
    assert ask(base, secret).status_code == 200
    assert threads[0].startswith("db-step")
    assert not threads[1].startswith("db-step") if in_memory else threads[1].startswith("db-step")


def test_a_token_whose_user_was_read_ahead_is_checked_on_the_event_loop(served, user, monkeypatch):
    """A JWT's user is read ahead on the event loop (with concurrent requests' users), so
    authentication itself reads nothing and is not handed to a database-step thread."""
    from accounts.authentication import VersionedJWTAuthentication
    from accounts.tokens import access_token_for

    base, _, _ = served
    token = str(access_token_for(user=user))
    threads: list[str] = []
    real = VersionedJWTAuthentication.authenticate

    def recording(self, request):
        threads.append(threading.current_thread().name)
        return real(self, request)

    monkeypatch.setattr(VersionedJWTAuthentication, "authenticate", recording)
    answer = requests.post(
        f"{base}/api/generate/text",
        json={"model": MODEL, "prompt": "hi", "max_tokens": 8},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert answer.status_code in (200, 201), answer.text
    in_memory = settings.CACHES["default"]["BACKEND"].endswith("LocMemCache")
    assert threads and (not threads[0].startswith("db-step") if in_memory else threads[0].startswith("db-step"))
