"""Images people send us: the media types we store, and the one decoder of a user's
``data:image/...;base64,`` URL (size limits, then Pillow's check that it is an image).

Provider output is read by ``openrouter/`` itself; this module is for user input, so
every refusal is an InvalidInput naming the field the image came in.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
from dataclasses import dataclass

from core.errors import InvalidInput

# The image types we accept and store, with the file extension each is stored under.
IMAGE_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/gif": "gif"}
# Refused before any pixel is decoded: a small file can claim a huge canvas (a
# decompression bomb). Below Pillow's own MAX_IMAGE_PIXELS, which only warns at first.
MAX_PIXELS = 50_000_000

_DATA_URL = re.compile(r"^data:(?P<type>[\w.+-]+/[\w.+-]+);base64,(?P<data>.*)$", re.DOTALL)


@dataclass(frozen=True)
class DecodedImage:
    """A verified image: its real media type (from its bytes), the bytes, the extension."""

    media_type: str
    data: bytes
    width: int = 0
    height: int = 0

    @property
    def extension(self) -> str:
        return IMAGE_EXTENSIONS[self.media_type]


def media_type_for_extension(extension: str, default: str = "image/png") -> str:
    """The media type a stored file's extension stands for (``default`` when unknown)."""
    extension = extension.lower().lstrip(".")
    return next((media for media, ext in IMAGE_EXTENSIONS.items() if ext == extension), default)


def decode_image_data_url(value: str, *, field: str, max_bytes: int, max_pixels: int = MAX_PIXELS) -> DecodedImage:
    """The image a base64 data URL holds, checked: at most ``max_bytes`` bytes and
    ``max_pixels`` pixels, one of IMAGE_EXTENSIONS' types by its content, and readable.

    Raises InvalidInput on ``field`` otherwise. Pixels are counted from the header, before
    anything is decoded.
    """
    too_large = f"The image is too large ({max_bytes // (1024 * 1024)} MB at most)."
    # Base64 is 4/3 of the bytes: refuse an oversized URL before decoding it.
    if len(value) > max_bytes * 4 // 3 + 200:
        raise InvalidInput(too_large, field=field)
    match = _DATA_URL.match(value)
    if not match or match["type"].lower() not in IMAGE_EXTENSIONS:
        raise InvalidInput(
            "A data URL must be a base64 PNG, JPEG, WebP or GIF image (data:image/png;base64,...).", field=field
        )
    try:
        data = base64.b64decode(match["data"], validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("The data URL's base64 content is invalid.", field=field) from None
    if len(data) > max_bytes:
        raise InvalidInput(too_large, field=field)
    media_type, width, height = _verified_image(data, field=field, max_pixels=max_pixels)
    if media_type not in IMAGE_EXTENSIONS:
        raise InvalidInput("The image must be a PNG, JPEG, WebP or GIF.", field=field)
    return DecodedImage(media_type=media_type, data=data, width=width, height=height)


def _verified_image(data: bytes, *, field: str, max_pixels: int) -> tuple[str, int, int]:
    """The image's media type (from its content), width and height."""
    from PIL import Image, UnidentifiedImageError

    too_many_pixels = InvalidInput(
        f"The image is too large ({max_pixels // 1_000_000} megapixels at most).", field=field
    )
    try:
        # Opening reads the header only; Pillow itself refuses (or, under -W error, warns
        # about) a canvas past its MAX_IMAGE_PIXELS.
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if width * height > max_pixels:
                raise too_many_pixels
            image.verify()
            return Image.MIME.get(image.format or "", ""), width, height
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise too_many_pixels from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise InvalidInput("The data URL does not hold a readable image.", field=field) from None
