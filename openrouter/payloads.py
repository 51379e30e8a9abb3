"""Request bodies for every provider endpoint: plain dicts, the same for both clients.

Options left as None are left out of the body, so the provider applies its defaults.
"""

from __future__ import annotations

from typing import Any


def _with_options(body: dict[str, Any], options: tuple[tuple[str, Any], ...]) -> dict[str, Any]:
    for key, value in options:
        if value is not None:
            body[key] = value
    return body


def chat_body(
    model: str,
    messages: list[dict[str, Any]],
    max_tokens: int | None = None,
    temperature: float | None = None,
    *,
    stream: bool = False,
    options: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """``POST /chat/completions`` for text; ``options`` are further sampling parameters
    already checked by the caller (top_p, stop, seed)."""
    body = _with_options(
        {"model": model, "messages": messages},
        (("max_tokens", max_tokens), ("temperature", temperature), *(options or {}).items()),
    )
    if stream:
        body["stream"] = True
    return body


def embeddings_body(
    model: str, inputs: list[str | list[int]], dimensions: int | None, encoding_format: str | None
) -> dict[str, Any]:
    """``POST /embeddings``: OpenAI's shape (texts, or token lists)."""
    return _with_options(
        {"model": model, "input": inputs}, (("dimensions", dimensions), ("encoding_format", encoding_format))
    )


def chat_image_body(
    model: str,
    prompt: str,
    aspect_ratio: str | None,
    image_size: str | None,
    size: str | None,
    source_image_url: str | None = None,
) -> dict[str, Any]:
    """``POST /chat/completions`` asking a text+image model for one image; with
    ``source_image_url`` (a data: or https: URL) the image to edit goes along as an
    ``image_url`` part after the prompt's text."""
    if size:
        raise ValueError("The chat image route takes aspect_ratio and image_size, not size.")
    content: str | list[dict[str, Any]] = prompt
    if source_image_url:
        content = [{"type": "text", "text": prompt}, {"type": "image_url", "image_url": {"url": source_image_url}}]
    body: dict[str, Any] = {
        "model": model,
        "messages": [{"role": "user", "content": content}],
        "modalities": ["image", "text"],
    }
    image_config = {k: v for k, v in (("aspect_ratio", aspect_ratio), ("image_size", image_size)) if v}
    if image_config:
        body["image_config"] = image_config
    return body


def images_body(
    model: str, prompt: str, n: int, size: str | None, aspect_ratio: str | None, image_size: str | None
) -> dict[str, Any]:
    """``POST /images`` for image-only models: one request for all ``n`` images."""
    body: dict[str, Any] = {"model": model, "prompt": prompt, "n": n}
    for key, value in (("size", size), ("aspect_ratio", aspect_ratio), ("resolution", image_size)):
        if value:
            body[key] = value
    return body


def video_body(
    model: str,
    prompt: str,
    aspect_ratio: str | None = None,
    resolution: str | None = None,
    size: str | None = None,
    duration: int | None = None,
    first_frame_url: str | None = None,
) -> dict[str, Any]:
    """``POST /videos``: text-to-video, or image-to-video with the image as first frame."""
    body = _with_options(
        {"model": model, "prompt": prompt},
        (("aspect_ratio", aspect_ratio), ("resolution", resolution), ("size", size), ("duration", duration)),
    )
    if first_frame_url:
        body["frame_images"] = [
            {"type": "image_url", "frame_type": "first_frame", "image_url": {"url": first_frame_url}}
        ]
    return body
