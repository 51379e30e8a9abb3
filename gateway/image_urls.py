"""Signed, expiring URLs for the images /v1/ answers with (``response_format: "url"``).

As OpenAI's image URLs do, they work without any header for a while
(``GATEWAY_IMAGE_URL_MINUTES``, 60 by default) and then stop: the URL carries the
moment it expires and an HMAC (``django.core.signing``, a purpose of its own) over the
image's id, its file name and that moment. Anyone holding the URL can fetch that one
image until then, as with OpenAI's; a changed id, name or expiry, or another image's
signature, is refused.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.crypto import constant_time_compare

from generation.models import GeneratedImage

PURPOSE = "gateway.image-url"


class UrlRefused(Exception):
    """The URL is not one we signed (403) or has expired (410)."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def _signer() -> signing.Signer:
    return signing.Signer(salt=PURPOSE)


def _value(image_id: int, filename: str, expires: int) -> str:
    return f"{image_id}/{filename}/{expires}"


def signed_image_path(image: GeneratedImage, *, now: float | None = None) -> str:
    """The path (with its query) that serves ``image`` without credentials until it expires."""
    expires = int((now if now is not None else time.time()) + settings.GATEWAY_IMAGE_URL_MINUTES * 60)
    signature = _signer().signature(_value(image.pk, image.filename, expires))
    path = reverse("gateway:image-file", kwargs={"pk": image.pk, "filename": image.filename})
    return f"{path}?expires={expires}&signature={signature}"


def verified_image(*, image_id: int, filename: str, expires: str | None, signature: str | None) -> GeneratedImage:
    """The image a signed URL names, if the signature is ours and the URL has not expired."""
    try:
        moment = int(expires or "")
    except ValueError:
        raise UrlRefused("This image URL is not valid.", status=403) from None
    expected = _signer().signature(_value(image_id, filename, moment))
    if not constant_time_compare(expected, signature or ""):
        raise UrlRefused("This image URL is not valid.", status=403)
    if moment <= time.time():
        raise UrlRefused("This image URL has expired; ask for the image again.", status=410)
    image = GeneratedImage.objects.filter(pk=image_id).first()
    if image is None or image.filename != filename:
        raise GeneratedImage.DoesNotExist
    return image
