"""The offline double's models and the catalogue payloads it serves.

A handful of each kind: text chat models, chat-image models (text and image out,
served by /chat/completions), image-only models (served by /images), video
models (served by /videos) and embedding models (served by /embeddings), each with
the parameters it accepts. A chat model's ``supported_parameters`` say which of the
further chat features (tools, structured outputs, logprobs, reasoning) it honours.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Streams a long answer at a set pace (see the package docstring).
LONG_STREAM_MODEL = "fake/long-stream"
BASIC_PARAMETERS = ("max_tokens", "temperature", "top_p", "stop", "seed")
# OpenAI's models: tools and structured outputs, logprobs, penalties; no reasoning.
OPENAI_CHAT_PARAMETERS = (
    *BASIC_PARAMETERS,
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "response_format",
    "structured_outputs",
    "logprobs",
    "top_logprobs",
    "frequency_penalty",
    "presence_penalty",
    "logit_bias",
)
# Anthropic's: tools and reasoning; no logprobs, no structured outputs.
ANTHROPIC_CHAT_PARAMETERS = (*BASIC_PARAMETERS, "tools", "tool_choice", "reasoning", "include_reasoning", "top_k")
# The echo model, for tests: every feature.
ALL_CHAT_PARAMETERS = (*OPENAI_CHAT_PARAMETERS, "reasoning", "include_reasoning", "top_k", "min_p")
GEMINI_ASPECT_RATIOS = ("1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9")


@dataclass(frozen=True)
class FakeModel:
    """One model of the double and everything it accepts."""

    id: str
    name: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    pricing: dict[str, str] = field(default_factory=dict)
    description: str = ""
    context_length: int | None = None
    aspect_ratios: tuple[str, ...] = ()
    image_sizes: tuple[str, ...] = ()  # 1K/2K/4K; "image_size" on chat, "resolution" on /images
    sizes: tuple[str, ...] = ()
    max_n: int | None = None
    returns_urls: bool = False  # images come back as hosted URLs instead of base64
    resolutions: tuple[str, ...] = ()  # video
    durations: tuple[int, ...] = ()
    frame_images: tuple[str, ...] = ()
    generate_audio: bool = False
    supported_parameters: tuple[str, ...] = BASIC_PARAMETERS  # chat models
    dimensions: int | None = None  # embedding models: the vector's length
    custom_dimensions: bool = False  # embedding models: "dimensions" may shorten it

    @property
    def is_image(self) -> bool:
        return "image" in self.outputs

    @property
    def is_video(self) -> bool:
        return "video" in self.outputs

    @property
    def is_embedding(self) -> bool:
        return "embeddings" in self.outputs

    @property
    def image_route(self) -> str | None:
        if not self.is_image:
            return None
        return "chat" if "text" in self.outputs else "images"

    def price(self, key: str) -> float:
        try:
            return float(self.pricing.get(key, 0))
        except ValueError:
            return 0.0


TEXT = ("text",)
TEXT_IMAGE = ("text", "image")
EMBEDDINGS = ("embeddings",)

MODELS: tuple[FakeModel, ...] = (
    FakeModel(
        "openai/gpt-4o-mini",
        "OpenAI: GPT-4o-mini",
        TEXT_IMAGE,
        TEXT,
        {"prompt": "0.00000015", "completion": "0.0000006"},
        "Small, fast chat model.",
        128000,
        supported_parameters=OPENAI_CHAT_PARAMETERS,
    ),
    FakeModel(
        "anthropic/claude-3.5-haiku",
        "Anthropic: Claude 3.5 Haiku",
        TEXT_IMAGE,
        TEXT,
        {"prompt": "0.0000008", "completion": "0.000004"},
        "Fast Claude model.",
        200000,
        supported_parameters=ANTHROPIC_CHAT_PARAMETERS,
    ),
    FakeModel(
        "fake/echo",
        "Fake: Echo",
        TEXT,
        TEXT,
        {"prompt": "0", "completion": "0"},
        "Answers with the last user message (offline double).",
        32768,
        supported_parameters=ALL_CHAT_PARAMETERS,
    ),
    FakeModel(
        LONG_STREAM_MODEL,
        "Fake: Long stream",
        TEXT,
        TEXT,
        {"prompt": "0", "completion": "0"},
        "Streams many pieces at a set pace (offline double, load tests).",
        32768,
    ),
    FakeModel(
        "google/gemini-2.5-flash-image",
        "Google: Gemini 2.5 Flash Image",
        TEXT_IMAGE,
        ("image", "text"),
        {"prompt": "0.0000003", "completion": "0.0000025", "image": "0.039"},
        "Chat model that draws images.",
        32768,
        aspect_ratios=GEMINI_ASPECT_RATIOS,
        image_sizes=("1K", "2K", "4K"),
        max_n=4,
    ),
    FakeModel(
        "openai/gpt-5-image-mini",
        "OpenAI: GPT-5 Image Mini",
        TEXT_IMAGE,
        ("image", "text"),
        {"prompt": "0.0000025", "completion": "0.000002", "image": "0.02"},
        "GPT-5 mini with image output.",
        400000,
        aspect_ratios=("1:1", "2:3", "3:2"),
        max_n=4,
    ),
    FakeModel(
        "openai/dall-e-3",
        "OpenAI: DALL-E 3",
        TEXT,
        ("image",),
        {"image": "0.04"},
        "Image-only model taking exact sizes.",
        sizes=("1024x1024", "1792x1024", "1024x1792"),
        max_n=1,
    ),
    FakeModel(
        "black-forest-labs/flux-1.1-pro",
        "Black Forest Labs: FLUX 1.1 Pro",
        TEXT,
        ("image",),
        {"image": "0.04"},
        "Image-only model taking aspect ratios; answers with hosted URLs.",
        aspect_ratios=("1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3", "21:9", "9:21"),
        max_n=4,
        returns_urls=True,
    ),
    FakeModel(
        "openai/gpt-image-1",
        "OpenAI: GPT Image 1",
        TEXT_IMAGE,
        ("image",),
        {"image": "0.042"},
        "Image-only model taking exact sizes, several per request.",
        sizes=("1024x1024", "1536x1024", "1024x1536"),
        max_n=4,
    ),
    FakeModel(
        "bytedance-seed/seedream-4.5",
        "ByteDance: Seedream 4.5",
        TEXT_IMAGE,
        ("image",),
        {"image": "0.03"},
        "Image-only model taking aspect ratios and resolutions.",
        aspect_ratios=("1:1", "4:3", "3:4", "16:9", "9:16"),
        image_sizes=("1K", "2K", "4K"),
        max_n=4,
    ),
    FakeModel(
        "google/veo-3.1",
        "Google: Veo 3.1",
        TEXT_IMAGE,
        ("video",),
        {"video_per_second": "0.40"},
        "Video model; starts from an image too.",
        aspect_ratios=("16:9", "9:16"),
        resolutions=("720p", "1080p"),
        durations=(4, 6, 8),
        frame_images=("first_frame", "last_frame"),
        generate_audio=True,
    ),
    FakeModel(
        "openai/sora-2",
        "OpenAI: Sora 2",
        TEXT,
        ("video",),
        {"video_per_second": "0.10"},
        "Text-to-video model.",
        aspect_ratios=("16:9", "9:16"),
        resolutions=("720p",),
        sizes=("1280x720", "720x1280"),
        durations=(4, 8, 12),
        generate_audio=True,
    ),
    FakeModel(
        "openai/text-embedding-3-small",
        "OpenAI: Text Embedding 3 Small",
        TEXT,
        EMBEDDINGS,
        {"prompt": "0.00000002", "completion": "0"},
        "Embedding model; dimensions may shorten its vectors.",
        8192,
        supported_parameters=(),
        dimensions=1536,
        custom_dimensions=True,
    ),
    FakeModel(
        "mistralai/mistral-embed",
        "Mistral: Mistral Embed",
        TEXT,
        EMBEDDINGS,
        {"prompt": "0.0000001", "completion": "0"},
        "Embedding model of a fixed size.",
        8192,
        supported_parameters=(),
        dimensions=1024,
    ),
)

BY_ID = {model.id: model for model in MODELS}

# Stand-in for models named only to trigger a fault (fake/fault-<name>): accepts anything.
PERMISSIVE = {
    "text": FakeModel("fake/fault", "Fake: Fault", TEXT, TEXT, supported_parameters=ALL_CHAT_PARAMETERS),
    "embedding": FakeModel("fake/fault", "Fake: Fault", TEXT, EMBEDDINGS, dimensions=8, custom_dimensions=True),
    "chat-image": FakeModel("fake/fault", "Fake: Fault", TEXT, ("image", "text")),
    "image": FakeModel("fake/fault", "Fake: Fault", TEXT, ("image",), max_n=4),
    "video": FakeModel("fake/fault", "Fake: Fault", TEXT_IMAGE, ("video",), frame_images=("first_frame", "last_frame")),
}


def models_payload(output_modalities: str | None) -> dict[str, Any]:
    """``GET /models``: text models by default; ``all``; or models having every listed output."""
    wanted = {m.strip() for m in (output_modalities or "text").split(",") if m.strip()}
    chosen = [m for m in MODELS if "all" in wanted or wanted <= set(m.outputs)]
    return {"data": [_model_item(model) for model in chosen]}


def _model_item(model: FakeModel) -> dict[str, Any]:
    parameters = list(model.supported_parameters) if "text" in model.outputs else []
    if model.custom_dimensions:
        parameters = ["dimensions"]
    return {
        "id": model.id,
        "canonical_slug": model.id,
        "name": model.name,
        "created": 1735689600,
        "description": model.description,
        "context_length": model.context_length,
        "architecture": {
            "modality": f"{'+'.join(model.inputs)}->{'+'.join(model.outputs)}",
            "input_modalities": list(model.inputs),
            "output_modalities": list(model.outputs),
            "tokenizer": "Other",
        },
        "pricing": {"prompt": "0", "completion": "0", "request": "0", **model.pricing},
        "top_provider": {"context_length": model.context_length, "is_moderated": False},
        "supported_parameters": parameters,
    }


def image_models_payload() -> dict[str, Any]:
    """``GET /images/models``: every image-output model with typed parameter descriptors."""
    return {"data": [_image_model_item(model) for model in MODELS if model.is_image]}


def _image_model_item(model: FakeModel) -> dict[str, Any]:
    params: dict[str, Any] = {"seed": {"type": "boolean"}}
    if model.aspect_ratios:
        params["aspect_ratio"] = {"type": "enum", "values": list(model.aspect_ratios)}
    if model.image_sizes:
        name = "image_size" if model.image_route == "chat" else "resolution"
        params[name] = {"type": "enum", "values": list(model.image_sizes)}
    if model.sizes:
        params["size"] = {"type": "enum", "values": list(model.sizes)}
    if model.max_n:
        params["n"] = {"type": "range", "min": 1, "max": model.max_n}
    return {
        "id": model.id,
        "name": model.name,
        "created": 1735689600,
        "description": model.description,
        "architecture": {"input_modalities": list(model.inputs), "output_modalities": list(model.outputs)},
        "endpoints": f"/api/v1/images/models/{model.id}/endpoints",
        "supported_parameters": params,
        "supports_streaming": False,
        "pricing": dict(model.pricing),
    }


def video_models_payload() -> dict[str, Any]:
    """``GET /videos/models``: every video model with its ``supported_*`` lists."""
    return {"data": [_video_model_item(model) for model in MODELS if model.is_video]}


def _video_model_item(model: FakeModel) -> dict[str, Any]:
    return {
        "id": model.id,
        "canonical_slug": model.id,
        "name": model.name,
        "created": 1735689600,
        "description": model.description,
        "supported_resolutions": list(model.resolutions),
        "supported_aspect_ratios": list(model.aspect_ratios),
        "supported_sizes": list(model.sizes) or None,
        "supported_durations": list(model.durations),
        "supported_frame_images": list(model.frame_images),
        "generate_audio": model.generate_audio,
        "seed": False,
        "allowed_passthrough_parameters": [],
        "pricing_skus": dict(model.pricing),
    }
