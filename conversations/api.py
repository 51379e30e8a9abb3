"""The conversations REST API: thin DRF views over services and selectors."""

from __future__ import annotations

from collections.abc import AsyncIterator

from django.http import HttpResponse, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from conversations import selectors, services
from core.async_views import AsyncApiView
from core.sse import EventStreamRenderer, event_stream_response, text_stream_events
from core.throttles import GenerationThrottle
from generation.api import ERRORS, UsageOut, wants_stream

NOT_YOURS = OpenApiResponse(description="no such conversation, or not yours")


class MessageOut(serializers.Serializer):
    id = serializers.IntegerField()
    role = serializers.CharField()
    content = serializers.CharField(source="text", help_text="the user's message, or the answer's text")
    html = serializers.CharField(help_text="an answer's content as sanitized HTML (markdown rendered)")
    model = serializers.CharField(source="model_id")
    status = serializers.CharField(help_text="pending, completed, failed, or partial (cut short)")
    error = serializers.CharField(help_text="why the answer failed, for the user")
    finish_reason = serializers.CharField()
    usage = UsageOut()
    generation = serializers.IntegerField(
        source="generation_id", allow_null=True, help_text="the answer's history row (/api/generations/{id})"
    )
    images = serializers.SerializerMethodField(help_text="a user message's attached images: id, url (yours only)")
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)

    def get_images(self, message) -> list[dict]:
        if message.pk is None or message.role != "user":
            return []
        return [{"id": image.pk, "url": image.url} for image in message.images.all()]


class ConversationOut(serializers.Serializer):
    id = serializers.IntegerField()
    shared = serializers.SerializerMethodField(help_text="whether a read-only share link is open")
    title = serializers.CharField()
    model = serializers.CharField(source="model_id")
    system = serializers.CharField()
    message_count = serializers.SerializerMethodField()
    snippet = serializers.CharField(
        default="", help_text="with ?search=: where a message matched (empty when the title did)"
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_shared(self, conversation) -> bool:
        return bool(conversation.share_token)

    def get_message_count(self, conversation) -> int:
        count = getattr(conversation, "message_count", None)
        return conversation.messages.count() if count is None else count


class ConversationDetailOut(ConversationOut):
    messages = serializers.SerializerMethodField()

    def get_messages(self, conversation) -> list[dict]:
        return list(MessageOut(selectors.thread(conversation), many=True).data)


class ConversationIn(serializers.Serializer):
    model = serializers.CharField(allow_blank=True)
    title = serializers.CharField(required=False, allow_blank=True, default="", trim_whitespace=True)
    system = serializers.CharField(required=False, allow_blank=True, default="")


class ConversationPatchIn(serializers.Serializer):
    title = serializers.CharField(required=False, allow_blank=True)
    model = serializers.CharField(required=False, allow_blank=True)
    system = serializers.CharField(required=False, allow_blank=True)


class ListQuery(serializers.Serializer):
    search = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)


class MessageIn(serializers.Serializer):
    content = serializers.CharField(trim_whitespace=True, allow_blank=True, required=False, default="")
    images = serializers.ListField(
        child=serializers.CharField(trim_whitespace=True),
        required=False,
        default=list,
        help_text="images attached to the message, as data:image/... URLs (kept as your uploads; for models that "
        "read images)",
    )
    model = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="answer with this model (it becomes the conversation's)"
    )
    stream = serializers.BooleanField(
        required=False, default=False, help_text="answer as server-sent events (also with Accept: text/event-stream)"
    )


class RegenerateIn(serializers.Serializer):
    model = serializers.CharField(required=False, allow_blank=True, default="")
    stream = serializers.BooleanField(required=False, default=False)


class EditIn(serializers.Serializer):
    content = serializers.CharField(trim_whitespace=True, allow_blank=True, help_text="the message's new text")
    model = serializers.CharField(required=False, allow_blank=True, default="")
    stream = serializers.BooleanField(required=False, default=False)


class TurnOut(serializers.Serializer):
    message = MessageOut(source="user_message", help_text="the user's message")
    answer = MessageOut()


# ------------------------------------------------------------------ conversations


class ConversationListApi(APIView):
    """The signed-in user's conversations, most recently active first; create one."""

    pagination_class = PageNumberPagination

    @extend_schema(
        operation_id="conversations_list",
        parameters=[
            OpenApiParameter("search", str, description="text in the title or in any message"),
            OpenApiParameter("page", int),
        ],
        responses={200: ConversationOut(many=True), 401: ERRORS[401]},
    )
    def get(self, request):
        query = ListQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        search = query.validated_data["search"]
        conversations = selectors.user_conversations(user=request.user, search=search)
        paginator = self.pagination_class()
        page = selectors.with_snippets(paginator.paginate_queryset(conversations, request, view=self) or [], search)
        return paginator.get_paginated_response(ConversationOut(page, many=True).data)

    @extend_schema(
        operation_id="conversations_create",
        request=ConversationIn,
        responses={201: ConversationDetailOut, 400: ERRORS[400], 401: ERRORS[401]},
    )
    def post(self, request):
        body = ConversationIn(data=request.data)
        body.is_valid(raise_exception=True)
        conversation = services.conversation_create(user=request.user, **body.validated_data)
        return Response(ConversationDetailOut(conversation).data, status=status.HTTP_201_CREATED)


class ConversationDetailApi(APIView):
    """One conversation with its messages: its owner (or an admin) may read it; only its
    owner may change or delete it."""

    @extend_schema(
        operation_id="conversations_retrieve", responses={200: ConversationDetailOut, 401: ERRORS[401], 404: NOT_YOURS}
    )
    def get(self, request, pk):
        conversation = selectors.user_conversation(user=request.user, conversation_id=pk, allow_admin=True)
        return Response(ConversationDetailOut(conversation).data)

    @extend_schema(
        operation_id="conversations_update",
        request=ConversationPatchIn,
        responses={200: ConversationDetailOut, 400: ERRORS[400], 401: ERRORS[401], 404: NOT_YOURS},
    )
    def patch(self, request, pk):
        conversation = selectors.user_conversation(user=request.user, conversation_id=pk)
        body = ConversationPatchIn(data=request.data)
        body.is_valid(raise_exception=True)
        conversation = services.conversation_update(conversation=conversation, by=request.user, **body.validated_data)
        return Response(ConversationDetailOut(conversation).data)

    @extend_schema(operation_id="conversations_destroy", responses={204: None, 401: ERRORS[401], 404: NOT_YOURS})
    def delete(self, request, pk):
        conversation = selectors.user_conversation(user=request.user, conversation_id=pk)
        services.conversation_delete(conversation=conversation, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


# ------------------------------------------------------------------ turns


def answer_event_stream(stream: services.AnswerStream) -> AsyncIterator[str]:
    """SSE as the text endpoint's: `start` (the message ids), `data: {"text"}` pieces,
    then `done` with the saved answer (or `error`). Cut short, what arrived is saved as
    partial and the provider's stream is closed."""
    return text_stream_events(
        stream,
        start={
            "conversation": stream.answer.conversation_id,
            "message": stream.user_message.pk if stream.user_message else None,
            "answer": stream.answer.pk,
            "model": stream.answer.model_id,
        },
        record_id=stream.answer.pk,
        done=lambda: MessageOut(stream.answer).data,
    )


def _event_response(stream: services.AnswerStream) -> StreamingHttpResponse:
    return event_stream_response(answer_event_stream(stream))


TURN_ERRORS = {**ERRORS, 404: NOT_YOURS, 409: OpenApiResponse(description="an answer is still pending")}


class MessageCreateApi(AsyncApiView):
    """Add a message to the thread and answer it (whole, or streamed as server-sent events)."""

    throttle_classes = [GenerationThrottle]
    renderer_classes = [*api_settings.DEFAULT_RENDERER_CLASSES, EventStreamRenderer]  # type: ignore[list-item]  # DRF's settings hold the classes; the stubs say strings

    @extend_schema(
        operation_id="conversation_messages_create",
        request=MessageIn,
        responses={
            201: OpenApiResponse(
                TurnOut,
                description=(
                    "the message and its answer; with stream=true a text/event-stream of `start`, "
                    '`data: {"text": ...}` pieces and `done` carrying the answer (or `error`)'
                ),
            ),
            **TURN_ERRORS,
        },
    )
    async def post(self, request, pk):
        body = MessageIn(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        fields = {
            "user": request.user,
            "conversation_id": pk,
            "content": data["content"],
            "model": data["model"] or None,
            "images": data["images"],
        }
        if wants_stream(request, data):
            return _event_response(await services.message_stream_start(**fields))
        message, answer = await services.message_send(**fields)
        return Response(TurnOut({"user_message": message, "answer": answer}).data, status=status.HTTP_201_CREATED)


class MessageRegenerateApi(AsyncApiView):
    """Answer the last message again; the new answer replaces the last one."""

    throttle_classes = [GenerationThrottle]
    renderer_classes = [*api_settings.DEFAULT_RENDERER_CLASSES, EventStreamRenderer]  # type: ignore[list-item]  # DRF's settings hold the classes; the stubs say strings

    @extend_schema(
        operation_id="conversation_messages_regenerate",
        request=RegenerateIn,
        responses={201: MessageOut, **TURN_ERRORS},
    )
    async def post(self, request, pk, message_pk):
        body = RegenerateIn(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        fields = {"user": request.user, "conversation_id": pk, "message_id": message_pk, "model": data["model"] or None}
        if wants_stream(request, data):
            return _event_response(await services.regenerate_stream_start(**fields))
        answer = await services.message_regenerate(**fields)
        return Response(MessageOut(answer).data, status=status.HTTP_201_CREATED)


class MessageEditApi(AsyncApiView):
    """Change an earlier message of yours and ask again from there: the thread is cut at
    that message (later messages are removed) and the edited message is answered anew."""

    throttle_classes = [GenerationThrottle]
    renderer_classes = [*api_settings.DEFAULT_RENDERER_CLASSES, EventStreamRenderer]  # type: ignore[list-item]  # DRF's settings hold the classes; the stubs say strings

    @extend_schema(
        operation_id="conversation_messages_edit",
        request=EditIn,
        responses={
            201: OpenApiResponse(TurnOut, description="the edited message and its new answer (or the stream)"),
            **TURN_ERRORS,
        },
    )
    async def post(self, request, pk, message_pk):
        body = EditIn(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        fields = {
            "user": request.user,
            "conversation_id": pk,
            "message_id": message_pk,
            "content": data["content"],
            "model": data["model"] or None,
        }
        if wants_stream(request, data):
            return _event_response(await services.edit_stream_start(**fields))
        message, answer = await services.message_edit(**fields)
        return Response(TurnOut({"user_message": message, "answer": answer}).data, status=status.HTTP_201_CREATED)


EXPORTS = {
    "markdown": ("md", "text/markdown; charset=utf-8", selectors.export_markdown),
    "json": ("json", "application/json; charset=utf-8", selectors.export_json),
}


def export_response(conversation, kind: str) -> HttpResponse:
    """A download of the conversation as Markdown or JSON (selectors' export)."""
    extension, content_type, render = EXPORTS[kind]
    response = HttpResponse(render(conversation), content_type=content_type)
    filename = selectors.export_filename(conversation, extension)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class ConversationExportApi(APIView):
    """Download one of your conversations as Markdown or JSON (yours only: another
    person's, an administrator's too, is 404)."""

    kind = "json"

    def export(self, request, pk):
        conversation = selectors.user_conversation(user=request.user, conversation_id=pk)
        return export_response(conversation, self.kind)


class ConversationMarkdownApi(ConversationExportApi):
    kind = "markdown"

    @extend_schema(
        operation_id="conversations_export_markdown",
        responses={
            (200, "text/markdown"): OpenApiResponse(OpenApiTypes.STR, description="the thread as a Markdown document"),
            401: ERRORS[401],
            404: NOT_YOURS,
        },
    )
    def get(self, request, pk):
        return self.export(request, pk)


class ConversationJsonApi(ConversationExportApi):
    kind = "json"

    @extend_schema(
        operation_id="conversations_export_json",
        responses={
            (200, "application/json"): OpenApiResponse(
                OpenApiTypes.OBJECT, description="the conversation and its messages as JSON"
            ),
            401: ERRORS[401],
            404: NOT_YOURS,
        },
    )
    def get(self, request, pk):
        return self.export(request, pk)


class ShareOut(serializers.Serializer):
    url = serializers.CharField(help_text="the read-only link: anyone holding it may read the thread, no sign-in")
    shared_at = serializers.DateTimeField()


def share_url(request, conversation) -> str:
    return request.build_absolute_uri(f"/shared/{conversation.share_token}")


class ConversationShareApi(APIView):
    """Your conversation's read-only share link: create it (the same link while shared) or
    revoke it (the link then answers 404)."""

    @extend_schema(
        operation_id="conversations_share",
        request=None,
        responses={200: ShareOut, 401: ERRORS[401], 404: NOT_YOURS},
    )
    def post(self, request, pk):
        conversation = selectors.user_conversation(user=request.user, conversation_id=pk)
        conversation = services.conversation_share(conversation=conversation, by=request.user)
        return Response(ShareOut({"url": share_url(request, conversation), "shared_at": conversation.shared_at}).data)

    @extend_schema(operation_id="conversations_unshare", responses={204: None, 401: ERRORS[401], 404: NOT_YOURS})
    def delete(self, request, pk):
        conversation = selectors.user_conversation(user=request.user, conversation_id=pk)
        services.conversation_unshare(conversation=conversation, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
