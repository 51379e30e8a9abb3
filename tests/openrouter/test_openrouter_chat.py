"""Chat completions, whole and streamed, against the double over real HTTP."""

import httpx
import pytest

from openrouter.errors import (
    ProviderAuthError,
    ProviderBadRequest,
    ProviderMalformedResponse,
    ProviderModerationRefused,
    ProviderOutOfCredits,
    ProviderUnavailable,
)
from openrouter.fake import FakeOpenRouter
from openrouter.types import StreamEnd, StreamPiece

from .conftest import USER_HELLO, fault_headers


def test_chat_sends_the_exact_body_and_app_headers(client, fake):
    result = client.chat(model="openai/gpt-4o-mini", messages=USER_HELLO, max_tokens=50, temperature=0.2)

    [request] = fake.received
    assert request.method == "POST" and request.path == "/api/v1/chat/completions"
    assert request.body == {
        "model": "openai/gpt-4o-mini",
        "messages": USER_HELLO,
        "max_tokens": 50,
        "temperature": 0.2,
    }
    assert request.headers["authorization"] == "Bearer test-key"
    assert request.headers["http-referer"] == "https://studio.example"
    assert request.headers["x-title"] == "Studio Tests"
    assert result.text.startswith("Offline answer from openai/gpt-4o-mini. You asked: hello there")
    assert result.model == "openai/gpt-4o-mini" and result.id.startswith("gen-")
    assert result.finish_reason == "stop"
    assert result.usage.prompt_tokens == 2
    assert result.usage.completion_tokens == len(result.text.split())
    assert result.usage.total_tokens == result.usage.prompt_tokens + result.usage.completion_tokens
    # 2 x 0.00000015 + completion x 0.0000006 (the double's gpt-4o-mini prices)
    assert result.usage.cost == pytest.approx(2 * 0.00000015 + result.usage.completion_tokens * 0.0000006)


def test_chat_leaves_unset_options_out_of_the_body(client, fake):
    client.chat(model="fake/echo", messages=USER_HELLO)
    assert fake.received[0].body == {"model": "fake/echo", "messages": USER_HELLO}


def test_chat_is_deterministic_and_max_tokens_cuts_with_finish_reason_length(client):
    messages = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "one two three four"}]
    assert client.chat(model="fake/echo", messages=messages).text == "one two three four"

    cut = client.chat(model="fake/echo", messages=messages, max_tokens=2)

    assert (cut.text, cut.finish_reason) == ("one two", "length")
    again = client.chat(model="anthropic/claude-3.5-haiku", messages=USER_HELLO).text
    assert again == client.chat(model="anthropic/claude-3.5-haiku", messages=USER_HELLO).text


def test_stream_yields_pieces_word_by_word_then_one_end_with_usage(client, fake):
    items = list(client.chat_stream(model="fake/echo", messages=[{"role": "user", "content": "a b c d e f g"}]))

    assert fake.received[0].body["stream"] is True
    pieces, end = items[:-1], items[-1]
    assert all(isinstance(piece, StreamPiece) for piece in pieces)
    assert [piece.text for piece in pieces] == ["a ", "b ", "c ", "d ", "e ", "f ", "g"]
    assert isinstance(end, StreamEnd)
    assert end.model == "fake/echo" and end.id.startswith("gen-") and end.finish_reason == "stop"
    assert (end.usage.prompt_tokens, end.usage.completion_tokens, end.usage.total_tokens) == (7, 7, 14)


def test_stream_keep_alive_comments_are_on_the_wire_but_never_yielded(client, fake):
    raw = httpx.post(
        f"{fake.base_url}/chat/completions",
        json={"model": "fake/echo", "messages": [{"role": "user", "content": "w1 w2 w3 w4 w5 w6"}], "stream": True},
        headers={"Authorization": "Bearer x"},
    )
    assert raw.headers["Content-Type"] == "text/event-stream"
    assert raw.text.count(": OPENROUTER PROCESSING") == 2
    assert raw.text.rstrip().endswith("data: [DONE]")

    texts = [
        i.text
        for i in client.chat_stream(model="fake/echo", messages=[{"role": "user", "content": "w1 w2 w3 w4 w5 w6"}])
        if isinstance(i, StreamPiece)
    ]

    assert "".join(texts) == "w1 w2 w3 w4 w5 w6"


def test_stream_dropped_mid_way_raises_unavailable_after_the_first_pieces(make_client, fake):
    client = make_client(headers=fault_headers("drop_stream"))
    seen = []

    with pytest.raises(ProviderUnavailable, match="dropped mid-stream"):
        for item in client.chat_stream(model="fake/echo", messages=[{"role": "user", "content": "a b c d e f"}]):
            seen.append(item.text)

    # keep-alive + two pieces were sent before the drop; nothing is retried mid-stream
    assert seen == ["a ", "b "]
    assert len(fake.received) == 1


def test_stream_ending_without_done_raises_unavailable(make_client, fake):
    client = make_client(headers=fault_headers("truncated"))
    seen = []

    with pytest.raises(ProviderUnavailable, match="ended before"):
        for item in client.chat_stream(model="fake/echo", messages=[{"role": "user", "content": "a b c d e f"}]):
            seen.append(item.text)

    assert seen == ["a ", "b "] and len(fake.received) == 1


def test_a_streamed_answer_without_events_is_malformed_not_unavailable(make_client, fake):
    client = make_client(headers=fault_headers("malformed"))

    with pytest.raises(ProviderMalformedResponse, match="no events"):
        list(client.chat_stream(model="fake/echo", messages=USER_HELLO))

    assert len(fake.received) == 1


def test_a_json_answer_cut_short_is_malformed(make_client):
    with pytest.raises(ProviderMalformedResponse):
        make_client(headers=fault_headers("truncated")).chat(model="fake/echo", messages=USER_HELLO)


def test_stream_error_event_raises_its_typed_error(make_client):
    client = make_client(headers=fault_headers("stream_error"))
    seen = []

    with pytest.raises(ProviderUnavailable) as error:
        for item in client.chat_stream(model="fake/echo", messages=[{"role": "user", "content": "a b c d e f"}]):
            seen.append(item.text)

    assert seen == ["a ", "b ", "c "]
    assert error.value.code == 502 and error.value.message == "The upstream provider failed mid-stream."


def test_opening_a_stream_is_retried_like_any_request(make_client, fake, client_clock):
    client = make_client(headers=fault_headers("rate_limit*1"))

    items = list(client.chat_stream(model="fake/echo", messages=[{"role": "user", "content": "ok"}]))

    assert [type(item) for item in items] == [StreamPiece, StreamEnd]
    assert len(fake.received) == 2 and client_clock.sleeps == [1.0]


def test_an_error_object_inside_a_200_answer_is_raised(make_client, fake):
    client = make_client(headers=fault_headers("stream_error"))
    with pytest.raises(ProviderUnavailable) as error:
        client.chat(model="fake/echo", messages=USER_HELLO)
    assert error.value.code == 502 and error.value.status is None


def test_malformed_json_is_a_malformed_response_not_retried(make_client, fake):
    client = make_client(headers=fault_headers("malformed"))
    with pytest.raises(ProviderMalformedResponse):
        client.chat(model="fake/echo", messages=USER_HELLO)
    assert len(fake.received) == 1


def test_no_key_means_401_like_the_real_provider(make_client, fake):
    with pytest.raises(ProviderAuthError) as error:
        make_client(api_key="").chat(model="fake/echo", messages=USER_HELLO)
    assert error.value.status == 401 and error.value.attempts == 1
    assert "authorization" not in fake.received[0].headers


def test_a_wrong_key_is_refused_when_the_double_expects_one(make_client):
    with FakeOpenRouter(api_key="right-key") as strict:
        with pytest.raises(ProviderAuthError):
            make_client(base_url=strict.base_url, api_key="wrong").chat(model="fake/echo", messages=USER_HELLO)
        ok = make_client(base_url=strict.base_url, api_key="right-key").chat(model="fake/echo", messages=USER_HELLO)
    assert ok.text == "hello there"


def test_an_unknown_model_is_a_bad_request_with_the_providers_message(client):
    with pytest.raises(ProviderBadRequest) as error:
        client.chat(model="nobody/nothing", messages=USER_HELLO)
    assert error.value.status == 400
    assert error.value.message == "nobody/nothing is not a valid model ID"


def test_faults_can_be_chosen_through_the_model_name(client, fake):
    with pytest.raises(ProviderOutOfCredits):
        client.chat(model="openai/gpt-4o-mini:fault=out_of_credits", messages=USER_HELLO)
    with pytest.raises(ProviderModerationRefused) as refused:
        client.chat(model="fake/fault-moderation", messages=USER_HELLO)
    assert refused.value.reasons == ["violence", "harassment"]
    assert len(fake.received) == 2


def test_tool_call_deltas_are_relayed_and_put_together():
    import json

    from openrouter import parsing

    decoder = parsing.StreamDecoder("m")
    events = [
        {
            "choices": [
                {
                    "delta": {
                        "role": "assistant",
                        "content": None,
                        "tool_calls": [
                            {"index": 0, "id": "call_1", "type": "function", "function": {"name": "f", "arguments": ""}}
                        ],
                    }
                }
            ]
        },
        {"choices": [{"delta": {"tool_calls": [{"index": 0, "function": {"arguments": '{"a"'}}]}}]},
        {"choices": [{"delta": {"tool_calls": [{"index": 0, "function": {"arguments": ": 1}"}}]}}]},
        {"choices": [{"delta": {}, "finish_reason": "tool_calls"}]},
    ]
    body = "".join(f"data: {json.dumps(event)}\n\n" for event in events) + "data: [DONE]\n\n"
    items = decoder.feed(body.encode())
    pieces = [item for item in items if isinstance(item, StreamPiece)]
    assert pieces[0].tool_calls == (
        {"index": 0, "id": "call_1", "type": "function", "function": {"name": "f", "arguments": ""}},
    )
    assert pieces[1].tool_calls == ({"index": 0, "function": {"arguments": '{"a"'}},)
    end = items[-1]
    assert isinstance(end, StreamEnd) and end.finish_reason == "tool_calls"
    assert end.tool_calls == ({"id": "call_1", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}},)


def test_a_whole_answer_keeps_its_tool_calls_and_logprobs():
    from openrouter import parsing

    payload = {
        "id": "x",
        "choices": [
            {
                "message": {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": {"a": 1}}}],
                },
                "finish_reason": "tool_calls",
                "logprobs": {"content": []},
            }
        ],
    }
    result = parsing.chat_result(payload, "m")
    assert result.text == "" and result.logprobs == {"content": []}
    assert result.tool_calls == ({"id": "c", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}},)
    with pytest.raises(ProviderMalformedResponse):
        parsing.chat_result({"choices": [{"message": {"tool_calls": [{"function": {}}]}}]}, "m")
