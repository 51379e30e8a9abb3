from django.urls import path

from generation import api, views

app_name = "generation"

# Web pages and owner-only media (included at the site root).
urlpatterns = [
    path("generate/text", views.text_page, name="text"),
    path("generate/image", views.image_page, name="image"),
    path("history", views.history_page, name="history"),
    path("history/<int:pk>", views.generation_page, name="detail"),
    path("history/<int:pk>/delete", views.generation_delete_page, name="delete"),
    path("history/<int:pk>/edit", views.image_edit_page, name="image-edit-picked"),
    path("history/<int:pk>/images/<int:image_id>/edit", views.image_edit_page, name="image-edit"),
    path("media/generations/<int:pk>/<str:filename>", api.ImageFileView.as_view(), name="image-file"),
]

# REST API (included under /api/ with the "generation-api" namespace).
api_urlpatterns = [
    path("generate/text", api.TextGenerateApi.as_view(), name="generate-text"),
    path("generate/image", api.ImageGenerateApi.as_view(), name="generate-image"),
    path("generations", api.GenerationListApi.as_view(), name="generations"),
    path("generations/<int:pk>", api.GenerationDetailApi.as_view(), name="generation"),
]
