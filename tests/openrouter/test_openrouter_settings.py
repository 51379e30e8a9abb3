"""Building the clients from settings, and caching them (per process / per event loop)."""

import asyncio
from types import SimpleNamespace

from openrouter.aclient import AsyncOpenRouterClient, get_async_client
from openrouter.client import OpenRouterClient, get_client
from openrouter.config import DEMO_API_KEY, ClientConfig, client_settings


def client_from_settings(settings) -> OpenRouterClient:
    return OpenRouterClient(client_settings(settings))


def test_missing_settings_fall_back_to_the_config_defaults():
    client = client_from_settings(SimpleNamespace(OPENROUTER_API_KEY=""))

    assert client.base_url == ClientConfig().base_url == "https://openrouter.ai/api/v1"
    assert client.config.api_key == DEMO_API_KEY
    assert client.images_path == "/images" and (client.config.connect_timeout, client.config.read_timeout) == (
        5.0,
        120.0,
    )
    assert client.config.max_retries == 3 and client.config.retry_budget == 30.0
    assert client.video_max_bytes == 200 * 1024 * 1024
    assert (client.config.video_download_deadline, client.config.image_download_deadline) == (300.0, 60.0)


def test_the_config_defaults_are_the_django_settings_defaults():
    from config import settings as project_settings
    from openrouter.config import SETTING_NAMES

    defaults = ClientConfig()
    compared = [
        setting
        for setting in SETTING_NAMES
        # these depend on demo mode and PORT
        if setting not in ("OPENROUTER_BASE_URL", "OPENROUTER_API_KEY", "OPENROUTER_APP_URL")
    ]
    assert "OPENROUTER_MAX_RETRIES" in compared and "OPENROUTER_READ_TIMEOUT" in compared
    for setting in compared:
        field = SETTING_NAMES[setting]
        assert getattr(project_settings, setting) == getattr(defaults, field) or setting == "OPENROUTER_APP_TITLE"


def test_settings_are_applied():
    client = client_from_settings(
        SimpleNamespace(
            OPENROUTER_API_KEY="sk",
            OPENROUTER_BASE_URL="http://127.0.0.1:9/api/v1/",
            OPENROUTER_APP_URL="https://s.example",
            OPENROUTER_APP_TITLE="S",
            OPENROUTER_CONNECT_TIMEOUT="2",
            OPENROUTER_READ_TIMEOUT=7,
            OPENROUTER_MAX_RETRIES=1,
            OPENROUTER_RETRY_BUDGET=4,
            OPENROUTER_IMAGES_PATH="images/generations",
            OPENROUTER_VIDEO_MAX_BYTES=1000,
            OPENROUTER_DOWNLOAD_DEADLINE=9,
        )
    )

    config = client.config
    assert client.base_url == "http://127.0.0.1:9/api/v1" and config.api_key == "sk"
    assert (config.app_url, config.app_title, config.connect_timeout, config.read_timeout) == (
        "https://s.example",
        "S",
        2.0,
        7.0,
    )
    assert (config.max_retries, config.retry_budget) == (1, 4.0)
    assert (client.images_path, client.video_max_bytes) == ("/images/generations", 1000)
    assert client.config.video_download_deadline == 9.0


def test_both_clients_read_the_same_config():
    config = client_settings(SimpleNamespace(OPENROUTER_API_KEY="sk", OPENROUTER_READ_TIMEOUT=7))
    aclient = AsyncOpenRouterClient(config)
    assert (
        aclient.config
        == client_from_settings(SimpleNamespace(OPENROUTER_API_KEY="sk", OPENROUTER_READ_TIMEOUT=7)).config
    )
    assert (aclient.config.connect_timeout, aclient.config.read_timeout) == (5.0, 7.0)


def _configure():
    from django.conf import settings

    if not settings.configured:
        settings.configure()


def test_get_client_is_one_per_process_until_the_settings_change():
    from django.test import override_settings

    _configure()
    with override_settings(OPENROUTER_BASE_URL="http://127.0.0.1:1/api/v1", OPENROUTER_API_KEY="k1"):
        first = get_client()
        assert get_client() is first and first.base_url == "http://127.0.0.1:1/api/v1"
    with override_settings(OPENROUTER_BASE_URL="http://127.0.0.1:2/api/v1", OPENROUTER_API_KEY="k1"):
        assert get_client() is not first and get_client().base_url == "http://127.0.0.1:2/api/v1"


def test_get_async_client_is_one_per_loop_until_the_settings_change():
    from django.test import override_settings

    _configure()

    async def twice():
        return get_async_client(), get_async_client()

    async def changed():
        first = get_async_client()
        with override_settings(OPENROUTER_API_KEY="k2"):
            second = get_async_client()
        await asyncio.sleep(0)  # lets the replaced client's close run
        return first, second

    with override_settings(OPENROUTER_BASE_URL="http://127.0.0.1:1/api/v1", OPENROUTER_API_KEY="k1"):
        a, b = asyncio.run(twice())
        assert a is b and a.base_url == "http://127.0.0.1:1/api/v1"
        c, _ = asyncio.run(twice())
        assert c is not a  # another loop, another client
        first, second = asyncio.run(changed())
        assert first is not second and (first.config.api_key, second.config.api_key) == ("k1", "k2")
        assert first.http.is_closed
