"""``GET /v1/models`` and ``/v1/models/{id}`` in OpenAI's shape.

The list holds chat models by default, since chat UIs and SDK helpers take every listed
model for one; ``?kind=image|video|embedding|all`` or OpenRouter's
``?output_modalities=text,image`` (models making every listed output; ``all``) widen it.
One model is found whatever its kind, among those this person may use.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from catalogue.errors import UnknownModel
from catalogue.models import ProviderModel
from catalogue.selectors import catalogue_list
from core.errors import InvalidInput
from gateway.api import ERROR, ERRORS, OpenAiView

KINDS = ("text", "image", "video", "embedding", "all")


class ModelOut(serializers.Serializer):
    id = serializers.CharField()
    object = serializers.CharField(default="model")
    created = serializers.IntegerField()
    owned_by = serializers.CharField()


ModelListOut = inline_serializer(
    "OpenAIModelList", {"object": serializers.CharField(default="list"), "data": ModelOut(many=True)}
)


def model_body(entry: ProviderModel) -> dict:
    return {
        "id": entry.pk,
        "object": "model",
        "created": int(entry.first_seen.timestamp()) if entry.first_seen else 0,
        "owned_by": entry.pk.split("/", 1)[0] if "/" in entry.pk else "openrouter",
    }


def listed_models(*, user, kind: str | None, output_modalities: str | None) -> list[ProviderModel]:
    """The models ``user`` may use, of one kind (text unless a filter says otherwise)."""
    kind = (kind or "").strip() or None
    if kind is not None and kind not in KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(KINDS)}.", field="kind")
    wanted = {m.strip() for m in (output_modalities or "").split(",") if m.strip()}
    if kind is None and not wanted:
        kind = "text"
    models = list(catalogue_list(kind=None if kind in (None, "all") else kind, user=user))
    if wanted and "all" not in wanted:
        models = [m for m in models if wanted <= set(m.output_modalities or [])]
    return models


class ModelListApi(OpenAiView):
    """The models you may use: chat models unless ``kind`` or ``output_modalities`` say otherwise."""

    @extend_schema(
        operation_id="openai_models_list",
        parameters=[
            OpenApiParameter(
                "kind", str, enum=list(KINDS), description="text (the default), image, video, embedding, all"
            ),
            OpenApiParameter(
                "output_modalities",
                str,
                description="OpenRouter's filter: models making every listed output (text,image,video,embeddings), or all",
            ),
        ],
        responses={200: ModelListOut, 400: ERRORS[400], 401: ERRORS[401]},
    )
    def get(self, request):
        models = listed_models(
            user=request.user,
            kind=request.query_params.get("kind"),
            output_modalities=request.query_params.get("output_modalities"),
        )
        return Response({"object": "list", "data": [model_body(entry) for entry in models]})


class ModelDetailApi(OpenAiView):
    """One model you may use, of any kind."""

    @extend_schema(
        operation_id="openai_models_retrieve",
        responses={200: ModelOut, 401: ERRORS[401], 404: OpenApiResponse(ERROR, description="model_not_found")},
    )
    def get(self, request, model_id: str):
        entry = catalogue_list(user=request.user).filter(pk=model_id).first()
        if entry is None:
            lead = f'"{model_id}" is not a model you may use'
            raise UnknownModel(lead, field="model", reason="unknown", lead=lead, model_kind="all")
        return Response(model_body(entry))
