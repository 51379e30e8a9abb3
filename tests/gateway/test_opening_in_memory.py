"""Opening a text request on the event loop when it reads nothing (generation.services.
_opens_in_memory): a warm request of the embedded setup opens without a database step;
one that must read or write (a budget to reserve, a model's entry not kept) opens in a
step; and an opening that finds it needs the database after all (its kept entry expired
between the check and the read) runs again as a step, having let go of what it took.

Served by uvicorn (as `make run` serves it) through the database-step pool. With the slots
counted in Redis (PostgreSQL + Redis) every opening is a step, and the tests say so."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from django.core.cache import cache

from billing.services import limits_update
from catalogue import selectors as catalogue_selectors
from generation import capacity, services
from generation.models import Generation
from tests.support.v1 import ask_chat as ask

pytestmark = pytest.mark.django_db(transaction=True)


def _on_the_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


@pytest.fixture
def openings(monkeypatch):
    """Where each opening ran: True on the event loop, False on a database-step thread;
    and whether it ended (False: it raised)."""
    seen: list[tuple[bool, bool]] = []
    original = services._open_records

    def noting(*args, **kwargs):
        here = _on_the_loop()
        try:
            opened = original(*args, **kwargs)
        except BaseException:
            seen.append((here, False))
            raise
        seen.append((here, True))
        return opened

    monkeypatch.setattr(services, "_open_records", noting)
    return seen


def _warm_opening() -> list[tuple[bool, bool]]:
    """Where a warm opening runs: on the loop when slots are counted in this process's
    memory (the embedded setup), in a step when they are counted in Redis."""
    return [(capacity.counts_in_memory(), True)]


def test_a_warm_request_opens_on_the_event_loop(served, openings):
    base, _, secret = served
    assert ask(base, secret).status_code == 200  # reads the key and the model's entry
    openings.clear()
    for stream in (False, True):
        answer = ask(base, secret, stream=stream)
        assert answer.status_code == 200, answer.text
    assert openings == _warm_opening() * 2
    assert Generation.objects.filter(status=Generation.Status.COMPLETED).count() >= 2


def test_a_request_with_a_budget_to_reserve_opens_in_a_step(served, user, openings):
    base, _, secret = served
    limits_update(user=user, daily_budget_usd=Decimal("5"), monthly_budget_usd=None)
    assert ask(base, secret).status_code == 200
    openings.clear()
    assert ask(base, secret).status_code == 200
    assert openings == [(False, True)]


def test_an_opening_that_needs_the_database_after_all_runs_as_a_step(served, user, openings, monkeypatch):
    base, _, secret = served
    assert ask(base, secret).status_code == 200
    # The check said the entry was kept; it expired before the read.
    monkeypatch.setattr(catalogue_selectors, "entry_in_memory", lambda *args, **kwargs: True)
    catalogue_selectors._entries.clear()
    openings.clear()
    answer = ask(base, secret)
    assert answer.status_code == 200, answer.text
    assert openings == ([(True, False)] if capacity.counts_in_memory() else []) + [(False, True)]
    # The first attempt let go of the slot it took: none is held once the answer is back.
    assert int(cache.get(capacity._key(user.pk)) or 0) == 0
    assert Generation.objects.filter(status=Generation.Status.PENDING).count() == 0
