"""The double itself: authorization, fault selection, the request log, its media and
its management command."""

import io
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from PIL import Image

from openrouter.fake import ALL_FAULTS, FakeOpenRouter
from openrouter.fake import media as fake_media

ROOT = Path(__file__).resolve().parents[2]
AUTH = {"Authorization": "Bearer anything"}


def test_everything_under_the_api_needs_a_bearer_key(fake):
    for headers in ({}, {"Authorization": "Bearer"}, {"Authorization": "Basic abc"}):
        answer = httpx.get(f"{fake.base_url}/models", headers=headers)
        assert answer.status_code == 401
        assert answer.json() == {"error": {"code": 401, "message": "No auth credentials found"}}
    assert httpx.get(f"{fake.base_url}/models", headers=AUTH).status_code == 200


def test_auth_can_be_switched_off_for_manual_use():
    with FakeOpenRouter(api_key_required=False) as open_fake:
        assert httpx.get(f"{open_fake.base_url}/key").json()["data"]["label"] == "fake-openrouter"


def test_unknown_routes_methods_and_faults_are_explained(fake):
    assert httpx.get(f"{fake.base_url}/nothing", headers=AUTH).status_code == 404
    assert httpx.get(f"{fake.base_url}/chat/completions", headers=AUTH).status_code == 405
    typo = httpx.get(f"{fake.base_url}/models", headers={**AUTH, "X-Fake-Fault": "rate_limt"})
    assert typo.status_code == 400 and "Unknown fake fault 'rate_limt'" in typo.json()["error"]["message"]
    broken = httpx.post(f"{fake.base_url}/chat/completions", content=b"{nope", headers=AUTH)
    assert broken.status_code == 400


def test_fault_counts_fail_the_first_identical_requests_only(fake):
    url, headers = f"{fake.base_url}/models", {**AUTH, "X-Fake-Fault": "unavailable", "X-Fake-Fault-Count": "2"}
    assert [httpx.get(url, headers=headers).status_code for _ in range(3)] == [503, 503, 200]
    # another request (other path) has its own count
    assert httpx.get(f"{fake.base_url}/key", headers=headers).status_code == 503
    fake.reset()
    assert httpx.get(url, headers=headers).status_code == 503


def test_rate_limit_answers_carry_retry_after_scaled_by_time(fake):
    answer = httpx.get(f"{fake.base_url}/models", headers={**AUTH, "X-Fake-Fault": "rate_limit"})
    assert answer.status_code == 429 and answer.headers["Retry-After"] == "1"  # 10 s x 0.1
    assert answer.json()["error"]["code"] == 429


def test_the_fault_list_is_documented():
    import openrouter.fake as module

    assert len(ALL_FAULTS) > 10
    for name in ALL_FAULTS:
        assert f"``{name}``" in module.__doc__


def test_the_request_log_records_method_path_headers_and_body(fake, client):
    client.chat(model="fake/echo", messages=[{"role": "user", "content": "hi"}])
    client.list_models(output_modality="image")

    chat, models = fake.received
    assert (chat.method, chat.path, chat.body["model"]) == ("POST", "/api/v1/chat/completions", "fake/echo")
    assert chat.headers["content-type"] == "application/json"
    assert (models.method, models.path, models.body) == ("GET", "/api/v1/models?output_modalities=image", None)
    assert fake.received.matching("GET", "/api/v1/models") == [models]
    assert len(fake.received.snapshot()) == 2


@pytest.mark.parametrize(
    "aspect_ratio, image_size, expected",
    [
        (None, None, (1024, 1024)),
        ("16:9", "1K", (1024, 576)),
        ("9:16", "2K", (1152, 2048)),
        ("4:5", "4K", (3277, 4096)),
        ("21:9", "1K", (1024, 439)),
        ("bad", "1K", (1024, 1024)),
    ],
)
def test_chat_image_sizes_follow_ratio_and_image_size(aspect_ratio, image_size, expected):
    assert fake_media.chat_image_dimensions(aspect_ratio, image_size) == expected


def test_images_endpoint_sizes_are_exact():
    assert fake_media.images_endpoint_dimensions("1792x1024", None, None) == (1792, 1024)
    assert fake_media.images_endpoint_dimensions(None, "3:2", "2K") == (2048, 1365)


def test_pngs_are_real_deterministic_and_cheap_at_4k():
    fake_media.png_bytes.cache_clear()
    started = time.monotonic()
    data = fake_media.png_bytes(4096, 4096, "a mountain", 0)
    assert time.monotonic() - started < 2.0
    assert len(data) < 500_000
    with Image.open(io.BytesIO(data)) as image:
        assert image.size == (4096, 4096)
    fake_media.png_bytes.cache_clear()
    assert fake_media.png_bytes(4096, 4096, "a mountain", 0) == data
    assert fake_media.png_bytes(64, 64, "a", 0) != fake_media.png_bytes(64, 64, "b", 0)


def test_the_sample_video_is_a_small_browser_playable_mp4():
    data = fake_media.sample_video_bytes()
    assert len(data) < 200_000
    assert data[4:8] == b"ftyp"
    # faststart: the index (moov) comes before the media data, so playback starts at once
    assert 0 < data.index(b"moov") < data.index(b"mdat")
    assert b"avc1" in data  # H.264


def test_stop_cuts_a_slow_answer_short(fake):
    import threading

    result = {}

    def slow_call():
        try:
            result["status"] = httpx.get(
                f"{fake.base_url}/models", headers={**AUTH, "X-Fake-Fault": "slow"}, timeout=10
            ).status_code
        except httpx.HTTPError as exc:
            result["error"] = exc

    thread = threading.Thread(target=slow_call)
    thread.start()
    time.sleep(0.2)
    started = time.monotonic()
    fake.stop()
    thread.join(5)
    assert time.monotonic() - started < 1.5 and not thread.is_alive()


def test_management_command_serves_and_prints_the_base_url():
    script = (
        "import django; from django.conf import settings; "
        "settings.configure(INSTALLED_APPS=['openrouter']); django.setup(); "
        "from django.core.management import call_command; "
        "call_command('run_fake_openrouter', '--port', '0', '--video-seconds', '1', '--quiet')"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": ""},
    )
    try:
        first_line = process.stdout.readline().strip()
        assert first_line.startswith("OPENROUTER_BASE_URL=http://127.0.0.1:"), process.stderr.read()
        base_url = first_line.split("=", 1)[1]
        assert base_url.endswith("/api/v1")
        models = httpx.get(f"{base_url}/videos/models", headers=AUTH, timeout=5).json()
        assert {m["id"] for m in models["data"]} == {"google/veo-3.1", "openai/sora-2"}
    finally:
        process.terminate()
        process.wait(5)
