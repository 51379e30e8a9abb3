"""Budgets on text and image requests: reserved before the provider is called, refused
with 402 when they do not fit, settled at the provider's cost or released."""

import json
from datetime import UTC, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from billing.models import Reservation, UserBudget
from billing.selectors import periods
from generation.models import Generation
from tests.support.provider import change_catalogue_rows

pytestmark = pytest.mark.django_db

TEXT, IMAGES = "/api/generate/text", "/api/generate/image"
S = Reservation.Status
MINI = "openai/gpt-4o-mini"  # prompt 0.00000015, completion 0.0000006 per token


def _chat_calls(fake):
    return [r for r in fake.received if r.method == "POST" and r.path == "/api/v1/chat/completions"]


def _max_cost(prompt: str, max_tokens: int) -> Decimal:
    tokens = len(prompt.encode()) + 8
    return Decimal("0.00000015") * tokens + Decimal("0.0000006") * max_tokens


def test_without_a_budget_nothing_is_reserved_and_max_tokens_is_left_alone(catalogue, fake_openrouter, user_api):
    response = user_api.post(TEXT, {"prompt": "hi", "model": MINI}, format="json")

    assert response.status_code == 200, response.content
    assert not Reservation.objects.exists() and not UserBudget.objects.exists()
    [sent] = _chat_calls(fake_openrouter)
    assert "max_tokens" not in sent.body


def test_a_request_that_fits_is_settled_at_the_providers_cost(catalogue, user_api, user, budget):
    budget(user, daily="1.00")

    response = user_api.post(TEXT, {"prompt": "Say hi", "model": MINI, "max_tokens": 200}, format="json")

    assert response.status_code == 200, response.content
    row = Generation.objects.get()
    [held] = Reservation.objects.all()
    assert held.status == S.SETTLED and held.generation_id == row.pk and held.kind == "text"
    assert held.amount_reserved == pytest.approx(_max_cost("Say hi", 200), abs=Decimal("0.00000001"))
    assert held.amount_settled == row.cost and 0 < held.amount_settled < held.amount_reserved


def test_a_request_that_could_pass_the_budget_is_a_402_before_any_call(
    catalogue, fake_openrouter, user_api, user, budget, spent
):
    budget(user, daily="0.01")
    spent(user, "0.0095")

    response = user_api.post(TEXT, {"prompt": "Say hi", "model": MINI, "max_tokens": 10_000}, format="json")

    assert response.status_code == 402, response.content
    body = response.json()
    assert body["budget"] == "0.01" and body["spent"] == "0.0095" and body["reserved"] == "0.00"
    assert body["period"] == "daily" and body["timezone"] == "UTC"
    assert body["resets_at"] == periods().day_end.isoformat().replace("+00:00", "Z")
    assert "UTC" in body["detail"] and "daily budget of $0.01" in body["detail"]
    assert "Lower max_tokens to at most" in body["detail"]
    assert _chat_calls(fake_openrouter) == [] and not Generation.objects.exists()
    assert Reservation.objects.count() == 1  # only the earlier spend


def test_reserved_amounts_of_running_requests_count(catalogue, user_api, user, budget, spent):
    budget(user, monthly="0.01")
    spent(user, "0.0095", status=S.RESERVED)

    response = user_api.post(TEXT, {"prompt": "Say hi", "model": MINI, "max_tokens": 10_000}, format="json")

    assert response.status_code == 402
    body = response.json()
    assert body["period"] == "monthly" and body["reserved"] == "0.0095" and body["spent"] == "0.00"
    assert body["resets_at"] == periods().month_end.isoformat().replace("+00:00", "Z")
    assert "held for requests still running" in body["detail"]


def test_a_reservation_whose_request_died_expires_and_refuses_nobody(catalogue, user_api, user, budget, spent):
    budget(user, daily="0.01")
    # A process killed mid-request left this; its deadline (plus the margin) is over.
    spent(user, "0.0099", status=S.RESERVED, at=timezone.now() - timedelta(hours=1), expires_in=600)

    response = user_api.post(TEXT, {"prompt": "Say hi", "model": MINI, "max_tokens": 1000}, format="json")

    assert response.status_code == 200, response.content


def test_a_new_reservation_expires_after_the_deadline_and_the_margin(catalogue, user_api, user, budget, settings):
    settings.GENERATION_DEADLINE = 300.0
    budget(user, daily="1.00")
    before = timezone.now()

    user_api.post(TEXT, {"prompt": "Say hi", "model": MINI, "max_tokens": 10}, format="json")

    held = Reservation.objects.get()
    assert before + timedelta(seconds=420) <= held.expires_at <= timezone.now() + timedelta(seconds=420)


def test_without_max_tokens_the_answer_is_capped_at_what_the_budget_left_pays(
    catalogue, fake_openrouter, user_api, user, budget
):
    budget(user, daily="0.0006")  # 1000 completion tokens, less the prompt

    response = user_api.post(TEXT, {"prompt": "Say hi", "model": MINI}, format="json")

    assert response.status_code == 200, response.content
    [sent] = _chat_calls(fake_openrouter)
    fixed = Decimal("0.00000015") * (len(b"Say hi") + 8)
    cap = int((Decimal("0.0006") - fixed) / Decimal("0.0000006"))
    assert sent.body["max_tokens"] == cap
    held = Reservation.objects.get()
    assert held.amount_reserved <= Decimal("0.0006")
    assert Generation.objects.get().params["max_tokens"] == cap


def test_without_max_tokens_a_budget_with_room_for_only_a_few_tokens_refuses(
    catalogue, fake_openrouter, user_api, user, budget
):
    budget(user, daily="0.00002")  # about 30 completion tokens

    response = user_api.post(TEXT, {"prompt": "Say hi", "model": MINI}, format="json")

    assert response.status_code == 402 and _chat_calls(fake_openrouter) == []


def test_a_free_model_without_max_tokens_is_not_capped(catalogue, fake_openrouter, user_api, user, budget):
    budget(user, daily="0")

    response = user_api.post(TEXT, {"prompt": "hi", "model": "fake/echo"}, format="json")

    assert response.status_code == 200
    [sent] = _chat_calls(fake_openrouter)
    assert "max_tokens" not in sent.body
    assert Reservation.objects.get().amount_settled == 0


def test_a_failed_call_releases_its_reservation(catalogue, fault_model, user_api, user, budget):
    budget(user, daily="1.00")

    response = user_api.post(
        TEXT, {"prompt": "hi", "model": fault_model("server_error"), "max_tokens": 100}, format="json"
    )

    assert response.status_code == 502
    held = Reservation.objects.get()
    assert held.status == S.RELEASED and held.amount_settled == 0


def test_an_unknown_price_is_refused_under_a_budget(catalogue, fake_openrouter, user_api, user, budget):
    change_catalogue_rows(MINI, pricing={"prompt": "-1", "completion": "-1"})
    budget(user, daily="5.00")

    response = user_api.post(TEXT, {"prompt": "hi", "model": MINI, "max_tokens": 10}, format="json")

    assert response.status_code == 402
    body = response.json()
    assert body["price_unknown"] is True and "price of openai/gpt-4o-mini is not known" in body["detail"]
    assert _chat_calls(fake_openrouter) == [] and not Reservation.objects.exists()


def test_an_unknown_price_without_a_budget_is_no_obstacle(catalogue, user_api):
    change_catalogue_rows(MINI, pricing={})

    assert user_api.post(TEXT, {"prompt": "hi", "model": MINI}, format="json").status_code == 200


def test_the_site_default_applies_to_users_without_an_override(catalogue, user_api, settings, spent, user):
    settings.DEFAULT_DAILY_BUDGET_USD = Decimal("0.001")
    spent(user, "0.001")

    response = user_api.post(TEXT, {"prompt": "hi", "model": MINI, "max_tokens": 10}, format="json")

    assert response.status_code == 402 and response.json()["budget"] == "0.001"


def test_the_budget_resets_at_the_utc_day_boundary(catalogue, user_api, user, budget, spent):
    budget(user, daily="0.01", monthly="1.00")
    day = periods()
    spent(user, "0.01", at=day.day_start - timedelta(seconds=1))  # yesterday, UTC

    ok = user_api.post(TEXT, {"prompt": "hi", "model": MINI, "max_tokens": 10}, format="json")
    assert ok.status_code == 200, ok.content

    spent(user, "0.01", at=day.day_start + timedelta(seconds=1))  # today
    refused = user_api.post(TEXT, {"prompt": "hi", "model": MINI, "max_tokens": 10}, format="json")
    assert refused.status_code == 402
    assert refused.json()["resets_at"] == day.day_end.isoformat().replace("+00:00", "Z")


def test_spent_counts_by_utc_day_and_month():
    from datetime import datetime

    from billing.selectors import periods as at

    p = at(datetime(2025, 1, 31, 23, 59, 59, tzinfo=UTC))
    assert p.day_end == datetime(2025, 2, 1, tzinfo=UTC) and p.month_end == datetime(2025, 2, 1, tzinfo=UTC)
    p = at(datetime(2024, 12, 15, 12, tzinfo=UTC))
    assert p.month_start == datetime(2024, 12, 1, tzinfo=UTC) and p.month_end == datetime(2025, 1, 1, tzinfo=UTC)


def test_the_monthly_budget_counts_earlier_days_of_the_month(user, budget, spent):
    from billing.selectors import spending

    day = periods()
    spent(user, "0.30", at=day.day_start - timedelta(seconds=1))
    spent(user, "0.20")
    spent(user, "9.00", at=day.month_start - timedelta(seconds=1))  # last month
    totals = spending(user_id=user.pk)
    if day.day_start == day.month_start:  # the first of the month: yesterday was last month
        assert totals.spent_this_month == Decimal("0.20")
    else:
        assert totals.spent_this_month == Decimal("0.50")
    assert totals.spent_today == Decimal("0.20")


def test_a_streamed_answer_that_ends_past_its_reservation_counts_in_full(
    catalogue, fake_openrouter, stream_post, user, budget
):
    # Our catalogue under-prices the model ten-fold; the provider bills its own price.
    change_catalogue_rows(MINI, pricing={"prompt": "0.000000015", "completion": "0.00000006"})
    budget(user, daily="1.00")

    status, _, body = stream_post(TEXT, {"prompt": "Say hi", "model": MINI, "max_tokens": 50, "stream": True})

    assert status == 200 and "event: done" in body
    held = Reservation.objects.get()
    assert held.status == S.SETTLED and held.amount_settled > held.amount_reserved
    assert held.amount_settled == Generation.objects.get().cost


def test_a_stream_refused_by_the_budget_is_a_plain_402(catalogue, fake_openrouter, stream_post, user, budget):
    budget(user, daily="0")

    status, headers, body = stream_post(TEXT, {"prompt": "Say hi", "model": MINI, "max_tokens": 50, "stream": True})

    assert status == 402
    assert json.loads(body)["budget"] == "0.00" and "daily budget of $0.00" in json.loads(body)["detail"]


def test_a_stream_failing_mid_answer_releases(catalogue, fault_model, stream_post, user, budget):
    budget(user, daily="1.00")

    status, _, body = stream_post(
        TEXT, {"prompt": "hi", "model": fault_model("stream_error"), "max_tokens": 50, "stream": True}
    )

    assert status == 200 and "event: error" in body
    assert Reservation.objects.get().status == S.RELEASED


def test_images_reserve_price_times_n_and_are_refused_when_they_do_not_fit(
    catalogue, fake_openrouter, user_api, user, budget
):
    budget(user, daily="0.10")

    refused = user_api.post(
        IMAGES, {"prompt": "a cat", "model": "black-forest-labs/flux-1.1-pro", "n": 3}, format="json"
    )
    assert refused.status_code == 402, refused.content
    assert refused.json()["cost"] == "0.12" and "fewer images" in refused.json()["detail"]

    ok = user_api.post(IMAGES, {"prompt": "a cat", "model": "black-forest-labs/flux-1.1-pro", "n": 2}, format="json")
    assert ok.status_code in (200, 201), ok.content
    held = Reservation.objects.get()
    assert held.kind == "image" and held.amount_reserved == Decimal("0.08")
    assert held.status == S.SETTLED and held.amount_settled == Decimal("0.08")


def test_the_text_page_shows_the_budget_message(catalogue, client, user, budget):
    budget(user, daily="0")
    client.force_login(user)

    response = client.post("/generate/text", {"prompt": "Say hi", "model": MINI, "max_tokens": 100})

    assert response.status_code == 402
    assert "daily budget of $0.00" in response.content.decode()


# ------------------------------------------------------------------ conversations


@pytest.mark.parametrize("stream", [False, True])
def test_a_conversation_turn_stops_at_the_budgets_cap_as_the_text_endpoint_does(
    catalogue, fake_openrouter, user_api, stream_post, user, budget, stream
):
    # fake/echo answers with the prompt, here priced as gpt-4o-mini: this asks for an
    # answer of 100 tokens; the day's budget pays for the prompt and about 70 answer tokens.
    from catalogue.models import ProviderModel
    from conversations.models import Conversation

    change_catalogue_rows("fake/echo", pricing=ProviderModel.objects.get(pk=MINI).pricing)
    prompt = " ".join(["river"] * 100)
    budget(user, daily="0.000135")
    conversation = Conversation.objects.create(owner=user, model_id="fake/echo")
    url = f"/api/conversations/{conversation.pk}/messages"

    if stream:
        status, _, body = stream_post(url, {"content": prompt, "stream": True})
        assert status == 200 and "event: done" in body
    else:
        response = user_api.post(url, {"content": prompt}, format="json")
        assert response.status_code == 201, response.content

    [sent] = _chat_calls(fake_openrouter)
    assert 64 <= sent.body["max_tokens"] <= 80
    answer = Generation.objects.get()
    assert answer.finish_reason == "length" and answer.completion_tokens <= sent.body["max_tokens"]
    held = Reservation.objects.get()
    assert held.status == S.SETTLED and held.amount_settled <= Decimal("0.000135")
    # The text endpoint, asked the same, is capped the same way.
    Reservation.objects.all().delete()
    fake_openrouter.received.clear()
    assert user_api.post(TEXT, {"prompt": prompt, "model": "fake/echo"}, format="json").status_code == 200
    [alone] = _chat_calls(fake_openrouter)
    assert abs(alone.body["max_tokens"] - sent.body["max_tokens"]) <= 5
