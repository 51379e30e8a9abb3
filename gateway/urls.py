"""The OpenAI-compatible API, included at /v1/ (namespace "gateway")."""

from django.urls import path, re_path

from gateway import api, embeddings, errors, images, models_api, responses

app_name = "gateway"

urlpatterns = [
    path("models", models_api.ModelListApi.as_view(), name="models"),
    path("models/<path:model_id>", models_api.ModelDetailApi.as_view(), name="model"),
    path("chat/completions", api.ChatCompletionApi.as_view(), name="chat-completions"),
    path("responses", responses.ResponsesApi.as_view(), name="responses"),
    path("embeddings", embeddings.EmbeddingsApi.as_view(), name="embeddings"),
    path("images/generations", images.ImageGenerationApi.as_view(), name="image-generations"),
    path("images/edits", images.ImageEditApi.as_view(), name="image-edits"),
    # The images /v1/ answers hand out as URLs: signed and expiring, no credentials.
    path("images/files/<int:pk>/<str:filename>", images.signed_image_file, name="image-file"),
    path("videos", api.VideoCreateApi.as_view(), name="videos"),
    path("videos/<int:pk>", api.VideoStatusApi.as_view(), name="video"),
    path("videos/<int:pk>/content", api.VideoContentApi.as_view(), name="video-content"),
    # Last: whatever no endpoint took is a 404 in OpenAI's error shape.
    re_path(r"^", errors.not_found, name="not-found"),
]
