from django.apps import AppConfig


class OpenRouterConfig(AppConfig):
    """The provider boundary. An app only so it can hold the run_fake_openrouter command;
    it has no models."""

    name = "openrouter"
    label = "openrouter"
    verbose_name = "OpenRouter provider"
