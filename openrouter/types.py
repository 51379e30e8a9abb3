"""Plain dataclasses returned by the OpenRouter client. No Django, no HTTP objects."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

ImageRoute = Literal["chat", "images"]

# Video job statuses as the provider reports them.
VIDEO_RUNNING = frozenset({"pending", "in_progress"})
VIDEO_TERMINAL = frozenset({"completed", "failed", "cancelled", "expired"})


@dataclass(frozen=True)
class Usage:
    """Token counts and cost (USD credits) the provider reported for one call."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cost: float | None = None

    def __add__(self, other: Usage) -> Usage:
        if self.cost is None and other.cost is None:
            cost = None
        else:
            cost = (self.cost or 0.0) + (other.cost or 0.0)
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            total_tokens=self.total_tokens + other.total_tokens,
            cost=cost,
        )


@dataclass(frozen=True)
class KeyInfo:
    """``GET /key``: what the provider says about the API key itself (USD credits).
    ``limit`` and ``limit_remaining`` are None for a key without a credit limit."""

    label: str = ""
    usage: float | None = None
    limit: float | None = None
    limit_remaining: float | None = None
    is_free_tier: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ChatResult:
    """A whole (non-streamed) chat completion."""

    id: str
    model: str
    text: str
    usage: Usage
    finish_reason: str | None
    # The functions the model calls, in OpenAI's shape ({id, type, function: {name, arguments}}).
    tool_calls: tuple[dict[str, Any], ...] = ()
    # OpenAI's {"content": [...]} when logprobs were asked for.
    logprobs: dict[str, Any] | None = None


@dataclass(frozen=True)
class StreamPiece:
    """The next piece of streamed text, or of tool calls: the provider's deltas in
    OpenAI's shape ({index, id?, type?, function: {name?, arguments?}})."""

    text: str
    tool_calls: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class StreamEnd:
    """The last item of a stream: identifiers, usage and why generation stopped."""

    id: str
    model: str
    usage: Usage
    finish_reason: str | None
    tool_calls: tuple[dict[str, Any], ...] = ()  # the streamed deltas put together


@dataclass(frozen=True)
class EmbeddingResult:
    """``POST /embeddings``: one vector per input, in input order, each a list of floats
    or (``encoding_format: "base64"``) the base64 text of little-endian float32 values."""

    id: str
    model: str
    vectors: tuple[list[float] | str, ...] = field(repr=False)
    usage: Usage = field(default_factory=Usage)


@dataclass(frozen=True)
class ProviderImage:
    """One generated image: its bytes, media type and pixel size (read from the bytes)."""

    data: bytes = field(repr=False)
    media_type: str
    width: int
    height: int


@dataclass(frozen=True)
class ImageResult:
    """Images from one generate_image call and which endpoint produced them."""

    model: str
    route: ImageRoute
    images: list[ProviderImage]
    usage: Usage
    text: str = ""


@dataclass(frozen=True)
class VideoSubmission:
    """The provider's answer to a video job submission (HTTP 202)."""

    id: str
    polling_url: str
    status: str


@dataclass(frozen=True)
class VideoJobStatus:
    """One poll of a video job. ``content_urls`` need the API key to download."""

    id: str
    status: str
    progress: int | None
    content_urls: list[str]
    error: str | None
    cost: float | None
    raw: dict = field(default_factory=dict, repr=False)


@dataclass
class CatalogueModel:
    """One model as the catalogues describe it, merged over /models, /images/models
    and /videos/models.

    Empty parameter lists mean the catalogue said nothing about that parameter (see
    openrouter.validation for how that is treated). ``resolutions`` holds image sizes
    such as 1K/2K/4K for image models and 720p/1080p for video models.
    """

    id: str
    name: str = ""
    kinds: set[str] = field(default_factory=set)
    input_modalities: list[str] = field(default_factory=list)
    output_modalities: list[str] = field(default_factory=list)
    image_route: ImageRoute | None = None
    aspect_ratios: list[str] = field(default_factory=list)
    resolutions: list[str] = field(default_factory=list)
    sizes: list[str] = field(default_factory=list)
    durations: list[int] = field(default_factory=list)
    max_n: int | None = None
    pricing: dict[str, Any] = field(default_factory=dict)
    frame_images: list[str] = field(default_factory=list)
    generate_audio: bool | None = None
    description: str = ""
    context_length: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (kinds sorted), e.g. to store in a table's JSON column."""
        data = asdict(self)
        data["kinds"] = sorted(self.kinds)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CatalogueModel:
        """Rebuild an entry from :meth:`as_dict` output; unknown keys are ignored."""
        known = {name for name in cls.__dataclass_fields__}
        values = {key: value for key, value in data.items() if key in known}
        values["kinds"] = set(values.get("kinds") or ())
        return cls(**values)
