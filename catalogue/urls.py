from django.urls import path

from catalogue import api

# REST API (included under /api/ with the "catalogue-api" namespace).
api_urlpatterns = [
    path("models", api.ModelListApi.as_view(), name="models"),
    # Model ids hold slashes ("google/veo-3.1").
    path("models/<path:model_id>", api.ModelAccessApi.as_view(), name="model-access"),
]
