"""A request cancelled (its client gone) at any await point between opening a text
generation and finishing it: its in-flight slot is free as soon as the request has
ended, its history row is not left pending and its budget reservation is not left held.
For every caller of the pipeline: the text API (whole and streamed), a conversation's
turn (whole and streamed), and, through Django's own ASGI handler with a client that
hangs up, the streaming endpoints of /api/ and /v1/."""

import asyncio
import json
import time

import pytest
from asgiref.sync import async_to_sync, sync_to_async

from billing import services as billing_services
from billing.models import Reservation, UserBudget
from conversations import services as conversation_services
from conversations.models import Conversation, Message
from generation import capacity, services, validation
from generation.models import Generation
from tests.support.asgi import http_scope

# Real commits: the steps of the request and the checks after it see the same rows.
pytestmark = pytest.mark.django_db(transaction=True)

MINI = "openai/gpt-4o-mini"
ENTRIES = ("text", "text stream", "turn", "turn stream")


@pytest.fixture
def owner(user):
    UserBudget.objects.create(user=user, daily_budget_usd="1.00")
    return user


@pytest.fixture
def conversation(catalogue, owner):
    return Conversation.objects.create(owner=owner, model_id=MINI)


def _start(entry: str, user, conversation):
    if entry == "text":
        return services.text_generate(user=user, model=MINI, prompt="Say hi")
    if entry == "text stream":
        return services.text_stream_start(user=user, model=MINI, prompt="Say hi")
    if entry == "turn":
        return conversation_services.message_send(user=user, conversation_id=conversation.pk, content="Say hi")
    return conversation_services.message_stream_start(user=user, conversation_id=conversation.pk, content="Say hi")


def _cancel_in_step(monkeypatch, module, name: str, state: dict) -> None:
    """Replace a function that runs inside a database step: the first call cancels the
    request's task (from the step's thread, as a disconnect would) and lets the step go on."""
    real = getattr(module, name)

    def cancelling(*args, **kwargs):
        if not state.get("cancelled"):
            state["cancelled"] = True
            state["loop"].call_soon_threadsafe(state["task"].cancel)
            time.sleep(0.05)  # the cancellation lands while this step is still running
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, cancelling)


class _CancellingClient:
    """The provider client, as far as a text call needs it: asking cancels the request."""

    async def _cancel(self, **kwargs):
        asyncio.current_task().cancel()
        await asyncio.sleep(30)

    chat = chat_stream = _cancel


def _assert_finished_and_free(user) -> None:
    assert capacity._acquire(user.pk) == 1, "the in-flight slot is still taken"
    capacity.release_slot(user.pk)
    assert not Generation.objects.filter(status="pending").exists()
    assert not Reservation.objects.filter(status="reserved").exists()
    for answer in Message.objects.filter(role="assistant").select_related("generation"):
        assert answer.status != "pending"


@pytest.mark.parametrize("entry", ENTRIES)
@pytest.mark.parametrize("point", ["validating", "row written", "provider asked"])
def test_a_request_cancelled_at_each_await_point_lets_go_at_once(
    catalogue, owner, conversation, monkeypatch, entry, point
):
    state: dict = {}
    if point == "validating":
        _cancel_in_step(monkeypatch, validation, "catalogue_entry", state)
    elif point == "row written":  # the pending row's INSERT is done, its reservation being noted
        _cancel_in_step(monkeypatch, billing_services, "attach", state)
    else:
        monkeypatch.setattr(services, "get_async_client", _CancellingClient)

    async def request():
        state["loop"] = asyncio.get_running_loop()
        state["task"] = task = asyncio.create_task(_start(entry, owner, conversation))
        with pytest.raises(asyncio.CancelledError):
            await task

    async_to_sync(request)()

    assert point == "provider asked" or state["cancelled"]
    _assert_finished_and_free(owner)
    rows = list(Generation.objects.all())
    assert len(rows) == 1, "the opening runs to its end before it is let go"
    if point == "provider asked":
        assert rows[0].status == "partial"  # the provider may bill what it began
        assert Reservation.objects.get().status == "settled"
    else:
        assert rows[0].status == "failed" and "before the provider was asked" in rows[0].error
        assert Reservation.objects.get().status == "released"


@pytest.mark.parametrize("entry", ["text stream", "turn stream"])
def test_a_stream_whose_events_never_began_is_closed_when_its_request_ends(catalogue, owner, conversation, entry):
    """The client went away after the stream opened, before its response was read."""

    async def request():
        stream = await asyncio.create_task(_start(entry, owner, conversation))
        # The request's task has ended without reading or closing the stream.
        for _ in range(200):
            if stream.generation.status != "pending":
                held = await sync_to_async(capacity._acquire)(owner.pk)
                await sync_to_async(capacity.release_slot)(owner.pk)
                if held == 1:
                    return stream
            await asyncio.sleep(0.01)
        raise AssertionError("the stream was never closed")

    stream = async_to_sync(request)()

    assert stream.generation.status == "partial"
    _assert_finished_and_free(owner)


# ------------------------------------------------------------------ through Django's ASGI handler


def _hang_up_after_the_row(monkeypatch, path: str, body: dict, authorization: str) -> list[dict]:
    """Serve one request with Django's ASGI handler; the client hangs up as soon as the
    pending history row is written. Returns what was sent to the client."""
    from django.core.handlers.asgi import ASGIHandler

    state: dict = {}
    real_attach = billing_services.attach

    def attach(*args, **kwargs):
        result = real_attach(*args, **kwargs)
        state["loop"].call_soon_threadsafe(state["gone"].set)
        return result

    monkeypatch.setattr(billing_services, "attach", attach)
    sent: list[dict] = []
    payload = json.dumps(body).encode()

    async def serve():
        state["loop"], state["gone"] = asyncio.get_running_loop(), asyncio.Event()
        messages = [{"type": "http.request", "body": payload, "more_body": False}]

        async def receive():
            if messages:
                return messages.pop(0)
            await state["gone"].wait()
            return {"type": "http.disconnect"}

        async def send(message):
            sent.append(message)

        scope = http_scope(
            "POST",
            path,
            [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                (b"authorization", authorization.encode()),
            ],
        )
        await ASGIHandler()(scope, receive, send)

    async_to_sync(serve)()
    return sent


def test_a_client_hanging_up_on_a_text_stream_frees_its_slot_at_once(catalogue, owner, monkeypatch):
    from rest_framework_simplejwt.tokens import AccessToken

    sent = _hang_up_after_the_row(
        monkeypatch,
        "/api/generate/text",
        {"prompt": "A long answer please", "model": MINI, "stream": True},
        f"Bearer {AccessToken.for_user(owner)}",
    )

    assert Generation.objects.count() == 1, sent
    _assert_finished_and_free(owner)


def test_a_client_hanging_up_on_a_v1_stream_frees_its_slot_at_once(catalogue, owner, monkeypatch):
    from accounts.api_keys import api_key_create

    secret = api_key_create(user=owner, name="script").secret

    sent = _hang_up_after_the_row(
        monkeypatch,
        "/v1/chat/completions",
        {"model": MINI, "messages": [{"role": "user", "content": "A long answer please"}], "stream": True},
        f"Bearer {secret}",
    )

    assert Generation.objects.count() == 1, sent
    _assert_finished_and_free(owner)
