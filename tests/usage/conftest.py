from datetime import UTC, datetime
from decimal import Decimal

import pytest

from generation.models import Generation
from tests.factories import GenerationFactory, VideoJobFactory
from videos.models import VideoJob

UTC = UTC
# The clock of these tests: mid-morning UTC on 15 March 2026 (a month with 31 days before it).
NOW = datetime(2026, 3, 15, 10, 30, tzinfo=UTC)


def at(day: str, clock: str = "12:00:00") -> datetime:
    return datetime.fromisoformat(f"{day}T{clock}+00:00")


@pytest.fixture
def frozen(monkeypatch):
    """Usage's "now" is NOW (rows are written with explicit times)."""
    from usage import selectors

    monkeypatch.setattr(selectors, "now", lambda: NOW)
    return NOW


@pytest.fixture
def spend():
    """Write a charged row: spend(user, "text", "1.25", when, model=...)."""

    def make(owner, kind: str, cost, when: datetime, *, model: str | None = None, status: str | None = None):
        if kind == "video":
            return VideoJobFactory(
                owner=owner,
                model=model or "google/veo-3.1",
                cost=Decimal(str(cost)),
                status=status or VideoJob.Status.COMPLETED,
                now=when,
            )
        return GenerationFactory(
            owner=owner,
            kind=kind,
            cost=Decimal(str(cost)),
            created_at=when,
            finished_at=when,
            status=status or Generation.Status.COMPLETED,
            model_id=model or ("openai/gpt-4o-mini" if kind == "text" else "google/gemini-2.5-flash-image"),
        )

    return make
