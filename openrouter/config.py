"""The client's configuration: one frozen dataclass and how it is read from settings.

``config/settings.py`` is where the app's values come from (environment variables with
their defaults); the defaults here are the same values, for clients built outside
Django (tests, scripts). Both clients take a :class:`ClientConfig`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

# Sent when no key is configured (demo mode): the offline double accepts any
# non-empty bearer token, and the real provider answers 401, which names the problem.
DEMO_API_KEY = "demo-mode-no-key"


@dataclass(frozen=True)
class ClientConfig:
    """Everything a client needs to know about the provider. Comparable, so a cached
    client can tell whether the settings changed under it."""

    base_url: str = "https://openrouter.ai/api/v1"
    api_key: str = ""
    app_url: str = ""
    app_title: str = ""
    connect_timeout: float = 5.0
    read_timeout: float = 120.0
    max_retries: int = 3
    retry_budget: float = 30.0
    backoff_base: float = 0.5
    backoff_cap: float = 8.0
    images_path: str = "/images"
    video_max_bytes: int = 200 * 1024 * 1024
    # Overall limits on fetching provider-hosted files, whatever the per-read timeouts allow.
    video_download_deadline: float = 300.0
    image_download_deadline: float = 60.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_url", self.base_url.rstrip("/"))
        object.__setattr__(self, "images_path", "/" + self.images_path.strip("/"))
        object.__setattr__(self, "max_retries", max(0, int(self.max_retries)))
        for name in (
            "connect_timeout",
            "read_timeout",
            "retry_budget",
            "backoff_base",
            "backoff_cap",
            "video_download_deadline",
            "image_download_deadline",
        ):
            object.__setattr__(self, name, float(getattr(self, name)))
        object.__setattr__(self, "video_max_bytes", int(self.video_max_bytes))


# Settings name -> ClientConfig field. Names missing (or empty) in settings keep the default.
SETTING_NAMES = {
    "OPENROUTER_BASE_URL": "base_url",
    "OPENROUTER_API_KEY": "api_key",
    "OPENROUTER_APP_URL": "app_url",
    "OPENROUTER_APP_TITLE": "app_title",
    "OPENROUTER_CONNECT_TIMEOUT": "connect_timeout",
    "OPENROUTER_READ_TIMEOUT": "read_timeout",
    "OPENROUTER_MAX_RETRIES": "max_retries",
    "OPENROUTER_RETRY_BUDGET": "retry_budget",
    "OPENROUTER_IMAGES_PATH": "images_path",
    "OPENROUTER_VIDEO_MAX_BYTES": "video_max_bytes",
    "OPENROUTER_DOWNLOAD_DEADLINE": "video_download_deadline",
    "OPENROUTER_IMAGE_DOWNLOAD_DEADLINE": "image_download_deadline",
}


def client_settings(settings: Any) -> ClientConfig:
    """The configuration read from a settings object (any object with OPENROUTER_* attributes).

    Without a key the demo key is sent, so the double accepts the calls and the real
    provider's 401 names the problem.
    """
    values: dict[str, Any] = {}
    for setting, name in SETTING_NAMES.items():
        value = getattr(settings, setting, None)
        if value is not None and value != "":
            values[name] = value
    values.setdefault("api_key", DEMO_API_KEY)
    values.setdefault("app_title", "Studio")
    known = {f.name for f in fields(ClientConfig)}
    return ClientConfig(**{k: v for k, v in values.items() if k in known})
