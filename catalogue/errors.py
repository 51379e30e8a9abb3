"""Refusals of the catalogue: a model we cannot offer, a catalogue we cannot take."""

from __future__ import annotations

from core.errors import InvalidInput, ProviderFailed


class UnknownModel(InvalidInput):
    """The model is not in the catalogue, no longer available, not of the wanted kind, or
    not for this person (disabled, or admins-only).

    ``reason`` says which ("missing" when no model was named), ``model_kind`` the kind
    asked for, ``lead`` the message without its pointer to the list of models, so another
    API (OpenAI's under /v1/) can point at its own list."""

    default_message = "Unknown model."

    def __init__(
        self, message: str | None = None, *, reason: str = "missing", lead: str = "", model_kind: str = "", **kw
    ):
        super().__init__(message, **kw)
        self.reason = reason
        self.lead = lead or self.message
        self.model_kind = model_kind

    @classmethod
    def _refusal(cls, lead: str, *, reason: str, kind: str) -> UnknownModel:
        return cls(
            f"{lead}; choose one from GET /api/models?kind={kind}.",
            field="model",
            reason=reason,
            lead=lead,
            model_kind=kind,
        )

    @classmethod
    def unknown(cls, *, model_id: str, kind: str) -> UnknownModel:
        return cls._refusal(f'"{model_id}" is not a known {kind} model', reason="unknown", kind=kind)

    @classmethod
    def wrong_kind(cls, *, model_id: str, kind: str, kinds) -> UnknownModel:
        made = ", ".join(sorted(kinds)) or "nothing we can use"
        return cls._refusal(
            f'"{model_id}" is not {_article(kind)} {kind} model (it makes: {made})', reason="wrong_kind", kind=kind
        )

    @classmethod
    def disabled(cls, *, model_id: str, kind: str) -> UnknownModel:
        return cls._refusal(f'"{model_id}" is disabled by an administrator', reason="disabled", kind=kind)

    @classmethod
    def admins_only(cls, *, model_id: str, kind: str) -> UnknownModel:
        return cls._refusal(f'"{model_id}" is for administrators only', reason="admins_only", kind=kind)

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
