"""Images whose header claims a huge canvas (a decompression bomb) are a malformed answer
from the provider, whichever way they come: inline, as a data URL or as a hosted URL."""

import struct
import warnings
import zlib

import pytest

from openrouter import parsing
from openrouter.errors import ProviderMalformedResponse


def png_claiming(width: int, height: int) -> bytes:
    """A few hundred bytes of PNG whose header claims ``width`` x ``height`` pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


BOMB = png_claiming(30_000, 30_000)


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize("width, height", [(30_000, 30_000), (10_000, 10_000), (8_000, 7_000)])
def test_an_image_claiming_a_huge_canvas_is_a_malformed_answer(width, height):
    with pytest.raises(ProviderMalformedResponse, match="too large"):
        parsing.provider_image(png_claiming(width, height), "image/png")


def test_pillows_warning_turned_error_is_a_malformed_answer_too():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ProviderMalformedResponse, match="too large"):
            parsing.provider_image(png_claiming(10_000, 10_000), "image/png")


def test_an_image_within_the_limit_is_read():
    image = parsing.provider_image(png_claiming(4_000, 3_000), None)
    assert (image.width, image.height, image.media_type) == (4_000, 3_000, "image/png")


@pytest.mark.parametrize(
    "model",
    [
        "google/gemini-2.5-flash-image",  # chat route, a data URL
        "openai/dall-e-3",  # images route, b64_json
        "black-forest-labs/flux-1.1-pro",  # images route, a hosted URL fetched afterwards
    ],
)
def test_the_double_serving_a_bomb_gets_a_malformed_answer(client, monkeypatch, model):
    from openrouter.fake import media

    monkeypatch.setattr(media, "png_bytes", lambda *args, **kwargs: BOMB)

    with pytest.raises(ProviderMalformedResponse, match="too large"):
        client.generate_image(model=model, prompt="a very large cat")
