"""The retry policy: which failures are retried, how often, how long we wait, and the
time budget — observed through the double's request log and the injected sleep."""

import socket
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from openrouter.errors import (
    ProviderAuthError,
    ProviderBadRequest,
    ProviderMalformedResponse,
    ProviderModerationRefused,
    ProviderNotFound,
    ProviderOutOfCredits,
    ProviderRateLimited,
    ProviderTimeout,
    ProviderUnavailable,
)

from .conftest import USER_HELLO, fault_headers

RETRYABLE = [
    ("rate_limit", ProviderRateLimited, 429),
    ("request_timeout", ProviderTimeout, 408),
    ("server_error", ProviderUnavailable, 500),
    ("bad_gateway", ProviderUnavailable, 502),
    ("unavailable", ProviderUnavailable, 503),
]

# A POST on each client: the web's chat, the worker's video submission.
POSTS = {
    "chat": lambda client: client.chat(model="fake/echo", messages=USER_HELLO),
    "video_submit": lambda client: client.video_submit(model="google/veo-3.1", prompt="a quiet harbour"),
}


@pytest.fixture(params=sorted(POSTS))
def post(request):
    return POSTS[request.param]


NEVER_RETRIED = [
    ("bad_request", ProviderBadRequest, 400),
    ("auth", ProviderAuthError, 401),
    ("out_of_credits", ProviderOutOfCredits, 402),
    ("moderation", ProviderModerationRefused, 403),
    ("not_found", ProviderNotFound, 404),
]


@pytest.mark.parametrize("fault, error_class, status", NEVER_RETRIED)
def test_client_errors_are_never_retried(make_client, fake, client_clock, post, fault, error_class, status):
    client = make_client(headers=fault_headers(fault))

    with pytest.raises(error_class) as error:
        post(client)

    assert error.value.status == status and error.value.code == status
    assert error.value.message
    assert len(fake.received) == 1 and client_clock.sleeps == []


@pytest.mark.parametrize("fault, error_class, status", RETRYABLE)
def test_transient_errors_are_retried_max_retries_times_then_raised(
    make_client, fake, client_clock, post, fault, error_class, status
):
    client = make_client(headers=fault_headers(fault), max_retries=3)

    with pytest.raises(error_class) as error:
        post(client)

    assert error.value.status == status and error.value.attempts == 4
    assert len(fake.received) == 4 and len(client_clock.sleeps) == 3


@pytest.mark.parametrize("fault, error_class, status", RETRYABLE)
def test_transient_errors_that_clear_up_end_in_success(make_client, fake, client_clock, fault, error_class, status):
    client = make_client(headers=fault_headers(f"{fault}*2"))

    result = client.chat(model="fake/echo", messages=USER_HELLO)

    assert result.text == "hello there"
    assert len(fake.received) == 3 and len(client_clock.sleeps) == 2
    # every attempt sends the same body
    assert len({str(request.body) for request in fake.received}) == 1


@pytest.mark.parametrize(
    "rand, cap, expected",
    [
        (0.5, 1.0, [0.075, 0.15, 0.3]),  # base 0.1 doubling, equal jitter at its midpoint
        (0.0, 1.0, [0.05, 0.1, 0.2]),  # jitter never goes below half the backoff
        (1.0, 1.0, [0.1, 0.2, 0.4]),
        (1.0, 0.15, [0.1, 0.15, 0.15]),  # the cap bounds each wait
    ],
)
def test_backoff_is_exponential_with_jitter_and_a_cap(make_client, client_clock, rand, cap, expected):
    client = make_client(headers=fault_headers("unavailable"), rand=lambda: rand, backoff_cap=cap)

    with pytest.raises(ProviderUnavailable):
        client.chat(model="fake/echo", messages=USER_HELLO)

    assert client_clock.sleeps == pytest.approx(expected)


def test_retry_after_is_honoured_over_a_shorter_backoff(make_client, fake, client_clock):
    client = make_client(headers=fault_headers("rate_limit*2", **{"X-Fake-Retry-After": "7"}))

    client.chat(model="fake/echo", messages=USER_HELLO)

    assert client_clock.sleeps == [7.0, 7.0]
    assert len(fake.received) == 3


def test_retry_after_as_an_http_date_is_understood(make_client, client_clock):
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=12), usegmt=True)
    client = make_client(headers=fault_headers("rate_limit*1", **{"X-Fake-Retry-After": when}))

    client.chat(model="fake/echo", messages=USER_HELLO)

    [slept] = client_clock.sleeps
    assert 9.0 <= slept <= 12.0


def test_the_time_budget_stops_retrying_and_keeps_retry_after(make_client, fake, client_clock):
    client = make_client(
        headers=fault_headers("rate_limit", **{"X-Fake-Retry-After": "3"}), retry_budget=5.0, max_retries=5
    )

    with pytest.raises(ProviderRateLimited) as error:
        client.chat(model="fake/echo", messages=USER_HELLO)

    # 3 s waited; another 3 s would pass the 5 s budget
    assert client_clock.sleeps == [3.0] and len(fake.received) == 2
    assert error.value.retry_after == 3.0 and error.value.attempts == 2


def test_a_retry_after_beyond_the_budget_fails_at_once(make_client, fake, client_clock):
    client = make_client(headers=fault_headers("rate_limit", **{"X-Fake-Retry-After": "120"}))

    with pytest.raises(ProviderRateLimited) as error:
        client.chat(model="fake/echo", messages=USER_HELLO)

    assert error.value.retry_after == 120.0
    assert client_clock.sleeps == [] and len(fake.received) == 1


def test_real_backoff_waits_for_retry_after_in_real_time(make_client, fake):
    client = make_client(
        real_time=True,
        backoff_base=0.001,
        headers=fault_headers("rate_limit*2", **{"X-Fake-Retry-After": "0.05"}),
    )
    started = time.monotonic()

    client.chat(model="fake/echo", messages=USER_HELLO)

    assert time.monotonic() - started >= 0.1
    assert len(fake.received) == 3


def test_a_slow_post_times_out_once_and_is_not_sent_twice(make_client, fake, client_clock, post):
    client = make_client(headers=fault_headers("slow"), read_timeout=0.2)

    with pytest.raises(ProviderTimeout) as error:
        post(client)

    # a POST may still be running (and billing) at the provider
    assert error.value.status is None and error.value.attempts == 1
    assert len(fake.received) == 1 and client_clock.sleeps == []


def test_a_slow_get_is_retried_and_can_succeed(make_client, fake):
    client = make_client(headers=fault_headers("slow*1"), read_timeout=0.3)

    models = client.list_models()

    assert {m.id for m in models} >= {"openai/gpt-4o-mini"}
    assert len(fake.received) == 2


def test_a_slow_get_that_stays_slow_ends_in_timeout(make_client, fake):
    client = make_client(headers=fault_headers("slow"), read_timeout=0.2, max_retries=1)

    with pytest.raises(ProviderTimeout):
        client.list_video_models()

    assert len(fake.received) == 2


def test_a_closed_connection_is_retried_as_unavailable(make_client, fake, client_clock):
    client = make_client(headers=fault_headers("disconnect"))

    with pytest.raises(ProviderUnavailable):
        client.chat(model="fake/echo", messages=USER_HELLO)

    assert len(fake.received) == 4 and len(client_clock.sleeps) == 3
    assert make_client(headers=fault_headers("disconnect*1")).list_models()


def test_a_body_cut_short_is_retried_as_unavailable(make_client, fake):
    client = make_client(headers=fault_headers("drop_stream*1"))

    assert client.chat(model="fake/echo", messages=USER_HELLO).text == "hello there"
    assert len(fake.received) == 2


def test_connection_refused_is_unavailable_after_retries(make_client, client_clock):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = make_client(base_url=f"http://127.0.0.1:{port}/api/v1")

    with pytest.raises(ProviderUnavailable) as error:
        client.list_models()

    assert error.value.attempts == 4 and len(client_clock.sleeps) == 3
    assert "Could not reach the provider" in error.value.message


def test_max_retries_zero_means_one_attempt(make_client, fake):
    with pytest.raises(ProviderUnavailable):
        make_client(headers=fault_headers("server_error"), max_retries=0).chat(model="fake/echo", messages=USER_HELLO)
    assert len(fake.received) == 1


def test_malformed_answers_are_not_retried(make_client, fake):
    with pytest.raises(ProviderMalformedResponse):
        make_client(headers=fault_headers("malformed")).list_models()
    assert len(fake.received) == 1


def test_retry_after_on_a_503_is_honoured_too(make_client, fake, client_clock):
    client = make_client(headers=fault_headers("unavailable*1", **{"X-Fake-Retry-After": "4"}))

    client.chat(model="fake/echo", messages=USER_HELLO)

    assert client_clock.sleeps == [4.0] and len(fake.received) == 2
