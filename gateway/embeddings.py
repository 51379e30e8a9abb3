"""``POST /v1/embeddings`` in OpenAI's shape, through the provider's embeddings endpoint.

One history row per request (kind "embedding", not one per vector), reserved against the
owner's budget and settled at the provider's cost (generation.services.embeddings_create).
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from accounts.authentication import request_api_key
from core.errors import InvalidInput
from core.throttles import GenerationThrottle
from gateway.api import ERRORS, OpenAiAsyncView
from generation import services as generation


class EmbeddingsIn(serializers.Serializer):
    model = serializers.CharField(allow_blank=True)
    input = serializers.JSONField(help_text="a text, a list of texts, or token lists (lists of whole numbers)")
    dimensions = serializers.JSONField(
        required=False, allow_null=True, default=None, help_text="shorter vectors, for models that allow it"
    )
    encoding_format = serializers.JSONField(
        required=False, allow_null=True, default=None, help_text="float (the default) or base64 (float32 bytes)"
    )
    user = serializers.JSONField(required=False, help_text="accepted and not used")


EmbeddingsOut = inline_serializer(
    "OpenAIEmbeddings",
    {
        "object": serializers.CharField(default="list"),
        "data": inline_serializer(
            "OpenAIEmbedding",
            {
                "object": serializers.CharField(default="embedding"),
                "index": serializers.IntegerField(),
                "embedding": serializers.JSONField(help_text="a list of floats, or base64 text"),
            },
            many=True,
        ),
        "model": serializers.CharField(),
        "usage": inline_serializer(
            "OpenAIEmbeddingUsage",
            {"prompt_tokens": serializers.IntegerField(), "total_tokens": serializers.IntegerField()},
        ),
    },
)


class EmbeddingsApi(OpenAiAsyncView):
    """Embed a text or a list of texts with one of the catalogue's embedding models."""

    throttle_classes = [GenerationThrottle]

    @extend_schema(
        operation_id="openai_embeddings_create",
        request=EmbeddingsIn,
        responses={200: OpenApiResponse(EmbeddingsOut, description="one vector per input, in input order"), **ERRORS},
    )
    async def post(self, request):
        if isinstance(request.data, dict):
            unknown = sorted(set(request.data) - set(EmbeddingsIn().fields))
            if unknown:
                raise InvalidInput(f"{unknown[0]} is not a parameter of embeddings.", field=unknown[0])
        body = EmbeddingsIn(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        row, result = await generation.embeddings_create(
            user=request.user,
            api_key=request_api_key(request),
            model=data["model"],
            input=data["input"],
            dimensions=data["dimensions"],
            encoding_format=data["encoding_format"],
        )
        return Response(
            {
                "object": "list",
                "data": [
                    {"object": "embedding", "index": index, "embedding": vector}
                    for index, vector in enumerate(result.vectors)
                ],
                "model": row.model_id,
                "usage": {"prompt_tokens": row.prompt_tokens, "total_tokens": row.total_tokens},
            }
        )
