from django.apps import AppConfig


class VideosConfig(AppConfig):
    name = "videos"

    def ready(self) -> None:
        from videos import signals  # noqa: F401  (file clean-up on delete)
