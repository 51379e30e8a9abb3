"""The trimming rule: the system prompt and the newest turns that fit the context."""

import pytest

from conversations import context
from core.errors import InvalidInput


def user(text):
    return {"role": "user", "content": text}


def answer(text):
    return {"role": "assistant", "content": text}


def test_tokens_are_about_four_characters_plus_framing():
    assert context.estimate_tokens("") == 4
    assert context.estimate_tokens("abcd") == 5
    assert context.estimate_tokens("abcde") == 6


def test_budget_leaves_room_for_the_answer(settings):
    settings.CONVERSATION_ANSWER_TOKENS = 1024
    assert context.prompt_budget(128000) == 128000 - 1024
    assert context.prompt_budget(2000) == 2000 - 500  # at most a quarter of the context
    assert context.prompt_budget(None) == context.DEFAULT_CONTEXT_LENGTH - 1024


def test_a_thread_that_fits_is_sent_whole_after_the_system_prompt():
    thread = [user("one"), answer("two"), user("three")]
    assert context.fit_thread(system="sys", messages=thread, context_length=8192) == [
        {"role": "system", "content": "sys"},
        *thread,
    ]


def test_the_oldest_turns_go_first_and_whole(settings):
    settings.CONVERSATION_ANSWER_TOKENS = 100
    big = "x" * 400  # 104 tokens each
    thread = [user(big), answer(big), user(big), answer(big), user("last")]
    # budget 500 - 100 = 400: system (5) + last (5) + one old turn (208) fit; two do not.
    sent = context.fit_thread(system="sys!", messages=thread, context_length=500)
    assert sent == [{"role": "system", "content": "sys!"}, user(big), answer(big), user("last")]
    assert sent[1] is thread[2]  # the newer of the two old turns was kept


def test_a_turn_is_a_user_message_with_the_answers_after_it(settings):
    settings.CONVERSATION_ANSWER_TOKENS = 100
    thread = [user("a" * 40), answer("b" * 1600), user("c")]
    # The old answer alone is too big, so its whole turn goes, question included.
    assert context.fit_thread(system="", messages=thread, context_length=500) == [user("c")]


def test_a_message_too_long_for_the_context_is_refused(settings):
    settings.CONVERSATION_ANSWER_TOKENS = 100
    with pytest.raises(InvalidInput) as caught:
        context.fit_thread(system="s" * 200, messages=[user("x" * 1500)], context_length=500, model="m")
    assert caught.value.field == "content" and "too long for m" in caught.value.message
