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


# A mask goes to the provider as one more image (OpenRouter takes no mask parameter): the
# prompt says which it is and what it means, as OpenAI's edits define it.
MASK_NOTE = "The last image is a mask of the first: change only where the mask is transparent, keep the rest as it is."


def edit_prompt(prompt: str, mask_url: str | None) -> str:
    return f"{prompt}\n\n{MASK_NOTE}" if mask_url else prompt


def edit_images(source_image_url: str | None, reference_urls: tuple[str, ...], mask_url: str | None) -> list[str]:
    """The images an edit sends, in order: the one to edit, the further ones, the mask."""
    if not source_image_url:
        return []
    return [source_image_url, *reference_urls, *([mask_url] if mask_url else [])]


def chat_image_body(
    model: str,
    prompt: str,
    aspect_ratio: str | None,
    image_size: str | None,
    size: str | None,
    source_image_url: str | None = None,
    reference_urls: tuple[str, ...] = (),
    mask_url: str | None = None,
) -> dict[str, Any]:
    """``POST /chat/completions`` asking a text+image model for one image; with
    ``source_image_url`` (a data: or https: URL) the image to edit goes along as an
    ``image_url`` part after the prompt's text, then ``reference_urls`` and the mask."""
    if size:
        raise ValueError("The chat image route takes aspect_ratio and image_size, not size.")
    content: str | list[dict[str, Any]] = prompt
    images = edit_images(source_image_url, reference_urls, mask_url)
    if images:
        content = [
            {"type": "text", "text": edit_prompt(prompt, mask_url)},
            *({"type": "image_url", "image_url": {"url": url}} for url in images),
        ]
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
    model: str,
    prompt: str,
    n: int,
    size: str | None,
    aspect_ratio: str | None,
    image_size: str | None,
    source_image_url: str | None = None,
    reference_urls: tuple[str, ...] = (),
    mask_url: str | None = None,
) -> dict[str, Any]:
    """``POST /images`` for image-only models: one request for all ``n`` images; an edit
    sends its images as ``input_references`` (the one to edit first, the mask last)."""
    body: dict[str, Any] = {"model": model, "prompt": edit_prompt(prompt, mask_url), "n": n}
    for key, value in (("size", size), ("aspect_ratio", aspect_ratio), ("resolution", image_size)):
        if value:
            body[key] = value
    images = edit_images(source_image_url, reference_urls, mask_url)
    if images:
        body["input_references"] = images
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
