"""Studio's URLs plus endpoints that fail, for the error-answer tests."""

from django.urls import path

from config.urls import handler400, handler403, handler404, handler500  # noqa: F401
from config.urls import urlpatterns as studio_urlpatterns


def boom(request):
    raise RuntimeError("boom")


urlpatterns = [path("api/boom", boom), path("boom", boom), *studio_urlpatterns]
