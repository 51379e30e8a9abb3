"""The largest likely cost of a request, from catalogue prices; unknown prices are refused."""

from decimal import Decimal

import pytest

from billing import pricing
from catalogue.models import ProviderModel


def entry(**fields):
    return ProviderModel(id=fields.pop("id", "some/model"), **fields)


def test_text_cost_counts_every_prompt_byte_as_a_token_and_max_tokens_completions():
    model = entry(pricing={"prompt": "0.000001", "completion": "0.000002", "request": "0.001"})
    price = pricing.text_price(model, prompt="héllo", system="")  # 6 bytes
    assert price.prompt_tokens == 6 + pricing.TOKENS_PER_MESSAGE
    assert price.cost(100) == Decimal("0.000001") * price.prompt_tokens + Decimal("0.0002") + Decimal("0.001")
    assert price.affordable_tokens(price.fixed + Decimal("0.00002")) == 10


def test_free_completions_have_no_token_cap():
    price = pricing.text_price(entry(pricing={"prompt": "0", "completion": "0"}), prompt="hi", system="s")
    assert price.cost(10_000) == 0 and price.affordable_tokens(Decimal("0")) is None


@pytest.mark.parametrize(
    "prices",
    [
        {},
        {"prompt": "0.000001"},
        {"prompt": "-1", "completion": "-1"},
        {"prompt": "abc", "completion": "0"},
        {"prompt": "NaN", "completion": "0"},
    ],
)
def test_missing_unreadable_or_variable_text_prices_are_unknown(prices):
    with pytest.raises(pricing.PriceUnknown):
        pricing.text_price(entry(pricing=prices), prompt="hi", system="")


def test_image_cost_is_price_times_n_on_the_images_route():
    cost, _ = pricing.image_cost(entry(pricing={"image": "0.04"}, image_route="images"), prompt="a cat", n=3)
    assert cost == Decimal("0.12")


def test_chat_route_images_add_prompt_and_answer_tokens_per_call():
    model = entry(pricing={"prompt": "0.0000003", "completion": "0.0000025", "image": "0.039"}, image_route="chat")
    cost, _ = pricing.image_cost(model, prompt="a cat", n=2)
    each = (
        Decimal("0.039")
        + Decimal("0.0000003") * pricing.prompt_tokens_upper("a cat")
        + Decimal("0.0000025") * pricing.IMAGE_COMPLETION_TOKENS
    )
    assert cost == pricing.usd(each * 2)


def test_an_image_model_without_an_image_price_is_unknown():
    with pytest.raises(pricing.PriceUnknown):
        pricing.image_cost(entry(pricing={"prompt": "0"}, image_route="images"), prompt="x", n=1)


def test_video_cost_is_per_second_times_duration_or_the_longest_listed():
    model = entry(pricing={"video_per_second": "0.40"}, durations=[4, 6, 8])
    assert pricing.video_cost(model, duration=6, resolution=None)[0] == Decimal("2.4")
    assert pricing.video_cost(model, duration=None, resolution=None)[0] == Decimal("3.2")


def test_video_uses_the_resolutions_price_else_the_highest():
    model = entry(pricing={"video_per_second_720p": "0.10", "video_per_second_1080p": "0.30"}, durations=[4])
    assert pricing.video_cost(model, duration=4, resolution="720p")[0] == Decimal("0.4")
    assert pricing.video_cost(model, duration=4, resolution=None)[0] == Decimal("1.2")
    with pytest.raises(pricing.PriceUnknown):
        pricing.video_cost(entry(pricing={}, durations=[4]), duration=4, resolution=None)
