"""``POST /v1/images/generations`` and ``/v1/images/edits`` in OpenAI's shapes, and the
signed URLs their images are answered with (gateway.image_urls).

An edit is the image-editing service the pages use (``generation.services.image_generate``
with the uploaded image as a data URL): the first upload is kept as the person's image and
linked as the edit's source, so the edit's page shows what it was made from; further
images and a mask go to the provider with it (image parts on the chat route,
``input_references`` on the images route) and are noted in the edit's history row.
"""

from __future__ import annotations

import asyncio
import base64
import re

from django.conf import settings
from django.http import JsonResponse
from django.views.decorators.http import require_safe
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from accounts.authentication import request_api_key
from core.db import in_db
from core.errors import InvalidInput, NotFound
from core.files import stored_file_response
from core.throttles import GenerationThrottle
from gateway.api import ERRORS, JsonOnly, OpenAiAsyncView, _timestamp
from gateway.errors import error_body
from gateway.image_urls import UrlRefused, signed_image_path, verified_image
from generation import services as generation
from generation import validation
from generation.models import GeneratedImage, Generation


class ImageGenerationIn(serializers.Serializer):
    model = serializers.CharField(allow_blank=True)
    prompt = serializers.CharField(allow_blank=True, trim_whitespace=True)
    n = serializers.IntegerField(required=False, allow_null=True, default=1)
    size = serializers.CharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        default=None,
        help_text='exact pixels, e.g. "1024x1024" (models that list sizes); "auto" = none',
    )
    response_format = serializers.ChoiceField(
        choices=["b64_json", "url"],
        required=False,
        allow_null=True,
        default=None,
        help_text="b64_json (the default) or url (signed; works without a key for GATEWAY_IMAGE_URL_MINUTES)",
    )
    aspect_ratio = serializers.CharField(required=False, allow_blank=True, allow_null=True, default=None)
    image_size = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, default=None, help_text='resolution, e.g. "1K", "2K", "4K"'
    )


class ImageEditIn(ImageGenerationIn):
    """The form fields of an edit (the files come beside them: ``image``, ``image[]``)."""

    user = serializers.CharField(required=False, allow_blank=True, help_text="accepted and not used")


ImagesOut = inline_serializer(
    "OpenAIImagesResponse",
    {
        "created": serializers.IntegerField(),
        "data": inline_serializer(
            "OpenAIImage",
            {
                "b64_json": serializers.CharField(required=False),
                "url": serializers.CharField(
                    required=False, help_text="signed; fetched without any header until it expires"
                ),
            },
            many=True,
        ),
    },
)


def _images_data(images: list[GeneratedImage], *, response_format: str, request) -> list[dict]:
    """The answer's images: signed URLs, or the stored bytes as base64 (file reads and
    encoding: run on a thread of their own, never a database step's)."""
    if response_format == "url":
        return [{"url": request.build_absolute_uri(signed_image_path(image))} for image in images]
    return [{"b64_json": base64.b64encode(image.read_bytes()).decode("ascii")} for image in images]


async def _answer(row: Generation, *, response_format: str | None, request) -> Response:
    images = await in_db(lambda: list(row.images.all()))()
    data = await asyncio.to_thread(_images_data, images, response_format=response_format or "b64_json", request=request)
    return Response({"created": _timestamp(row.created_at), "data": data})


def _size(value: str | None) -> str | None:
    return None if (value or "").strip().lower() in ("", "auto") else value


class ImageGenerationApi(OpenAiAsyncView):
    """Generate images; our stored copies are answered as base64 or as signed URLs."""

    throttle_classes = [GenerationThrottle]

    @extend_schema(
        operation_id="openai_images_generate", request=ImageGenerationIn, responses={200: ImagesOut, **ERRORS}
    )
    async def post(self, request):
        body = ImageGenerationIn(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        row = await generation.image_generate(
            user=request.user,
            api_key=request_api_key(request),
            model=data["model"],
            prompt=data["prompt"],
            n=data["n"],
            size=_size(data["size"]),
            aspect_ratio=data["aspect_ratio"],
            image_size=data["image_size"],
        )
        return await _answer(row, response_format=data["response_format"], request=request)


class MultipartOnly(JsonOnly):
    """Form uploads in, JSON out (whatever the Accept header says)."""

    def select_parser(self, request, parsers):
        return next((p for p in parsers if request.content_type.startswith(p.media_type)), None)


# The files of an edit: "image" (one), "image[]" (the SDK's list) or "image[0]", "image[1]"...
IMAGE_FIELD = re.compile(r"^image(\[\d*\])?$")
EDIT_FIELDS = {"prompt", "model", "n", "size", "response_format", "aspect_ratio", "image_size", "user"}


def _uploaded_images(request) -> tuple[list, object | None]:
    """The images of an edit, the one to edit first, and its mask, from the form's files;
    400 naming the field otherwise."""
    unexpected = sorted(name for name in request.FILES if not IMAGE_FIELD.match(name) and name != "mask")
    if unexpected:
        raise InvalidInput(f"Unexpected file field {unexpected[0]!r}.", field=unexpected[0])
    files = [upload for name in request.FILES if IMAGE_FIELD.match(name) for upload in request.FILES.getlist(name)]
    if not files:
        raise InvalidInput("Send the image to edit as the file field image.", field="image")
    if len(files) > validation.MAX_EDIT_IMAGES:
        raise InvalidInput(
            f"At most {validation.MAX_EDIT_IMAGES} images per edit ({len(files)} were sent).", field="image"
        )
    masks = request.FILES.getlist("mask")
    if len(masks) > 1:
        raise InvalidInput("One mask per edit.", field="mask")
    limit = settings.GENERATION_SOURCE_IMAGE_MAX_BYTES
    for name, upload in [*(("image", f) for f in files), *(("mask", m) for m in masks)]:
        if upload.size > limit:
            raise InvalidInput(f"The image is too large ({limit // (1024 * 1024)} MB at most).", field=name)
    return files, (masks[0] if masks else None)


def _data_url(upload) -> str:
    """The upload as a data URL; its real type is read from its bytes by the service."""
    declared = (upload.content_type or "").lower()
    media_type = declared if declared.startswith("image/") else "image/png"
    return f"data:{media_type};base64,{base64.b64encode(upload.read()).decode('ascii')}"


class ImageEditApi(OpenAiAsyncView):
    """Edit an image (multipart, as the SDKs send ``images.edit``): the upload is kept as
    your image, and the edit links to it."""

    throttle_classes = [GenerationThrottle]
    parser_classes = [MultiPartParser, FormParser]
    content_negotiation_class = MultipartOnly

    @extend_schema(
        operation_id="openai_images_edit",
        request={
            "multipart/form-data": inline_serializer(
                "OpenAIImageEdit",
                {
                    "image": serializers.ListField(
                        child=serializers.FileField(),
                        help_text=(
                            "the image to edit (PNG, JPEG, WebP or GIF), then up to 7 more to draw on; as image, "
                            "image[] or image[0], image[1]..."
                        ),
                    ),
                    "mask": serializers.FileField(
                        required=False,
                        help_text="a PNG of the first image's size: its transparent pixels say where to change it",
                    ),
                    "prompt": serializers.CharField(),
                    "model": serializers.CharField(help_text="a model that takes an image and answers with one"),
                    "n": serializers.IntegerField(required=False),
                    "size": serializers.CharField(required=False),
                    "response_format": serializers.ChoiceField(choices=["b64_json", "url"], required=False),
                    "aspect_ratio": serializers.CharField(required=False),
                    "image_size": serializers.CharField(required=False),
                },
            )
        },
        responses={200: ImagesOut, **ERRORS},
    )
    async def post(self, request):
        unknown = sorted(set(request.data) - EDIT_FIELDS - set(request.FILES))
        if unknown:
            raise InvalidInput(f"{unknown[0]} is not supported by image edits here.", field=unknown[0])
        body = ImageEditIn(data={key: request.data.get(key) for key in request.data if key in EDIT_FIELDS})
        body.is_valid(raise_exception=True)
        data = body.validated_data
        files, mask = _uploaded_images(request)
        first, *further = [_data_url(upload) for upload in files]
        try:
            row = await generation.image_generate(
                user=request.user,
                api_key=request_api_key(request),
                model=data["model"],
                prompt=data["prompt"],
                n=data["n"],
                size=_size(data["size"]),
                aspect_ratio=data["aspect_ratio"],
                image_size=data["image_size"],
                source_image_url=first,
                reference_image_urls=further,
                mask_url=_data_url(mask) if mask is not None else None,
            )
        except InvalidInput as exc:
            # The form's names for them.
            form_field = {"source_image_url": "image", "reference_image_urls": "image", "mask_url": "mask"}
            if exc.field not in form_field:
                raise
            raise InvalidInput(exc.message, field=form_field[exc.field]) from exc
        return await _answer(row, response_format=data["response_format"], request=request)


@require_safe
def signed_image_file(request, pk: int, filename: str):
    """An image a /v1/ answer handed out as a URL: no credentials, only its signature,
    until it expires (403 for a URL we did not sign, 410 once expired, 404 once deleted)."""
    try:
        image = verified_image(
            image_id=pk,
            filename=filename,
            expires=request.GET.get("expires"),
            signature=request.GET.get("signature"),
        )
        response = stored_file_response(
            image.file, media_type=image.media_type, range_header=request.headers.get("Range")
        )
    except UrlRefused as refused:
        return JsonResponse(error_body(refused.status, refused.message), status=refused.status)
    except (GeneratedImage.DoesNotExist, NotFound):
        return JsonResponse(error_body(404, "Image not found."), status=404)
    response["Cache-Control"] = "private, max-age=300"
    return response
