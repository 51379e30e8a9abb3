"""Building the client from settings."""

from types import SimpleNamespace

from openrouter.client import DEMO_API_KEY, DEFAULT_BASE_URL, client_from_settings, get_client


def test_missing_settings_fall_back_to_defaults():
    client = client_from_settings(SimpleNamespace(OPENROUTER_API_KEY=""))

    assert client.base_url == DEFAULT_BASE_URL and client.api_key == DEMO_API_KEY
    assert client.images_path == "/images" and client.timeout == (5.0, 60.0)
    assert client.max_retries == 3 and client.retry_budget == 30.0
    assert client.video_max_bytes == 200 * 1024 * 1024


def test_settings_are_applied():
    client = client_from_settings(SimpleNamespace(
        OPENROUTER_API_KEY="sk", OPENROUTER_BASE_URL="http://127.0.0.1:9/api/v1/", OPENROUTER_APP_URL="https://s.example",
        OPENROUTER_APP_TITLE="S", OPENROUTER_CONNECT_TIMEOUT="2", OPENROUTER_READ_TIMEOUT=7,
        OPENROUTER_MAX_RETRIES=1, OPENROUTER_RETRY_BUDGET=4, OPENROUTER_IMAGES_PATH="images/generations",
        OPENROUTER_VIDEO_MAX_BYTES=1000,
    ))

    assert client.base_url == "http://127.0.0.1:9/api/v1" and client.api_key == "sk"
    assert (client.app_url, client.app_title, client.timeout) == ("https://s.example", "S", (2.0, 7.0))
    assert (client.max_retries, client.retry_budget) == (1, 4.0)
    assert (client.images_path, client.video_max_bytes) == ("/images/generations", 1000)


def test_get_client_is_one_per_process_until_the_settings_change():
    from django.conf import settings
    from django.test import override_settings

    if not settings.configured:
        settings.configure()
    with override_settings(OPENROUTER_BASE_URL="http://127.0.0.1:1/api/v1", OPENROUTER_API_KEY="k1"):
        first = get_client()
        assert get_client() is first and first.base_url == "http://127.0.0.1:1/api/v1"
    with override_settings(OPENROUTER_BASE_URL="http://127.0.0.1:2/api/v1", OPENROUTER_API_KEY="k1"):
        assert get_client() is not first and get_client().base_url == "http://127.0.0.1:2/api/v1"


def test_each_thread_gets_its_own_pooled_session():
    import threading

    client = client_from_settings(SimpleNamespace())
    sessions = []
    threads = [threading.Thread(target=lambda: sessions.append(client.session)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sessions[0] is not sessions[1] and client.session is client.session
