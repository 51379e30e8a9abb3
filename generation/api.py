"""The generation REST API: thin DRF views over services and selectors."""

from __future__ import annotations

from collections.abc import AsyncIterator

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from accounts.authentication import request_api_key
from billing.api import BUDGET_EXCEEDED
from core.async_views import AsyncApiView
from core.db import in_db
from core.errors import NotFound
from core.files import stored_file_response
from core.serializers import FieldsBuiltOnce
from core.sse import EventStreamRenderer, event_stream_response, text_stream_events
from core.throttles import GenerationThrottle
from generation import selectors, services

# ------------------------------------------------------------------ shared output


class UsageOut(serializers.Serializer):
    prompt_tokens = serializers.IntegerField()
    completion_tokens = serializers.IntegerField()
    total_tokens = serializers.IntegerField()
    cost = serializers.DecimalField(
        max_digits=14, decimal_places=8, coerce_to_string=False, help_text="provider credits (USD)"
    )


class ImageOut(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.SerializerMethodField(help_text="owner-only URL of the stored file")
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    media_type = serializers.CharField()

    def get_url(self, image) -> str:
        request = self.context.get("request")
        return request.build_absolute_uri(image.url) if request else image.url


class GenerationKeyOut(serializers.Serializer):
    """The personal API key a generation was made with: what identifies it, never the secret."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    prefix = serializers.CharField(help_text="the start of the key's secret, to recognise it")


class GenerationOut(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    model = serializers.CharField(source="model_id")
    status = serializers.CharField()
    prompt = serializers.CharField()
    system = serializers.CharField()
    params = serializers.DictField()
    text = serializers.CharField()
    html = serializers.CharField(help_text="the text as sanitized HTML (markdown rendered)")
    route = serializers.CharField()
    images = ImageOut(many=True)
    source_image_id = serializers.IntegerField(allow_null=True, help_text="the image this one edits, if any")
    conversation_id = serializers.IntegerField(
        allow_null=True, help_text="the conversation this answer belongs to, if any"
    )
    api_key = GenerationKeyOut(
        allow_null=True,
        help_text="the personal API key it was made with (revoked ones "
        "too); null for the pages, a token or a session, or a "
        "deleted key",
    )
    error = serializers.CharField(help_text="why it failed, for the user")
    usage = UsageOut()
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


class TextOut(FieldsBuiltOnce):
    id = serializers.IntegerField()
    model = serializers.CharField(source="model_id")
    status = serializers.CharField()
    text = serializers.CharField()
    html = serializers.CharField(help_text="the text as sanitized HTML (markdown rendered)")
    finish_reason = serializers.CharField()
    usage = UsageOut()
    created_at = serializers.DateTimeField()


class ImageGenerationOut(serializers.Serializer):
    id = serializers.IntegerField()
    model = serializers.CharField(source="model_id")
    status = serializers.CharField()
    source_image_id = serializers.IntegerField(allow_null=True, help_text="the image this one edits, if any")
    route = serializers.CharField(help_text='"chat" or "images": the provider endpoint used')
    images = ImageOut(many=True)
    text = serializers.CharField()
    usage = UsageOut()
    created_at = serializers.DateTimeField()


ERRORS = {
    400: OpenApiResponse(description="bad input: the body names the field and what is accepted"),
    401: OpenApiResponse(description="not signed in"),
    402: BUDGET_EXCEEDED,
    429: OpenApiResponse(description="throttled, or the provider rate-limits us (Retry-After says when)"),
    502: OpenApiResponse(description="the provider failed or answered something unreadable"),
    503: OpenApiResponse(description="provider account problem, or the images could not be stored"),
    504: OpenApiResponse(description="the provider took too long"),
}


# ------------------------------------------------------------------ text


class TextIn(FieldsBuiltOnce):
    prompt = serializers.CharField(trim_whitespace=True, allow_blank=True)
    model = serializers.CharField(allow_blank=True)
    system = serializers.CharField(required=False, allow_blank=True, default="")
    max_tokens = serializers.IntegerField(required=False, allow_null=True, default=None)
    temperature = serializers.FloatField(required=False, allow_null=True, default=None)
    stream = serializers.BooleanField(
        required=False, default=False, help_text="answer as server-sent events (also with Accept: text/event-stream)"
    )


def wants_stream(request, data) -> bool:
    return bool(data.get("stream")) or "text/event-stream" in request.META.get("HTTP_ACCEPT", "")


def text_event_stream(stream: services.TextStream, *, context: dict) -> AsyncIterator[str]:
    """SSE for a text stream: `start`, then `data: {"text": ...}` pieces, then `done`
    with the saved generation (or `error`). Cut short (client gone, server stopping),
    the text that arrived is saved as partial and the provider's stream is closed."""
    return text_stream_events(
        stream,
        start={"id": stream.generation.pk, "model": stream.generation.model_id},
        record_id=stream.generation.pk,
        done=lambda: TextOut(stream.generation, context=context).data,
    )


class TextGenerateApi(AsyncApiView):
    """Generate text with a chat model; whole, or streamed as server-sent events."""

    accepts_api_keys = True

    throttle_classes = [GenerationThrottle]
    renderer_classes = [*api_settings.DEFAULT_RENDERER_CLASSES, EventStreamRenderer]  # type: ignore[list-item]  # DRF's settings hold the classes; the stubs say strings

    @extend_schema(
        operation_id="generate_text",
        request=TextIn,
        responses={
            200: OpenApiResponse(
                TextOut,
                description=(
                    'the answer; with stream=true a text/event-stream of `start`, `data: {"text": ...}` '
                    "pieces and a final `done` event carrying this object (or an `error` event)"
                ),
            ),
            **ERRORS,
        },
    )
    async def post(self, request):
        body = TextIn(data=request.data)
        body.is_valid(raise_exception=True)
        fields = {key: body.validated_data[key] for key in ("prompt", "model", "system", "max_tokens", "temperature")}
        fields["api_key"] = request_api_key(request)
        if wants_stream(request, body.validated_data):
            stream = await services.text_stream_start(user=request.user, **fields)
            return event_stream_response(text_event_stream(stream, context={"request": request}))
        generation = await services.text_generate(user=request.user, **fields)
        return Response(TextOut(generation, context={"request": request}).data)


# ------------------------------------------------------------------ images


class ImageIn(serializers.Serializer):
    prompt = serializers.CharField(trim_whitespace=True, allow_blank=True)
    model = serializers.CharField(allow_blank=True)
    n = serializers.IntegerField(required=False, allow_null=True, default=1)
    size = serializers.CharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        default=None,
        help_text='exact pixels, e.g. "1792x1024" (image-only models that list sizes)',
    )
    aspect_ratio = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, default=None, help_text='e.g. "16:9"; not together with size'
    )
    image_size = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, default=None, help_text='resolution, e.g. "1K", "2K", "4K"'
    )
    source_image_id = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text="edit this image (one of yours): needs a model that takes image input and gives image output",
    )
    source_image_url = serializers.CharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        default=None,
        trim_whitespace=True,
        help_text="edit this image instead: an https:// URL (passed to the provider as it is) or a "
        "data:image/...;base64 URL (PNG, JPEG, WebP or GIF, within GENERATION_SOURCE_IMAGE_MAX_BYTES, "
        "5 MB by default); not together with source_image_id; needs a model that takes image "
        "input and gives image output",
    )


class ImageGenerateApi(AsyncApiView):
    """Generate images; the model's catalogue entry decides the route and what it accepts."""

    accepts_api_keys = True

    throttle_classes = [GenerationThrottle]

    @extend_schema(operation_id="generate_image", request=ImageIn, responses={201: ImageGenerationOut, **ERRORS})
    async def post(self, request):
        body = ImageIn(data=request.data)
        body.is_valid(raise_exception=True)
        generation = await services.image_generate(
            user=request.user, api_key=request_api_key(request), **body.validated_data
        )
        data = await in_db(lambda: ImageGenerationOut(generation, context={"request": request}).data)()
        return Response(data, status=status.HTTP_201_CREATED)


# ------------------------------------------------------------------ history


class HistoryQuery(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["text", "image"], required=False)


class GenerationListApi(APIView):
    """The signed-in user's own generations, newest first, paginated."""

    accepts_api_keys = True

    # drf-spectacular documents the 200 as this paginator's page object (count/next/previous/results).
    pagination_class = PageNumberPagination

    @extend_schema(
        operation_id="generations_list",
        parameters=[OpenApiParameter("kind", str, enum=["text", "image"]), OpenApiParameter("page", int)],
        responses={
            200: GenerationOut(many=True),
            400: ERRORS[400],
            401: ERRORS[401],
            404: OpenApiResponse(description="no such page"),
        },
    )
    def get(self, request):
        query = HistoryQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        generations = selectors.user_generations(user=request.user, kind=query.validated_data.get("kind"))
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(generations, request, view=self)
        return paginator.get_paginated_response(GenerationOut(page, many=True, context={"request": request}).data)


class GenerationDetailApi(APIView):
    """One generation: its owner (or an admin) may read it; its owner may delete it."""

    accepts_api_keys = True

    @extend_schema(
        operation_id="generations_retrieve",
        responses={200: GenerationOut, 401: ERRORS[401], 404: OpenApiResponse(description="not yours")},
    )
    def get(self, request, pk):
        generation = selectors.user_generation(user=request.user, generation_id=pk, allow_admin=True)
        return Response(GenerationOut(generation, context={"request": request}).data)

    @extend_schema(
        operation_id="generations_destroy",
        responses={204: None, 401: ERRORS[401], 404: OpenApiResponse(description="not yours")},
    )
    def delete(self, request, pk):
        generation = selectors.user_generation(user=request.user, generation_id=pk)
        services.generation_delete(generation=generation, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ImageFileView(APIView):
    """A stored image's bytes, for its owner and admins; anyone else gets a 404."""

    accepts_api_keys = True

    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="generation_image_file",
        parameters=[OpenApiParameter("download", bool)],
        responses={(200, "image/*"): OpenApiTypes.BINARY, 404: OpenApiResponse(description="not yours")},
    )
    def get(self, request, pk, filename):
        image = selectors.user_image(user=request.user, image_id=pk, allow_admin=True)
        if image.filename != filename:
            raise NotFound("Image not found.")
        return stored_file_response(
            image.file,
            media_type=image.media_type,
            as_attachment=request.query_params.get("download") in ("1", "true"),
            range_header=request.headers.get("Range"),
        )
