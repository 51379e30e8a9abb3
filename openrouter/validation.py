"""Check request parameters against a model's catalogue entry before spending money.

Rules, per parameter:

* a value the entry lists is accepted; any other value is refused, and the error
  names the values the model does accept;
* when the entry lists nothing for a parameter but does describe the model's image
  shape (sizes or aspect ratios), the parameter is refused: the model takes the
  other one (DALL-E takes ``size``, Gemini takes ``aspect_ratio``);
* when the entry says nothing at all (an unknown or sparsely described model),
  the value is passed on and the provider has the last word.

``size`` together with ``aspect_ratio`` is always refused (field ``size``), and the
chat-completions image route has no ``size`` at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .catalogue import parse_size
from .types import CatalogueModel

# Ceiling on images per request when the catalogue does not say (cost guard).
DEFAULT_MAX_N = 4


class ParameterNotAccepted(ValueError):
    """A parameter value the chosen model does not accept.

    ``field`` is the request field, ``value`` what was asked for and ``accepted``
    the values the model takes (possibly empty). ``str()`` is a sentence fit for a
    400 answer, e.g. ``aspect_ratio "7:3" is not accepted by
    google/gemini-2.5-flash-image; accepted: 1:1, 16:9``.
    """

    def __init__(
        self,
        field: str,
        value: Any,
        accepted: Sequence[Any],
        *,
        model: str = "",
        hint: str = "",
    ) -> None:
        self.field = field
        self.value = value
        self.accepted = list(accepted)
        self.model = model
        self.hint = hint
        super().__init__(str(self))

    def __str__(self) -> str:
        by = f" by {self.model}" if self.model else ""
        accepted = ", ".join(str(item) for item in self.accepted) if self.accepted else "none"
        text = f'{self.field} "{self.value}" is not accepted{by}; accepted: {accepted}'
        return f"{text} ({self.hint})" if self.hint else text


def validate_image_params(
    entry: CatalogueModel,
    *,
    n: int | None = 1,
    size: str | None = None,
    aspect_ratio: str | None = None,
    image_size: str | None = None,
) -> None:
    """Raise :class:`ParameterNotAccepted` unless the model takes these image parameters."""
    model = entry.id
    if size and aspect_ratio:
        raise ParameterNotAccepted("size", size, [], model=model, hint="send either size or aspect_ratio, not both")
    described = bool(entry.sizes or entry.aspect_ratios)
    if size:
        _check_size(entry, size, described)
    if aspect_ratio:
        _check_listed(
            "aspect_ratio",
            aspect_ratio,
            entry.aspect_ratios,
            model,
            refuse_unlisted=described,
            hint="this model takes size" if entry.sizes else "",
        )
    if image_size:
        _check_listed("image_size", image_size, entry.resolutions, model, refuse_unlisted=described)
    _check_n(entry, n)


def validate_video_params(
    entry: CatalogueModel,
    *,
    aspect_ratio: str | None = None,
    resolution: str | None = None,
    duration: int | None = None,
    has_image: bool = False,
    size: str | None = None,
) -> None:
    """Raise :class:`ParameterNotAccepted` unless the video model takes these parameters.

    ``has_image`` means image-to-video: the model must accept a ``first_frame``.
    """
    model = entry.id
    if aspect_ratio:
        _check_listed("aspect_ratio", aspect_ratio, entry.aspect_ratios, model)
    if resolution:
        _check_listed("resolution", resolution, entry.resolutions, model)
    if size:
        _check_listed("size", size, entry.sizes, model)
    if duration is not None:
        _check_listed("duration", duration, entry.durations, model)
    if has_image and "first_frame" not in entry.frame_images:
        raise ParameterNotAccepted(
            "image",
            "first_frame",
            entry.frame_images,
            model=model,
            hint="this model cannot start a video from an image",
        )


def _check_size(entry: CatalogueModel, size: str, described: bool) -> None:
    if entry.image_route == "chat":
        raise ParameterNotAccepted(
            "size", size, [], model=entry.id, hint="use aspect_ratio and image_size with this model"
        )
    if parse_size(size) is None:
        raise ParameterNotAccepted("size", size, entry.sizes, model=entry.id, hint="write sizes as WIDTHxHEIGHT")
    _check_listed(
        "size",
        size,
        entry.sizes,
        entry.id,
        refuse_unlisted=described,
        hint="this model takes aspect_ratio" if entry.aspect_ratios and not entry.sizes else "",
    )


def _check_listed(
    field: str,
    value: Any,
    accepted: Sequence[Any],
    model: str,
    *,
    refuse_unlisted: bool = False,
    hint: str = "",
) -> None:
    if accepted:
        if value not in accepted:
            raise ParameterNotAccepted(field, value, accepted, model=model)
    elif refuse_unlisted:
        raise ParameterNotAccepted(field, value, [], model=model, hint=hint)


def _check_n(entry: CatalogueModel, n: int | None) -> None:
    if n is None:
        return
    limit = entry.max_n or DEFAULT_MAX_N
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= limit:
        raise ParameterNotAccepted("n", n, list(range(1, limit + 1)), model=entry.id)
