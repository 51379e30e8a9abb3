import pytest

from tests.generation.conftest import _media_in_tmp, fault_model, stream_post  # noqa: F401
from tests.support.provider import catalogue, fake_openrouter  # noqa: F401


@pytest.fixture
def conversation(catalogue, user):
    from conversations.models import Conversation

    return Conversation.objects.create(owner=user, model_id="openai/gpt-4o-mini", system="Be brief.")


def events_of(body: str) -> list[tuple[str, dict]]:
    import json

    events = []
    for block in body.split("\n\n"):
        name, data = "message", None
        for line in block.splitlines():
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data = json.loads(line[5:])
        if data is not None:
            events.append((name, data))
    return events
