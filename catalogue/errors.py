"""Refusals of the catalogue: a model we cannot offer, a catalogue we cannot take."""

from __future__ import annotations

from core.errors import InvalidInput, ProviderFailed


class UnknownModel(InvalidInput):
    """The model is not in the catalogue, no longer available, not of the wanted kind, or
    not for this person (disabled, or admins-only)."""

    default_message = "Unknown model."

    @classmethod
    def unknown(cls, *, model_id: str, kind: str) -> UnknownModel:
        return cls(
            f'"{model_id}" is not a known {kind} model; choose one from GET /api/models?kind={kind}.',
            field="model",
        )

    @classmethod
    def wrong_kind(cls, *, model_id: str, kind: str, kinds) -> UnknownModel:
        made = ", ".join(sorted(kinds)) or "nothing we can use"
        return cls(
            f'"{model_id}" is not {_article(kind)} {kind} model (it makes: {made}); '
            f"choose one from GET /api/models?kind={kind}.",
            field="model",
        )

    @classmethod
    def disabled(cls, *, model_id: str, kind: str) -> UnknownModel:
        return cls(
            f'"{model_id}" is disabled by an administrator; choose one from GET /api/models?kind={kind}.',
            field="model",
        )

    @classmethod
    def admins_only(cls, *, model_id: str, kind: str) -> UnknownModel:
        return cls(
            f'"{model_id}" is for administrators only; choose one from GET /api/models?kind={kind}.',
            field="model",
        )

    @classmethod
    def group_only(cls, *, model_id: str, kind: str) -> UnknownModel:
        return cls(
            f'"{model_id}" is limited to groups you are not in; choose one from GET /api/models?kind={kind}.',
            field="model",
        )


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


class EmptyCatalogue(ProviderFailed):
    default_message = "The provider returned an empty model catalogue; nothing was changed."
