"""The project's URLs plus baselines for bench/video_status_throughput.py."""

from django.http import JsonResponse
from django.urls import include, path
from rest_framework.response import Response
from rest_framework.views import APIView


def trivial_json(request):
    return JsonResponse({"ok": True})


class AuthenticatedNothingApi(APIView):
    """DRF with the project's authentication and nothing else: what any API view costs."""

    def get(self, request):
        return Response({"ok": True})


urlpatterns = [
    path("bench/trivial-json", trivial_json),
    path("bench/drf-authenticated", AuthenticatedNothingApi.as_view()),
    path("", include("config.urls")),
]
