"""The first frame of an image-to-video job: checking what the user names as its source
(an https URL, one of their images, or a data URL), and giving it to the provider."""

from __future__ import annotations

import base64
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from core.errors import NotFound
from core.images import DecodedImage, decode_image_data_url, media_type_for_extension
from generation.selectors import user_image
from videos.errors import VideoParameterError
from videos.models import VideoJob

MAX_URL_LENGTH = 2048


@dataclass(frozen=True)
class Source:
    """Exactly one of: an https URL, one of the owner's generated images, or an uploaded
    image (to be stored with the job). All empty for text-to-video."""

    url: str = ""
    image: object | None = None
    upload: DecodedImage | None = None


def image_source(*, owner, image_url: str | None, image_id) -> Source:
    """The checked source of an image-to-video job; VideoParameterError (400) on
    ``image_url`` or ``image_id`` otherwise."""
    image_url = (image_url or "").strip()
    if bool(image_url) == (image_id not in (None, "")):
        raise VideoParameterError(
            "Choose one of your images or give the address of one: one of the two, not both.", field="image_url"
        )
    if image_id not in (None, ""):
        try:
            image = user_image(user=owner, image_id=image_id)
        except NotFound:
            raise VideoParameterError("You have no image with this id.", field="image_id") from None
        return Source(image=image)
    if image_url.startswith("data:"):
        return Source(
            upload=decode_image_data_url(
                image_url, field="image_url", max_bytes=settings.VIDEO_SOURCE_DATA_URL_MAX_BYTES
            )
        )
    if len(image_url) > MAX_URL_LENGTH:
        raise VideoParameterError(
            f"The image URL is too long ({MAX_URL_LENGTH} characters at most).", field="image_url"
        )
    try:
        URLValidator(schemes=["https"])(image_url)
    except ValidationError:
        raise VideoParameterError(
            "image_url must be an https:// URL (or a data:image/... URL).", field="image_url"
        ) from None
    return Source(url=image_url)


def first_frame_url(job: VideoJob) -> str | None:
    """What the provider gets as the first frame: the user's URL, or the stored image as a
    data URL. None for text-to-video; OSError/ValueError when the image is gone."""
    if job.generation_type != VideoJob.GenerationType.IMAGE_TO_VIDEO:
        return None
    if job.source_image_url:
        return job.source_image_url
    if job.source_image_file.name:
        with job.source_image_file.open("rb") as handle:
            data = handle.read()
        media_type = media_type_for_extension(job.source_image_file.name.rsplit(".", 1)[-1])
        return f"data:{media_type};base64,{base64.b64encode(data).decode('ascii')}"
    if job.source_image is not None:
        return job.source_image.as_data_url()
    raise ValueError("the job's source image is gone")
