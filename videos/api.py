"""The video REST API: thin DRF views over videos.services and videos.selectors."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

from django.conf import settings
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import request_api_key
from billing.api import BUDGET_EXCEEDED
from core.async_views import AsyncApiView
from core.db import in_db, release_db_connection
from core.errors import NotFound
from core.files import stored_file_response
from core.sse import EventStreamRenderer, event_stream_response, sse_comment, sse_event
from core.throttles import GenerationThrottle
from videos import live, selectors, services, stream_limits
from videos.models import VideoJob

# ------------------------------------------------------------------ documentation pieces

ErrorDetail = inline_serializer("VideoErrorDetail", {"detail": serializers.CharField()})
NOT_SIGNED_IN = OpenApiResponse(ErrorDetail, description="No valid access token or session.")
NOT_YOURS = OpenApiResponse(ErrorDetail, description="No job with this id among yours.")
BAD_INPUT = OpenApiResponse(
    description='Bad input: errors by field, e.g. {"aspect_ratio": ["aspect_ratio \\"4:3\\" is not accepted '
    'by google/veo-3.1; accepted: 16:9, 9:16"]}.'
)
TOO_MANY = OpenApiResponse(
    ErrorDetail,
    description="Too many jobs in flight (VIDEO_MAX_JOBS_IN_FLIGHT) "
    "or too many requests; Retry-After says when to try again.",
)
STREAMS_FULL = OpenApiResponse(
    ErrorDetail,
    description="Too many live status streams open (LIVE_STREAMS_PER_USER for you, LIVE_STREAMS_PER_PROCESS "
    "in all); Retry-After says when to try again. Poll the status endpoint meanwhile.",
)


# ------------------------------------------------------------------ serializers

MAX_WATCHED_IDS = 200  # per stream; a gallery page shows at most GALLERY_PAGE_SIZE (60) cards


class VideoCreateIn(serializers.Serializer):
    prompt = serializers.CharField(max_length=4000, trim_whitespace=True)
    model = serializers.CharField(max_length=200, help_text="a video model id from GET /api/models?kind=video")
    aspect_ratio = serializers.CharField(max_length=20, required=False, allow_blank=True, allow_null=True)
    resolution = serializers.CharField(max_length=20, required=False, allow_blank=True, allow_null=True)
    duration = serializers.IntegerField(
        min_value=1, max_value=600, required=False, allow_null=True, help_text="seconds"
    )


class VideoFromImageIn(VideoCreateIn):
    image_url = serializers.CharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        trim_whitespace=True,
        help_text="https URL of the first frame, or a data:image/...;base64 URL within the size cap",
    )
    image_id = serializers.IntegerField(required=False, allow_null=True, help_text="id of one of your generated images")


class VideoCreatedOut(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=VideoJob.Status.choices)
    generation_type = serializers.ChoiceField(choices=VideoJob.GenerationType.choices)
    status_url = serializers.CharField()


class VideoStatusOut(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=VideoJob.Status.choices)
    progress = serializers.IntegerField(allow_null=True, help_text="percent, when the provider reports it")
    video_url = serializers.CharField(allow_null=True, help_text="our URL of the stored video once completed")
    error = serializers.CharField(allow_null=True, help_text="why the job failed")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class VideoJobOut(serializers.Serializer):
    id = serializers.IntegerField()
    generation_type = serializers.CharField()
    model = serializers.CharField()
    prompt = serializers.CharField()
    aspect_ratio = serializers.CharField()
    resolution = serializers.CharField()
    duration = serializers.IntegerField(allow_null=True)
    status = serializers.CharField()
    progress = serializers.IntegerField(allow_null=True)
    video_url = serializers.SerializerMethodField()
    error = serializers.SerializerMethodField()
    cost = serializers.DecimalField(max_digits=14, decimal_places=8, coerce_to_string=False, allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)

    def get_video_url(self, job: VideoJob) -> str | None:
        return job.video_url or None

    def get_error(self, job: VideoJob) -> str | None:
        return job.error or None


class VideoPageOut(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = VideoJobOut(many=True)


class VideoEventsQuery(serializers.Serializer):
    ids = serializers.CharField(help_text="comma-separated job ids, e.g. 4,7,9")

    def validate_ids(self, value: str) -> list[int]:
        parts = [part.strip() for part in value.split(",") if part.strip()]
        if not parts or not all(part.isdigit() for part in parts):
            raise serializers.ValidationError("Give job ids separated by commas, e.g. 4,7,9.")
        ids = sorted({int(part) for part in parts})
        if len(ids) > MAX_WATCHED_IDS:
            raise serializers.ValidationError(f"At most {MAX_WATCHED_IDS} jobs per stream.")
        return ids


class VideoListQuery(serializers.Serializer):
    status = serializers.ChoiceField(choices=VideoJob.Status.values, required=False, allow_blank=True)


# ------------------------------------------------------------------ views


def _created(job: VideoJob) -> Response:
    status_url = reverse("videos-api:status", kwargs={"pk": job.pk})
    body = VideoCreatedOut(
        {"id": job.pk, "status": job.status, "generation_type": job.generation_type, "status_url": status_url}
    ).data
    return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": status_url})


class VideoCreateApi(APIView):
    """Start a text-to-video job."""

    accepts_api_keys = True

    throttle_classes = [GenerationThrottle]

    @extend_schema(
        operation_id="video_create",
        request=VideoCreateIn,
        responses={202: VideoCreatedOut, 400: BAD_INPUT, 401: NOT_SIGNED_IN, 402: BUDGET_EXCEEDED, 429: TOO_MANY},
        description="Queues the job and answers at once; a worker submits it to the provider. "
        "Poll the status endpoint for the outcome.",
    )
    def post(self, request):
        data = VideoCreateIn(data=request.data)
        data.is_valid(raise_exception=True)
        job = services.video_job_create(owner=request.user, api_key=request_api_key(request), **data.validated_data)
        return _created(job)


class VideoFromImageApi(APIView):
    """Start an image-to-video job: the image becomes the video's first frame."""

    accepts_api_keys = True

    throttle_classes = [GenerationThrottle]

    @extend_schema(
        operation_id="video_create_from_image",
        request=VideoFromImageIn,
        responses={202: VideoCreatedOut, 400: BAD_INPUT, 401: NOT_SIGNED_IN, 402: BUDGET_EXCEEDED, 429: TOO_MANY},
        description="Give exactly one of image_url (https, or a data URL) and image_id (one of your generated images).",
    )
    def post(self, request):
        data = VideoFromImageIn(data=request.data)
        data.is_valid(raise_exception=True)
        job = services.video_job_create(
            owner=request.user,
            generation_type=VideoJob.GenerationType.IMAGE_TO_VIDEO,
            api_key=request_api_key(request),
            **data.validated_data,
        )
        return _created(job)


class VideoStatusApi(APIView):
    """A job's status. Pages poll this every few seconds: one indexed query."""

    accepts_api_keys = True

    @extend_schema(operation_id="video_status", responses={200: VideoStatusOut, 401: NOT_SIGNED_IN, 404: NOT_YOURS})
    def get(self, request, pk: int):
        return Response(VideoStatusOut(selectors.user_video_status(user=request.user, job_id=pk)).data)


EVENTS_DESCRIPTION = (
    "A text/event-stream (server-sent events) of status changes. First one `status` event per "
    "watched job with its state now, then one `status` event (the status endpoint's JSON, "
    "VideoStatusOut) each time a job's status, progress, video_url or error changes, pushed "
    "within about VIDEO_LIVE_INTERVAL (0.5 s) of the worker's change; a `: ping` comment every "
    "VIDEO_LIVE_HEARTBEAT (15 s) while nothing changes; and, once every watched job is terminal "
    "(completed, failed, cancelled), an `end` event, after which the stream closes (an "
    "EventSource should close itself on `end`, or it reconnects)."
)


async def status_event_stream(initial: list[dict]) -> AsyncIterator[str]:
    """SSE for live job status: the jobs' state now, then their changes from the process's
    one watcher (videos.live), until every job is terminal. The client going away cancels
    this generator (ASGI), and the subscription ends with it."""
    sent = {}
    open_ids = set()
    for body in initial:
        sent[body["id"]] = live.visible_state(body)
        if body["status"] not in VideoJob.TERMINAL:
            open_ids.add(body["id"])
        yield sse_event(VideoStatusOut(body).data, event="status")
    if open_ids:
        watcher = live.watcher()
        subscription = watcher.subscribe(open_ids)
        heartbeat = settings.VIDEO_LIVE_HEARTBEAT
        last_write = time.monotonic()
        try:
            while open_ids:
                changes = await subscription.changes(timeout=max(0.0, last_write + heartbeat - time.monotonic()))
                for job_id, latest in changes.items():
                    if job_id not in open_ids:
                        continue
                    if latest is None:  # deleted meanwhile: nothing more will come
                        open_ids.discard(job_id)
                        subscription.forget(job_id)
                        continue
                    state = live.visible_state(latest)
                    if sent.get(job_id) == state:
                        continue  # already sent (the first read, or a change of nothing shown)
                    sent[job_id] = state
                    if latest["status"] in VideoJob.TERMINAL:
                        open_ids.discard(job_id)
                        subscription.forget(job_id)
                    last_write = time.monotonic()
                    yield sse_event(VideoStatusOut(latest).data, event="status")
                if open_ids and time.monotonic() - last_write >= heartbeat:
                    last_write = time.monotonic()
                    yield sse_comment("ping")
        finally:
            watcher.unsubscribe(subscription)
    yield sse_event({}, event="end")


def _initial_statuses(user, job_ids) -> list[dict]:
    try:
        return selectors.visible_video_statuses(user=user, job_ids=job_ids)
    finally:
        # The stream may stay open for minutes: it holds no connection (nor, on DuckDB, the file).
        release_db_connection()


async def _live_stream(user, job_ids, *, one_job: bool = False):
    """The stream of ``job_ids`` within the open-stream bounds (videos.stream_limits: 429
    beyond); for ``one_job``, NotFound when it is not the user's."""
    lease = stream_limits.take(user_id=user.pk)
    try:
        initial = await in_db(_initial_statuses)(user, job_ids)
        if one_job and not initial:
            raise NotFound("Video job not found.")
    except BaseException:
        lease.release()
        raise
    return event_stream_response(stream_limits.held(status_event_stream(initial), lease))


class VideoEventsApi(AsyncApiView):
    """Live status of several jobs over one stream (the gallery's pending cards)."""

    accepts_api_keys = True

    renderer_classes = [*AsyncApiView.renderer_classes, EventStreamRenderer]

    @extend_schema(
        operation_id="video_events",
        parameters=[
            OpenApiParameter(
                "ids",
                str,
                required=True,
                description=(
                    f"comma-separated job ids, at most {MAX_WATCHED_IDS}; ids of jobs that are not yours "
                    "(or of no job) are left out silently; admins may watch any job"
                ),
            )
        ],
        responses={
            (200, "text/event-stream"): OpenApiResponse(VideoStatusOut, description=EVENTS_DESCRIPTION),
            400: BAD_INPUT,
            401: NOT_SIGNED_IN,
            429: STREAMS_FULL,
        },
    )
    async def get(self, request):
        query = VideoEventsQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        return await _live_stream(request.user, query.validated_data["ids"])


class VideoJobEventsApi(AsyncApiView):
    """Live status of one job (its page)."""

    accepts_api_keys = True

    renderer_classes = [*AsyncApiView.renderer_classes, EventStreamRenderer]

    @extend_schema(
        operation_id="video_job_events",
        responses={
            (200, "text/event-stream"): OpenApiResponse(VideoStatusOut, description=EVENTS_DESCRIPTION),
            401: NOT_SIGNED_IN,
            404: NOT_YOURS,
            429: STREAMS_FULL,
        },
        description="Admins may watch any job.",
    )
    async def get(self, request, pk: int):
        return await _live_stream(request.user, [pk], one_job=True)


class VideoDeleteApi(APIView):
    """Delete one of your finished jobs and its video file (frees its storage)."""

    accepts_api_keys = True

    @extend_schema(
        operation_id="video_delete",
        request=None,
        responses={
            204: None,
            401: NOT_SIGNED_IN,
            404: NOT_YOURS,
            409: OpenApiResponse(ErrorDetail, description="The job is still queued or processing: cancel it first."),
        },
    )
    def delete(self, request, pk: int):
        services.video_job_delete(job_id=pk, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class VideoCancelApi(APIView):
    """Cancel a queued or processing job. Only our polling stops: the provider has no cancel
    and may still finish (and bill) the video, which is then ignored. Counted against the
    generation throttle like creating, since a cancel frees an in-flight slot at once."""

    accepts_api_keys = True

    throttle_classes = [GenerationThrottle]

    @extend_schema(
        operation_id="video_cancel",
        request=None,
        responses={
            200: VideoStatusOut,
            401: NOT_SIGNED_IN,
            404: NOT_YOURS,
            429: TOO_MANY,
            409: OpenApiResponse(ErrorDetail, description="The job had already finished."),
        },
    )
    def post(self, request, pk: int):
        job = services.video_job_cancel(job_id=pk, by=request.user)
        return Response(
            VideoStatusOut(
                selectors.status_body({field: getattr(job, field) for field in selectors.STATUS_FIELDS})
            ).data
        )


class VideoListApi(APIView):
    """Your video jobs, newest first, 20 a page."""

    accepts_api_keys = True

    @extend_schema(
        operation_id="video_list",
        parameters=[
            OpenApiParameter("status", str, enum=VideoJob.Status.values, description="only jobs in this state"),
            OpenApiParameter("page", int, description="page number, from 1"),
        ],
        responses={
            200: VideoPageOut,
            400: BAD_INPUT,
            401: NOT_SIGNED_IN,
            404: OpenApiResponse(ErrorDetail, description="No such page."),
        },
    )
    def get(self, request):
        query = VideoListQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        jobs = selectors.user_video_jobs(user=request.user, status=query.validated_data.get("status"))
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(jobs, request, view=self)
        return paginator.get_paginated_response(VideoJobOut(page, many=True).data)


class VideoFileView(APIView):
    """The stored video of a completed job, for its owner and admins (a session or a
    token); anyone else gets a 404. This is the status endpoint's ``video_url``."""

    accepts_api_keys = True

    @extend_schema(
        operation_id="video_file",
        parameters=[OpenApiParameter("download", bool, description="1: ask the browser to save the file")],
        responses={
            (200, "video/mp4"): OpenApiTypes.BINARY,
            (206, "video/mp4"): OpenApiResponse(OpenApiTypes.BINARY, description="the bytes a Range header asked for"),
            401: NOT_SIGNED_IN,
            404: NOT_YOURS,
            416: OpenApiResponse(description="the Range starts past the end of the file"),
        },
    )
    def get(self, request, pk: int):
        job = selectors.user_video_file_job(user=request.user, job_id=pk, allow_admin=True)
        return stored_file_response(
            job.video_file,
            media_type="video/mp4",
            filename=f"video-{job.pk}.mp4",
            range_header=request.headers.get("Range"),
            as_attachment=request.query_params.get("download") in ("1", "true"),
        )
