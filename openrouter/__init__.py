"""The provider boundary: the only code in Studio that speaks HTTP to OpenRouter.

``get_client()`` returns the process's configured :class:`OpenRouterClient`;
typed errors live in :mod:`openrouter.errors`, result dataclasses in
:mod:`openrouter.types`, parameter checks in :mod:`openrouter.validation` and the
offline double in :mod:`openrouter.fake`. Nothing here imports Django models.
"""

from .catalogue import image_route_for
from .client import OpenRouterClient, client_from_settings, get_client
from .errors import (
    ProviderAuthError,
    ProviderBadRequest,
    ProviderError,
    ProviderMalformedResponse,
    ProviderModerationRefused,
    ProviderNotFound,
    ProviderOutOfCredits,
    ProviderRateLimited,
    ProviderTimeout,
    ProviderUnavailable,
)
from .types import (
    CatalogueModel,
    ChatResult,
    GeneratedImage,
    ImageResult,
    StreamEnd,
    StreamPiece,
    Usage,
    VideoJobStatus,
    VideoSubmission,
)
from .validation import ParameterNotAccepted, validate_image_params, validate_video_params

__all__ = [
    "CatalogueModel",
    "ChatResult",
    "GeneratedImage",
    "ImageResult",
    "OpenRouterClient",
    "ParameterNotAccepted",
    "ProviderAuthError",
    "ProviderBadRequest",
    "ProviderError",
    "ProviderMalformedResponse",
    "ProviderModerationRefused",
    "ProviderNotFound",
    "ProviderOutOfCredits",
    "ProviderRateLimited",
    "ProviderTimeout",
    "ProviderUnavailable",
    "StreamEnd",
    "StreamPiece",
    "Usage",
    "VideoJobStatus",
    "VideoSubmission",
    "client_from_settings",
    "get_client",
    "image_route_for",
    "validate_image_params",
    "validate_video_params",
]
