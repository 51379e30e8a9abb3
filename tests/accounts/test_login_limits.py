"""Login limits that hold under concurrency: attempts counted before any password is hashed,
a bound on the hashes one process runs at once, IPv6 clients grouped by /64, and a growing
delay for an account after too many failures, whatever addresses they come from."""

import threading
import time

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from rest_framework.test import APIClient

from accounts import throttles
from accounts.models import User
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.support.accounts import STRONG_PASSWORD
from tests.support.threads import run_at_once


class CountingHasher(MD5PasswordHasher):
    """A real (fast) hasher that counts the hashes computed and the most run at once,
    each taking ``pause`` seconds so that concurrent requests overlap."""

    algorithm = "counting_md5"
    lock = threading.Lock()
    calls = 0
    running = 0
    most_at_once = 0
    pause = 0.05

    @classmethod
    def reset(cls, pause: float = 0.05) -> None:
        cls.calls = cls.running = cls.most_at_once = 0
        cls.pause = pause

    inside = threading.local()

    def _counted(self, work):
        cls = type(self)
        if getattr(cls.inside, "active", False):  # MD5's verify encodes: one hash, not two
            return work()
        cls.inside.active = True
        with cls.lock:
            cls.calls += 1
            cls.running += 1
            cls.most_at_once = max(cls.most_at_once, cls.running)
        try:
            time.sleep(cls.pause)
            return work()
        finally:
            cls.inside.active = False
            with cls.lock:
                cls.running -= 1

    def encode(self, password, salt):
        return self._counted(lambda: super(CountingHasher, self).encode(password, salt))

    def verify(self, password, encoded):
        return self._counted(lambda: super(CountingHasher, self).verify(password, encoded))


@pytest.fixture
def counting_hasher(settings):
    settings.PASSWORD_HASHERS = ["tests.accounts.test_login_limits.CountingHasher"]
    CountingHasher.reset()
    return CountingHasher


def rates(settings, **scoped):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], **scoped},
    }


def login(address: str, email: str, password: str = "a-wrong-guess"):
    return APIClient(REMOTE_ADDR=address).post("/api/auth/login", {"email": email, "password": password}, format="json")


# ------------------------------------------------------------------ 1: concurrent bursts


@pytest.mark.django_db(transaction=True)
def test_a_concurrent_burst_from_one_address_hashes_at_most_the_limit(settings, counting_hasher):
    """60 failed logins at once from one address, limit 30/min: 30 checked, 30 refused."""
    rates(settings, auth_ip="30/min")
    settings.PASSWORD_CHECKS_WAIT = 30  # this test is about the address limit, not the slots
    answers = run_at_once(*[lambda n=n: login("10.20.0.1", f"nobody{n}@example.com") for n in range(60)])
    statuses = [answer.status_code for answer in answers]
    assert statuses.count(401) == 30 and statuses.count(429) == 30, statuses
    assert counting_hasher.calls == 30
    assert counting_hasher.most_at_once <= settings.PASSWORD_CHECKS_MAX_CONCURRENT
    refused = next(answer for answer in answers if answer.status_code == 429)
    assert 0 < int(refused["Retry-After"]) <= 60
    assert "from this address" in refused.json()["detail"]
    # The right password from another address still signs in.
    user = UserFactory()
    assert login("10.20.0.2", user.email, DEFAULT_PASSWORD).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_password_checks_beyond_the_process_bound_answer_429_not_memory(settings, counting_hasher):
    """From many addresses at once: at most PASSWORD_CHECKS_MAX_CONCURRENT hashes run
    together; whoever waits longer than PASSWORD_CHECKS_WAIT gets 429 with Retry-After."""
    settings.PASSWORD_CHECKS_MAX_CONCURRENT = 2
    settings.PASSWORD_CHECKS_WAIT = 0.1
    counting_hasher.reset(pause=0.5)
    answers = run_at_once(*[lambda n=n: login(f"10.21.0.{n}", f"someone{n}@example.com") for n in range(8)])
    statuses = sorted(answer.status_code for answer in answers)
    assert counting_hasher.most_at_once == 2
    assert statuses.count(401) == counting_hasher.calls >= 2
    busy = [answer for answer in answers if answer.status_code == 429]
    assert busy and all(answer["Retry-After"] == "1" for answer in busy)
    assert "busy" in busy[0].json()["detail"]
    # Nothing counted against the addresses or accounts that were never checked.
    settings.PASSWORD_CHECKS_WAIT = 30
    counting_hasher.reset(pause=0)
    user = UserFactory()
    assert login("10.21.0.0", user.email, DEFAULT_PASSWORD).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_a_concurrent_burst_of_registrations_hashes_at_most_the_limit(settings, counting_hasher):
    rates(settings, auth_ip="10/min")
    settings.PASSWORD_CHECKS_WAIT = 30

    def register(n):
        return APIClient(REMOTE_ADDR="10.22.0.1").post(
            "/api/auth/register", {"email": f"new{n}@example.com", "password": STRONG_PASSWORD}, format="json"
        )

    statuses = [answer.status_code for answer in run_at_once(*[lambda n=n: register(n) for n in range(40)])]
    assert statuses.count(201) == 10 and statuses.count(429) == 30, statuses
    assert counting_hasher.calls == 10 and User.objects.count() == 10


@pytest.mark.django_db(transaction=True)
def test_the_web_form_counts_concurrent_attempts_the_same_way(settings, counting_hasher):
    from django.test import Client

    rates(settings, auth_ip="5/min")
    settings.PASSWORD_CHECKS_WAIT = 30

    def web(n):
        return Client(REMOTE_ADDR="10.23.0.1").post("/login", {"username": f"w{n}@example.com", "password": "guess"})

    statuses = [answer.status_code for answer in run_at_once(*[lambda n=n: web(n) for n in range(20)])]
    assert statuses.count(200) == 5 and statuses.count(429) == 15, statuses
    assert counting_hasher.calls == 5


# ------------------------------------------------------------------ 4: IPv6 and one account


@pytest.mark.parametrize(
    "address, group",
    [
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
        ("::ffff:192.0.2.7", "192.0.2.7"),
        ("192.0.2.7", "192.0.2.7"),
        ("not an address", "not an address"),
    ],
)
def test_addresses_are_limited_as_ipv4_hosts_and_ipv6_64s(address, group):
    assert throttles.address_group(address) == group


@pytest.mark.django_db
def test_addresses_of_one_ipv6_64_share_one_limit(settings):
    rates(settings, auth_ip="3/min")
    statuses = [login(f"2001:db8:7:7::{n:x}", f"v6-{n}@example.com").status_code for n in range(1, 6)]
    assert statuses == [401, 401, 401, 429, 429]
    assert login("2001:db8:7:8::1", "v6-9@example.com").status_code == 401  # the next /64


@pytest.mark.django_db
def test_an_accounts_delay_doubles_up_to_the_cap_and_holds_across_addresses(settings, monkeypatch):
    settings.LOGIN_ACCOUNT_FAILURES = 3
    settings.LOGIN_ACCOUNT_DELAY = 60
    settings.LOGIN_ACCOUNT_DELAY_MAX = 200
    user = UserFactory()
    clock = [time.time()]
    monkeypatch.setattr(throttles.time, "time", lambda: clock[0])
    addresses = iter(f"10.24.{n // 250}.{n % 250}" for n in range(1000))

    def guesses_until_delayed():
        for n in range(1, 10):
            answer = login(next(addresses), user.email)
            if answer.status_code == 429:
                return n, int(answer["Retry-After"]), answer.json()["detail"]
            assert answer.status_code == 401
        raise AssertionError("never delayed")

    assert guesses_until_delayed() == (3, 60, "Too many failed sign-ins for this account; try again in 1 minute.")
    assert login(next(addresses), user.email, DEFAULT_PASSWORD).status_code == 429
    clock[0] += 61
    assert guesses_until_delayed() == (3, 120, "Too many failed sign-ins for this account; try again in 2 minutes.")
    clock[0] += 121
    assert guesses_until_delayed()[:2] == (3, 200)  # 240, capped
    clock[0] += 201
    # Once the delay is over the right password signs in, and the count starts again.
    assert login(next(addresses), user.email, DEFAULT_PASSWORD).status_code == 200
    assert guesses_until_delayed()[:2] == (3, 60)


@pytest.mark.django_db(transaction=True)
def test_concurrent_guesses_at_one_account_check_at_most_its_failures(settings, counting_hasher):
    settings.LOGIN_ACCOUNT_FAILURES = 5
    settings.PASSWORD_CHECKS_WAIT = 30
    user = UserFactory()
    counting_hasher.reset()
    answers = run_at_once(*[lambda n=n: login(f"10.25.0.{n}", user.email) for n in range(30)])
    statuses = [answer.status_code for answer in answers]
    assert counting_hasher.calls <= 5
    assert statuses.count(429) >= 25, statuses
