"""Helpers for tests that sign in through the accounts API (accounts, admin panel), and
run_at_once for races between threads."""
import threading

from django.db import connections
from rest_framework.test import APIClient

from accounts import tokens
from tests.factories import DEFAULT_PASSWORD

STRONG_PASSWORD = "Lantern-orbit-7-quietly"


def bearer_client(user) -> APIClient:
    """An API client sending a fresh access token for `user`."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens.access_token_for(user=user)}")
    return client


def login_pair(user, password: str = DEFAULT_PASSWORD) -> dict:
    """Log in through the API; the response body (access, refresh, user)."""
    response = APIClient().post("/api/auth/login", {"email": user.email, "password": password}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def run_at_once(*calls):
    """Run each zero-argument callable in its own thread, released together by a barrier;
    their results (or the exceptions they raised), in order. Each thread closes its own
    database connection when done."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=30)
            results[index] = call()
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck"
    return results
