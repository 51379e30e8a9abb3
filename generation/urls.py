from django.urls import path

from generation import api

app_name = "generation"

# Web pages (included at the site root).
urlpatterns: list = []

# REST API (included under /api/ with the "generation-api" namespace).
api_urlpatterns = [
    path("models", api.ModelListApi.as_view(), name="models"),
]
