"""Parse the provider's model catalogues into :class:`CatalogueModel` entries.

Three catalogues describe models: ``GET /models`` (modalities, pricing), ``GET
/images/models`` (image parameters as typed capability descriptors) and ``GET
/videos/models`` (video parameters as ``supported_*`` lists). The parsers are
tolerant of missing or null fields, because the catalogue grows faster than
any client; :func:`merge_catalogue` folds the three into one entry per model id.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from .errors import ProviderMalformedResponse
from .numbers import int_or_none
from .types import CatalogueModel, ImageRoute

# Image-only model families that the images endpoint serves. Used only when the
# catalogue does not know a model; order does not matter, substrings of the id.
IMAGES_ENDPOINT_NAME_RULES = (
    "dall-e",
    "gpt-image",
    "flux",
    "seedream",
    "imagen",
    "stable-diffusion",
    "sdxl",
    "recraft",
    "ideogram",
    "riverflow",
    "hidream",
)

_N_PARAMETER = "n"
_IMAGE_SIZE_PARAMETERS = ("image_size", "resolution")


def image_route_for(model_id: str, catalogue_entry: CatalogueModel | None = None) -> ImageRoute:
    """Which endpoint generates images for this model: ``"chat"`` or ``"images"``.

    The catalogue decides when it knows the model (text and image outputs -> chat
    completions; image output alone -> the images endpoint). Otherwise name rules:
    known image-only families go to the images endpoint, everything else to chat.
    """
    if catalogue_entry is not None and catalogue_entry.image_route:
        return catalogue_entry.image_route
    lowered = model_id.lower()
    if any(rule in lowered for rule in IMAGES_ENDPOINT_NAME_RULES):
        return "images"
    return "chat"


def route_from_modalities(output_modalities: Iterable[str]) -> ImageRoute | None:
    """The image route implied by a model's output modalities (None: no image output)."""
    outputs = set(output_modalities)
    if "image" not in outputs:
        return None
    return "chat" if "text" in outputs else "images"


def kinds_from_modalities(output_modalities: Iterable[str]) -> set[str]:
    """Product kinds: image or video when the model outputs them, text for plain chat
    models, embedding for models whose output is embeddings."""
    outputs = set(output_modalities)
    kinds: set[str] = {kind for kind in ("image", "video") if kind in outputs}
    if "text" in outputs and not kinds:
        kinds.add("text")
    if "embeddings" in outputs:
        kinds.add("embedding")
    return kinds


def parse_models_payload(payload: Any) -> list[CatalogueModel]:
    """Parse ``GET /models``: ``{"data": [{"id", "name", "architecture", "pricing", ...}]}``."""
    entries = []
    for item in _data_items(payload, "/models"):
        architecture = item.get("architecture") or {}
        outputs = _str_list(architecture.get("output_modalities")) or ["text"]
        entries.append(
            CatalogueModel(
                id=item["id"],
                name=str(item.get("name") or item["id"]),
                kinds=kinds_from_modalities(outputs),
                input_modalities=_str_list(architecture.get("input_modalities")) or ["text"],
                output_modalities=outputs,
                image_route=route_from_modalities(outputs),
                pricing=dict(item.get("pricing") or {}),
                description=str(item.get("description") or ""),
                context_length=int_or_none(item.get("context_length")),
            )
        )
    return entries


def parse_image_models_payload(payload: Any) -> list[CatalogueModel]:
    """Parse ``GET /images/models``, whose ``supported_parameters`` map each parameter
    to a descriptor: ``{"type": "enum", "values": [...]}``, ``{"type": "range", "min",
    "max"}`` or ``{"type": "boolean"}``. Plain lists and ``supported_*`` keys are
    accepted too."""
    entries = []
    for item in _data_items(payload, "/images/models"):
        architecture = item.get("architecture") or {}
        outputs = _str_list(architecture.get("output_modalities")) or ["image"]
        params = item.get("supported_parameters") or {}
        if not isinstance(params, dict):
            params = {}
        resolutions: list[str] = []
        for name in _IMAGE_SIZE_PARAMETERS:
            resolutions = resolutions or _enum_values(params.get(name))
        entries.append(
            CatalogueModel(
                id=item["id"],
                name=str(item.get("name") or item["id"]),
                kinds=kinds_from_modalities(outputs) | {"image"},
                input_modalities=_str_list(architecture.get("input_modalities")) or ["text"],
                output_modalities=outputs,
                image_route=route_from_modalities(outputs) or "images",
                aspect_ratios=_enum_values(params.get("aspect_ratio"))
                or _str_list(item.get("supported_aspect_ratios")),
                resolutions=resolutions or _str_list(item.get("supported_resolutions")),
                sizes=_enum_values(params.get("size")) or _str_list(item.get("supported_sizes")),
                max_n=_range_max(params.get(_N_PARAMETER)),
                pricing=dict(item.get("pricing") or {}),
                description=str(item.get("description") or ""),
            )
        )
    return entries


def parse_video_models_payload(payload: Any) -> list[CatalogueModel]:
    """Parse ``GET /videos/models``: ``supported_resolutions``, ``supported_aspect_ratios``,
    ``supported_sizes``, ``supported_durations``, ``supported_frame_images``, ..."""
    entries = []
    for item in _data_items(payload, "/videos/models"):
        frame_images = _str_list(item.get("supported_frame_images"))
        inputs = ["text", "image"] if frame_images else ["text"]
        pricing = item.get("pricing_skus") or item.get("pricing") or {}
        entries.append(
            CatalogueModel(
                id=item["id"],
                name=str(item.get("name") or item["id"]),
                kinds={"video"},
                input_modalities=inputs,
                output_modalities=["video"],
                resolutions=_str_list(item.get("supported_resolutions")),
                aspect_ratios=_str_list(item.get("supported_aspect_ratios")),
                sizes=_str_list(item.get("supported_sizes")),
                durations=[int(d) for d in item.get("supported_durations") or [] if int_or_none(d) is not None],
                frame_images=frame_images,
                generate_audio=item.get("generate_audio") if isinstance(item.get("generate_audio"), bool) else None,
                pricing=dict(pricing) if isinstance(pricing, dict) else {},
                description=str(item.get("description") or ""),
            )
        )
    return entries


def merge_catalogue(*sources: Iterable[CatalogueModel]) -> list[CatalogueModel]:
    """Fold entries from several catalogues into one per model id, in first-seen order.

    Modalities and kinds are unions; a parameter list comes from the first source
    that has one; pricing dicts are combined. The image route is recomputed from the
    merged output modalities.
    """
    merged: dict[str, CatalogueModel] = {}
    for source in sources:
        for entry in source:
            if entry.id in merged:
                _merge_into(merged[entry.id], entry)
            else:
                merged[entry.id] = CatalogueModel.from_dict(entry.as_dict())
    for entry in merged.values():
        entry.image_route = route_from_modalities(entry.output_modalities) or (
            "images" if "image" in entry.kinds else None
        )
    return list(merged.values())


def _merge_into(target: CatalogueModel, other: CatalogueModel) -> None:
    if not target.name or target.name == target.id:
        target.name = other.name or target.name
    target.kinds |= other.kinds
    target.input_modalities = _union(target.input_modalities, other.input_modalities)
    target.output_modalities = _union(target.output_modalities, other.output_modalities)
    for name in ("aspect_ratios", "resolutions", "sizes", "durations", "frame_images"):
        if not getattr(target, name):
            setattr(target, name, list(getattr(other, name)))
    for name in ("max_n", "generate_audio", "context_length"):
        if getattr(target, name) is None:
            setattr(target, name, getattr(other, name))
    target.description = target.description or other.description
    target.pricing = {**other.pricing, **target.pricing}


def _data_items(payload: Any, endpoint: str) -> list[dict]:
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, list):
        raise ProviderMalformedResponse(f"{endpoint} answered without a data list")
    return [item for item in data if isinstance(item, dict) and isinstance(item.get("id"), str)]


def _enum_values(descriptor: Any) -> list[str]:
    if isinstance(descriptor, list):
        return _str_list(descriptor)
    if isinstance(descriptor, dict) and descriptor.get("type", "enum") == "enum":
        return _str_list(descriptor.get("values"))
    return []


def _range_max(descriptor: Any) -> int | None:
    if isinstance(descriptor, dict):
        if descriptor.get("type") == "range":
            return int_or_none(descriptor.get("max"))
        if descriptor.get("type") == "enum":
            numbers = [n for n in (int_or_none(v) for v in descriptor.get("values") or []) if n is not None]
            return max(numbers) if numbers else None
    return int_or_none(descriptor)


def _str_list(value: Any) -> list[str]:
    if not isinstance(value, (list, tuple)):
        return []
    return [str(item) for item in value if item is not None]


def _union(first: list[str], second: list[str]) -> list[str]:
    return first + [item for item in second if item not in first]


_SIZE_PATTERN = re.compile(r"^(\d{2,5})x(\d{2,5})$")


def parse_size(size: str) -> tuple[int, int] | None:
    """``"1792x1024"`` -> ``(1792, 1024)``; None when the text is not WIDTHxHEIGHT."""
    match = _SIZE_PATTERN.match(size.strip().lower()) if isinstance(size, str) else None
    if not match:
        return None
    return int(match.group(1)), int(match.group(2))
