"""The OpenAI-compatible API under /v1/, for the official SDKs and tools built on them.

Thin views over the same services as the pages and /api/ (catalogue validation, the
per-user in-flight cap and deadline, GenerationThrottle, history rows, budgets), called
with a personal API key (``Authorization: Bearer sk-studio-...``, kept on every row they
write). Answers are in OpenAI's shapes (videos in OpenRouter's video API shape), errors
in OpenAI's error shape (gateway.errors).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import ApiKeyAuthentication, request_api_key
from core.async_views import AsyncApiView
from core.errors import InvalidInput, NotFound
from core.files import stored_file_response
from core.parsers import JSONParser
from core.serializers import FieldsBuiltOnce
from core.sse import SSE_DONE, event_stream_response, relay_text, sse_event
from core.throttles import GenerationThrottle
from gateway.errors import describe, error_body, openai_exception_handler
from generation import services as generation
from generation import validation
from generation.models import Generation
from videos import selectors as video_selectors
from videos import services as videos
from videos.models import VideoJob

# ------------------------------------------------------------------ shared


class JsonOnly(BaseContentNegotiation):
    """JSON whatever the Accept header says (SDKs send their own); streams set their type."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type

    def select_parser(self, request, parsers):
        return parsers[0] if request.content_type.startswith("application/json") or not request.content_type else None


class OpenAiMixin(APIView):
    """Personal API keys only, JSON in and out, errors in OpenAI's shape."""

    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [IsAuthenticated]
    parser_classes: list[type[BaseParser]] = [JSONParser]
    renderer_classes = [JSONRenderer]
    content_negotiation_class = JsonOnly
    accepts_api_keys = True

    def get_exception_handler(self):
        return openai_exception_handler


class OpenAiView(OpenAiMixin, APIView):
    pass


class OpenAiAsyncView(OpenAiMixin, AsyncApiView):
    pass


def _error_schema():
    return inline_serializer(
        "OpenAIError",
        {
            "error": inline_serializer(
                "OpenAIErrorDetail",
                {
                    "message": serializers.CharField(),
                    "type": serializers.CharField(),
                    "param": serializers.CharField(allow_null=True),
                    "code": serializers.CharField(allow_null=True),
                },
            )
        },
    )


ERROR = _error_schema()
ERRORS = {
    400: OpenApiResponse(ERROR, description="bad input (param names the field), or the provider refused"),
    401: OpenApiResponse(ERROR, description="no API key, or an unknown, revoked or expired one"),
    402: OpenApiResponse(ERROR, description="insufficient_quota: your budget is spent"),
    404: OpenApiResponse(ERROR, description="model_not_found: no such model, or not one you may use"),
    429: OpenApiResponse(ERROR, description="throttled or too much in flight; Retry-After says when"),
    502: OpenApiResponse(ERROR, description="the provider failed"),
    503: OpenApiResponse(ERROR, description="provider account problem, or storage unavailable"),
    504: OpenApiResponse(ERROR, description="the provider took too long"),
}


def _timestamp(moment) -> int:
    return int(moment.timestamp()) if moment else 0


# ------------------------------------------------------------------ chat completions


class ChatMessageIn(FieldsBuiltOnce):
    role = serializers.CharField(help_text="system, developer (sent as system), user, assistant or tool")
    content = serializers.JSONField(
        required=False,
        allow_null=True,
        default=None,
        help_text=(
            'a string, or a list of {"type": "text", "text": ...} parts and, in user messages to a model that takes '
            'images, {"type": "image_url", "image_url": {"url": "<https URL or data:image/...;base64,...>"}} parts; '
            "null only in an assistant message with tool_calls"
        ),
    )
    tool_calls = serializers.JSONField(
        required=False, help_text='an assistant message\'s calls: [{"id", "type": "function", "function": {...}}]'
    )
    tool_call_id = serializers.CharField(required=False, help_text="a tool message: the call it answers")
    name = serializers.CharField(required=False, help_text="accepted, not sent on")


class ChatCompletionIn(FieldsBuiltOnce):
    model = serializers.CharField(allow_blank=True)
    messages = ChatMessageIn(many=True, allow_empty=False)
    max_tokens = serializers.IntegerField(required=False, allow_null=True, default=None)
    max_completion_tokens = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text="the same as max_tokens"
    )
    temperature = serializers.FloatField(required=False, allow_null=True, default=None)
    top_p = serializers.FloatField(required=False, allow_null=True, default=None)
    stop = serializers.JSONField(
        required=False, allow_null=True, default=None, help_text="a string or a list of up to 4 strings"
    )
    seed = serializers.IntegerField(required=False, allow_null=True, default=None)
    n = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text=("how many choices: up to GENERATION_MAX_IN_FLIGHT, each its own history row; only 1 when streamed"),
    )
    stream = serializers.BooleanField(required=False, default=False)
    stream_options = serializers.DictField(
        required=False,
        allow_null=True,
        default=None,
        help_text=(
            '{"include_usage": true}: a last chunk with empty choices carries usage (without it the finish '
            "chunk does); ignored unless streamed"
        ),
    )
    tools = serializers.JSONField(required=False, help_text='[{"type": "function", "function": {name, parameters}}]')
    tool_choice = serializers.JSONField(required=False, help_text='none, auto, required or {"type": "function", ...}')
    parallel_tool_calls = serializers.JSONField(required=False)
    response_format = serializers.JSONField(
        required=False, help_text='{"type": "json_object"} or {"type": "json_schema", "json_schema": {...}}'
    )
    logprobs = serializers.JSONField(required=False)
    top_logprobs = serializers.JSONField(required=False, help_text="0 to 20, with logprobs: true")
    frequency_penalty = serializers.JSONField(required=False)
    presence_penalty = serializers.JSONField(required=False)
    logit_bias = serializers.JSONField(required=False)
    user = serializers.JSONField(required=False)
    reasoning_effort = serializers.JSONField(required=False, help_text="sent as OpenRouter's reasoning.effort")
    reasoning = serializers.JSONField(required=False, help_text="OpenRouter's {effort, max_tokens, exclude, enabled}")
    models = serializers.JSONField(required=False, help_text="OpenRouter's fallback models")
    provider = serializers.JSONField(required=False, help_text="OpenRouter's provider routing")
    plugins = serializers.JSONField(required=False, help_text="OpenRouter's plugins")
    transforms = serializers.JSONField(required=False, help_text="OpenRouter's transforms")


# The parameters chat completions take, from the class (an instance deep-copies every field).
CHAT_PARAMETERS = frozenset(ChatCompletionIn._declared_fields)


class ChatUsageOut(serializers.Serializer):
    prompt_tokens = serializers.IntegerField()
    completion_tokens = serializers.IntegerField()
    total_tokens = serializers.IntegerField()


ChatCompletionOut = inline_serializer(
    "OpenAIChatCompletion",
    {
        "id": serializers.CharField(),
        "object": serializers.CharField(default="chat.completion"),
        "created": serializers.IntegerField(),
        "model": serializers.CharField(),
        "choices": inline_serializer(
            "OpenAIChatChoice",
            {
                "index": serializers.IntegerField(),
                "message": inline_serializer(
                    "OpenAIChatMessage", {"role": serializers.CharField(), "content": serializers.CharField()}
                ),
                "finish_reason": serializers.CharField(allow_null=True),
            },
            many=True,
        ),
        "usage": ChatUsageOut(),
    },
)


def _usage(generation: Generation) -> dict:
    return {
        "prompt_tokens": generation.prompt_tokens,
        "completion_tokens": generation.completion_tokens,
        "total_tokens": generation.total_tokens,
    }


def _completion_id(generation: Generation) -> str:
    return f"chatcmpl-studio-{generation.pk}"


def _include_usage(stream_options) -> bool:
    value = (stream_options or {}).get("include_usage", False)
    if not isinstance(value, bool):
        raise InvalidInput("stream_options.include_usage must be true or false.", field="stream_options")
    return value


def completion_chunks(stream: generation.TextStream, *, include_usage: bool = False) -> AsyncIterator[str]:
    """OpenAI's stream: a role chunk, content chunks, a last chunk with the finish reason,
    then ``data: [DONE]``. With ``include_usage`` every chunk has ``"usage": null`` and one
    more chunk, with empty choices, carries the usage (OpenAI's stream_options); without
    it the finish chunk carries the usage, as OpenRouter's streams do. A failure
    mid-stream is one ``data: {"error": ...}`` event (the SDKs raise it); cut short, the
    text that arrived is kept as partial."""
    row = stream.generation
    base = {
        "id": _completion_id(row),
        "object": "chat.completion.chunk",
        "created": _timestamp(row.created_at),
        "model": row.model_id,
    }
    if include_usage:
        base["usage"] = None

    def chunk(delta: dict, finish_reason=None, **extra) -> str:
        return sse_event({**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}], **extra})

    def piece(item) -> str:
        delta: dict[str, Any] = {}
        if item.text:
            delta["content"] = item.text
        if item.tool_calls:
            delta["tool_calls"] = list(item.tool_calls)
        return chunk(delta)

    def failure(exc: Exception) -> str | None:
        described = describe(exc)
        if described is None:
            return None
        status_code, message, param, code = described
        return sse_event(error_body(status_code, message, param=param, code=code))

    def closing() -> list[str]:
        done = stream.generation
        finish_reason = done.finish_reason or "stop"
        if include_usage:
            last = [chunk({}, finish_reason), sse_event({**base, "choices": [], "usage": _usage(done)})]
        else:
            last = [chunk({}, finish_reason, usage=_usage(done))]
        return [*last, SSE_DONE]

    return relay_text(
        stream,
        opening=[chunk({"role": "assistant", "content": ""})],
        piece=piece,
        failure=failure,
        closing=closing,
        deltas=True,
    )


def _completion_body(rows: list[Generation]) -> dict:
    """One chat.completion of one or more answers (n): each a choice, usage summed."""
    first = rows[0]
    usage = {
        name: sum(_usage(row)[name] for row in rows) for name in ("prompt_tokens", "completion_tokens", "total_tokens")
    }
    return {
        "id": _completion_id(first),
        "object": "chat.completion",
        "created": _timestamp(first.created_at),
        "model": first.model_id,
        "choices": [
            {
                "index": index,
                "message": _message(row),
                "finish_reason": row.finish_reason or "stop",
                "logprobs": row.logprobs,
            }
            for index, row in enumerate(rows)
        ],
        "usage": usage,
    }


def _message(row: Generation) -> dict:
    calls = (row.params or {}).get("tool_calls")
    if calls:
        return {"role": "assistant", "content": row.text or None, "tool_calls": calls, "refusal": None}
    return {"role": "assistant", "content": row.text, "refusal": None}


class ChatCompletionApi(OpenAiAsyncView):
    """Create a chat completion: whole (``n`` choices at once), or streamed as server-sent chunks."""

    throttle_classes = [GenerationThrottle]

    @extend_schema(
        operation_id="openai_chat_completions_create",
        request=ChatCompletionIn,
        responses={
            200: OpenApiResponse(
                ChatCompletionOut,
                description=(
                    "the completion; with stream=true a text/event-stream of `data: {chat.completion.chunk}` events "
                    "ending with `data: [DONE]`, usage in the finish chunk (or, with stream_options.include_usage, in "
                    "a last chunk with empty choices)"
                ),
            ),
            **ERRORS,
        },
    )
    async def post(self, request):
        if isinstance(request.data, dict):
            unknown = sorted(set(request.data) - CHAT_PARAMETERS)
            if unknown:
                raise InvalidInput(f"{unknown[0]} is not a parameter of chat completions here.", field=unknown[0])
        body = ChatCompletionIn(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        max_tokens = data["max_tokens"] if data["max_tokens"] is not None else data["max_completion_tokens"]
        fields = dict(
            user=request.user,
            api_key=request_api_key(request),
            model=data["model"],
            messages=[dict(message) for message in data["messages"]],
            max_tokens=max_tokens,
            temperature=data["temperature"],
            top_p=data["top_p"],
            stop=data["stop"],
            seed=data["seed"],
            extra={name: data[name] for name in validation.EXTRA_OPTIONS if name in data},
        )
        if data["stream"]:
            if data["n"] not in (None, 1):
                raise InvalidInput("A streamed completion has one choice: send n=1, or stream=false.", field="n")
            include_usage = _include_usage(data["stream_options"])
            stream = await generation.text_stream_start(**fields)
            return event_stream_response(completion_chunks(stream, include_usage=include_usage))
        rows = await generation.text_generate_choices(n=data["n"], **fields)
        return Response(_completion_body(rows))


# Images: gateway/images.py.


# ------------------------------------------------------------------ videos

# Our job states in OpenRouter's words.
VIDEO_STATUS = {
    VideoJob.Status.QUEUED: "pending",
    VideoJob.Status.PROCESSING: "in_progress",
    VideoJob.Status.COMPLETED: "completed",
    VideoJob.Status.FAILED: "failed",
    VideoJob.Status.CANCELLED: "cancelled",
}


class FrameImageIn(serializers.Serializer):
    type = serializers.CharField(required=False, default="image_url")
    frame_type = serializers.ChoiceField(choices=["first_frame", "last_frame"], required=False, default="first_frame")
    image_url = serializers.DictField(help_text='{"url": "<https URL or data URL>"}')


class VideoIn(serializers.Serializer):
    model = serializers.CharField(max_length=200)
    prompt = serializers.CharField(max_length=4000, trim_whitespace=True)
    aspect_ratio = serializers.CharField(max_length=20, required=False, allow_blank=True, allow_null=True)
    resolution = serializers.CharField(max_length=20, required=False, allow_blank=True, allow_null=True)
    duration = serializers.IntegerField(min_value=1, max_value=600, required=False, allow_null=True)
    frame_images = FrameImageIn(
        many=True, required=False, help_text="a first_frame image makes it image-to-video (last_frame: not yet)"
    )


VideoJobOut = inline_serializer(
    "OpenAIVideoJob",
    {
        "id": serializers.CharField(),
        "polling_url": serializers.CharField(),
        "status": serializers.CharField(
            help_text="pending or in_progress while it runs; completed, failed or cancelled"
        ),
        "progress": serializers.IntegerField(required=False, allow_null=True),
        "unsigned_urls": serializers.ListField(
            child=serializers.CharField(),
            required=False,
            help_text="once completed: the content URL (send the same API key)",
        ),
        "error": serializers.CharField(required=False, allow_null=True),
        "usage": inline_serializer(
            "OpenAIVideoUsage",
            {"cost": serializers.FloatField(allow_null=True), "is_byok": serializers.BooleanField()},
            required=False,
        ),
    },
)


def _polling_url(request, job_id: int) -> str:
    return request.build_absolute_uri(reverse("gateway:video", kwargs={"pk": job_id}))


def _job_body(request, job: VideoJob) -> dict:
    body: dict[str, Any] = {
        "id": str(job.pk),
        "polling_url": _polling_url(request, job.pk),
        "status": VIDEO_STATUS[VideoJob.Status(job.status)],
    }
    completed = job.status == VideoJob.Status.COMPLETED and job.video_file
    body["progress"] = 100 if completed else job.progress
    if completed:
        body["unsigned_urls"] = [
            request.build_absolute_uri(reverse("gateway:video-content", kwargs={"pk": job.pk}) + "?index=0")
        ]
    if job.error:
        body["error"] = job.error
    body["usage"] = {"cost": float(job.cost) if job.cost is not None else None, "is_byok": False}
    return body


class VideoCreateApi(OpenAiView):
    """Start a video job (text-to-video, or image-to-video with a first_frame image)."""

    throttle_classes = [GenerationThrottle]

    @extend_schema(
        operation_id="openai_videos_create",
        request=VideoIn,
        responses={202: VideoJobOut, 400: ERRORS[400], 401: ERRORS[401], 402: ERRORS[402], 429: ERRORS[429]},
    )
    def post(self, request):
        body = VideoIn(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        frames = data.pop("frame_images", None) or []
        if any(frame["frame_type"] == "last_frame" for frame in frames):
            raise InvalidInput("Only a first_frame image is supported.", field="frame_images")
        if len(frames) > 1:
            raise InvalidInput("At most one frame image (the first frame).", field="frame_images")
        if frames:
            url = frames[0]["image_url"].get("url")
            if not isinstance(url, str) or not url:
                raise InvalidInput('frame_images[0].image_url must be {"url": "..."}.', field="frame_images")
            data.update(generation_type=VideoJob.GenerationType.IMAGE_TO_VIDEO, image_url=url)
        job = videos.video_job_create(owner=request.user, api_key=request_api_key(request), **data)
        answer = {"id": str(job.pk), "polling_url": _polling_url(request, job.pk), "status": VIDEO_STATUS[job.status]}
        return Response(answer, status=status.HTTP_202_ACCEPTED, headers={"Location": answer["polling_url"]})


class VideoStatusApi(OpenAiView):
    """One of your video jobs (poll every few seconds)."""

    @extend_schema(
        operation_id="openai_videos_retrieve",
        responses={200: VideoJobOut, 401: ERRORS[401], 404: OpenApiResponse(ERROR, description="not yours")},
    )
    def get(self, request, pk: int):
        return Response(_job_body(request, video_selectors.user_video_job(user=request.user, job_id=pk)))


class VideoContentApi(OpenAiView):
    """The video of a completed job: its mp4 bytes (``index`` 0 only)."""

    @extend_schema(
        operation_id="openai_videos_content",
        parameters=[OpenApiParameter("index", int, description="only 0")],
        responses={
            (200, "video/mp4"): OpenApiTypes.BINARY,
            (206, "video/mp4"): OpenApiResponse(OpenApiTypes.BINARY, description="a Range"),
            401: ERRORS[401],
            404: OpenApiResponse(ERROR, description="not yours, or not completed"),
        },
    )
    def get(self, request, pk: int):
        if request.query_params.get("index", "0") != "0":
            raise NotFound("A job has one video: index 0.")
        job = video_selectors.user_video_file_job(user=request.user, job_id=pk)
        return stored_file_response(
            job.video_file,
            media_type="video/mp4",
            filename=f"video-{job.pk}.mp4",
            range_header=request.headers.get("Range"),
        )
