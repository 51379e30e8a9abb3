"""The typed errors: mapping from the provider's error payloads, and safe user messages."""

import pytest

from openrouter import errors
from openrouter.errors import error_from_payload


@pytest.mark.parametrize(
    "status, cls",
    [
        (400, errors.ProviderBadRequest),
        (401, errors.ProviderAuthError),
        (402, errors.ProviderOutOfCredits),
        (403, errors.ProviderModerationRefused),
        (404, errors.ProviderNotFound),
        (408, errors.ProviderTimeout),
        (422, errors.ProviderBadRequest),
        (429, errors.ProviderRateLimited),
        (500, errors.ProviderUnavailable),
        (502, errors.ProviderUnavailable),
        (503, errors.ProviderUnavailable),
        (504, errors.ProviderUnavailable),
    ],
)
def test_each_status_has_its_class(status, cls):
    error = error_from_payload(status, {"error": {"code": status, "message": "why", "metadata": {"k": "v"}}})
    assert type(error) is cls and isinstance(error, errors.ProviderError)
    assert (error.status, error.code, error.message, error.metadata) == (status, status, "why", {"k": "v"})


def test_retryable_flags_follow_the_policy():
    retryable = {s for s in (400, 401, 402, 403, 404, 408, 429, 500, 502, 503) if error_from_payload(s, {}).retryable}
    assert retryable == {408, 429, 500, 502, 503}


def test_an_error_without_a_body_gets_the_fallback_message():
    error = error_from_payload(502, "not a dict", fallback_message="HTTP 502 Bad Gateway")
    assert error.message == "HTTP 502 Bad Gateway" and error.metadata == {}


def test_an_error_code_chooses_the_class_when_there_is_no_status():
    error = error_from_payload(None, {"error": {"code": 402, "message": "no credits"}})
    assert isinstance(error, errors.ProviderOutOfCredits) and error.status is None and error.code == 402
    unknown = error_from_payload(None, {"error": {"code": "weird", "message": "?"}})
    assert isinstance(unknown, errors.ProviderUnavailable)


def test_rate_limited_keeps_retry_after():
    error = error_from_payload(429, {"error": {"message": "slow down"}}, retry_after=2.6)
    assert error.retry_after == 2.6


def test_moderation_reasons_from_metadata():
    error = error_from_payload(403, {"error": {"message": "flagged", "metadata": {"reasons": ["sexual", "violence"]}}})
    assert error.reasons == ["sexual", "violence"]
    assert errors.ProviderModerationRefused(metadata={"reasons": "hate"}).reasons == ["hate"]


def test_str_names_class_status_and_code():
    error = error_from_payload(503, {"error": {"code": 503, "message": "No provider available"}})
    assert str(error) == "ProviderUnavailable (HTTP 503, code 503): No provider available"
    assert str(errors.ProviderTimeout()) == (
        "ProviderTimeout (no HTTP status, code None): The AI provider took too long to answer."
    )


def test_an_error_inside_the_first_choice_is_raised():
    from openrouter.parsing import first_choice as _first_choice

    with pytest.raises(errors.ProviderOutOfCredits):
        _first_choice({"choices": [{"error": {"code": 402, "message": "no credits"}, "finish_reason": "error"}]})
    with pytest.raises(errors.ProviderUnavailable):
        _first_choice({"choices": [{"message": {"content": ""}, "finish_reason": "error"}]})
    with pytest.raises(errors.ProviderMalformedResponse):
        _first_choice({"choices": []})
