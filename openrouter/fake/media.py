"""Deterministic content for the offline double: reply text, PNG images, the sample video.

Everything here depends only on its inputs (the prompt, the requested size), so
tests can compare results and a demo looks the same on every run.
"""

from __future__ import annotations

import hashlib
import io
from functools import lru_cache
from pathlib import Path

from ..catalogue import parse_size

SAMPLE_VIDEO_PATH = Path(__file__).with_name("assets") / "sample.mp4"

# Long side in pixels for each image_size / resolution value.
LONG_SIDE = {"0.5K": 512, "1K": 1024, "2K": 2048, "4K": 4096}
DEFAULT_IMAGE_SIZE = "1K"
MAX_SIDE = 4096

WORDS = (
    "light river stone window quiet signal garden paper orbit lantern harbor "
    "meadow copper thread glass compass forest echo canvas ember tide summit "
    "ribbon violet marble cloud anchor prism willow beacon"
).split()


def digest(text: str) -> bytes:
    """A stable hash of ``text`` (the seed of everything generated from a prompt)."""
    return hashlib.sha256(text.encode("utf-8")).digest()


def last_user_text(messages: list) -> str:
    """The text of the last user message (content strings or text parts)."""
    for message in reversed(messages or []):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            if isinstance(content, list):
                return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict)).strip()
    return ""


def reply_text(model: str, messages: list) -> str:
    """The double's answer: ``fake/echo`` echoes the prompt; other models answer with a
    sentence naming the model and the prompt, then words chosen by the prompt's hash."""
    prompt = last_user_text(messages)
    if model == "fake/echo":
        return prompt or "(empty prompt)"
    seed = digest(f"{model}\n{prompt}")
    words = [WORDS[b % len(WORDS)] for b in seed[:12]]
    return (
        f"Offline answer from {model}. You asked: {prompt.strip()[:200]} "
        f"Here are some words for you: {' '.join(words)}."
    )


def count_tokens(text: str) -> int:
    """A rough token count: whitespace-separated words."""
    return len(text.split())


def words_of(text: str) -> list[str]:
    """``text`` cut into pieces that concatenate back to it, one word each."""
    parts = text.split(" ")
    return [part + " " for part in parts[:-1]] + [parts[-1]]


def chat_image_dimensions(aspect_ratio: str | None, image_size: str | None) -> tuple[int, int]:
    """Pixel size for a chat-route image: the long side from image_size, the other from the ratio."""
    long_side = LONG_SIDE.get(image_size or DEFAULT_IMAGE_SIZE, LONG_SIDE[DEFAULT_IMAGE_SIZE])
    return _from_ratio(aspect_ratio or "1:1", long_side)


def images_endpoint_dimensions(size: str | None, aspect_ratio: str | None, resolution: str | None) -> tuple[int, int]:
    """Pixel size for an images-endpoint image: ``size`` exactly, else ratio and resolution."""
    if size:
        parsed = parse_size(size)
        if parsed:
            return min(parsed[0], MAX_SIDE), min(parsed[1], MAX_SIDE)
    return chat_image_dimensions(aspect_ratio, resolution)


def _from_ratio(aspect_ratio: str, long_side: int) -> tuple[int, int]:
    try:
        w_text, h_text = aspect_ratio.split(":")
        w, h = float(w_text), float(h_text)
        if w <= 0 or h <= 0:
            raise ValueError
    except ValueError:
        w, h = 1.0, 1.0
    if w >= h:
        return long_side, max(1, round(long_side * h / w))
    return max(1, round(long_side * w / h)), long_side


@lru_cache(maxsize=64)
def png_bytes(width: int, height: int, prompt: str, index: int = 0) -> bytes:
    """A real PNG of ``width`` x ``height``: colours from the prompt's hash, a circle and
    the prompt's first words. A 4-colour palette image stays small and fast even at 4096 px."""
    from PIL import Image, ImageDraw

    seed = digest(f"{prompt}\n{index}")
    background = tuple(seed[0:3])
    accent = tuple(255 - c for c in background)
    band = tuple((c + 96) % 256 for c in seed[3:6])
    ink = (255, 255, 255) if sum(background) < 384 else (0, 0, 0)
    image = Image.new("P", (width, height), 0)
    image.putpalette([*background, *accent, *band, *ink] + [0] * (252 * 3))
    draw = ImageDraw.Draw(image)
    short = min(width, height)
    draw.rectangle([0, height * 2 // 3, width, height * 2 // 3 + max(1, short // 12)], fill=2)
    radius = short // 4
    cx = width // 2 + (seed[6] - 128) * width // 1024
    cy = height // 3 + (seed[7] - 128) * height // 1024
    draw.ellipse([cx - radius, cy - radius, cx + radius, cy + radius], fill=1)
    _draw_caption(draw, prompt, width, height)
    out = io.BytesIO()
    image.save(out, "PNG", bits=2, compress_level=6)
    return out.getvalue()


def user_image_urls(messages: list) -> list[str]:
    """The URLs of every ``image_url`` part of the user messages, in order."""
    return [
        p["image_url"]["url"]
        for m in messages or []
        if isinstance(m, dict) and m.get("role") == "user" and isinstance(m.get("content"), list)
        for p in m["content"]
        if isinstance(p, dict)
        and p.get("type") == "image_url"
        and isinstance(p.get("image_url"), dict)
        and isinstance(p["image_url"].get("url"), str)
    ]


def last_user_image(messages: list) -> str | None:
    """The URL of the last ``image_url`` part of the last user message, if any."""
    for message in reversed(messages or []):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if not isinstance(content, list):
                return None
            urls = [
                p["image_url"].get("url")
                for p in content
                if isinstance(p, dict) and p.get("type") == "image_url" and isinstance(p.get("image_url"), dict)
            ]
            return urls[-1] if urls else None
    return None


def image_size_of(data: bytes) -> tuple[int, int]:
    """(width, height) of an image's bytes; OSError when they are not an image."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        return image.size


def edited_png_bytes(source: bytes, prompt: str, size: tuple[int, int] | None = None) -> bytes:
    """An edit of ``source``, visibly derived from it: its colours inverted (pixel for
    pixel), resized to ``size`` if given, the prompt's first words drawn at the bottom."""
    from PIL import Image, ImageDraw, ImageOps

    image = ImageOps.invert(Image.open(io.BytesIO(source)).convert("RGB"))
    if size and size != image.size:
        image = image.resize(size)
    draw = ImageDraw.Draw(image)
    _draw_caption(draw, prompt, image.width, image.height, fill=(255, 255, 255))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _draw_caption(draw, prompt: str, width: int, height: int, fill=3) -> None:
    from PIL import ImageFont

    caption = " ".join(prompt.split())[:40]
    if not caption:
        return
    size = max(10, min(width, height) // 16)
    try:
        font = ImageFont.load_default(size=size)
    except (TypeError, OSError, ImportError):  # Pillow without FreeType
        font = ImageFont.load_default()
    draw.text((size, height - 2 * size), caption, fill=fill, font=font)


@lru_cache(maxsize=1)
def sample_video_bytes() -> bytes:
    """The bundled sample MP4 (H.264 baseline, yuv420p, faststart): plays in browsers."""
    return SAMPLE_VIDEO_PATH.read_bytes()
