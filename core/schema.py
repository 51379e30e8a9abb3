"""The OpenAPI schema's shared parts: one tag per product area, picked from the path (the
tags and their descriptions are SPECTACULAR_SETTINGS["TAGS"]), and
the error answers every endpoint can give whether or not its view lists them.

``StudioAutoSchema`` is REST_FRAMEWORK's DEFAULT_SCHEMA_CLASS, so new endpoints get their
tag and their common error answers without touching their ``extend_schema``. The answers
added here are the ones the request cycle produces before or around the handler
(core.http turns them into JSON): a bad or missing token (401), a session without its
CSRF token (403), a throttle (429), an Accept header or ``?format=`` this endpoint cannot
render (406). A view's own description of a code always wins.
"""

from __future__ import annotations

import re

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication

# First match wins; the path is the schema's (e.g. "/api/generations/{id}").
_TAG_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^/api/$"), "api"),
    (re.compile(r"^/api/auth(/|$)"), "auth"),
    (re.compile(r"^/api/users(/|$)"), "users"),
    (re.compile(r"^/api/models(/|$)"), "models"),
    (re.compile(r"^/api/generations(/|$)"), "generations"),
    (re.compile(r"^/api/generate/(text|image)(/|$)"), "generations"),
    (re.compile(r"^/api/generate/videos?(/|$)"), "videos"),
    (re.compile(r"^/api/admin(/|$)"), "admin"),
    (re.compile(r"^/api/keys(/|$)"), "keys"),
    (re.compile(r"^/v1/"), "openai-compatible"),
    # Owner-only files outside /api/ (the API answers link to them).
    (re.compile(r"^/generate/video/"), "videos"),
    (re.compile(r"^/media/generations/"), "generations"),
]


def tag_for_path(path: str) -> str:
    """The tag of an operation at ``path``; an unknown area is tagged by its first segment."""
    for pattern, tag in _TAG_RULES:
        if pattern.search(path):
            return tag
    segments = [part for part in path.split("/") if part and part != "api" and not part.startswith("{")]
    return segments[0] if segments else "api"


ErrorDetailOut = inline_serializer("ErrorDetail", {"detail": serializers.CharField()})

_NOT_SIGNED_IN = "No valid access token or session (a missing, malformed, expired or revoked token)."
_CSRF = "Signed in with a session cookie but without its CSRF token (token clients never see this)."
_THROTTLED = "Too many requests; Retry-After says when to try again."
_NOT_ACCEPTABLE = (
    "The Accept header or the `format` query parameter names a format this endpoint "
    "does not render (JSON is always available)."
)
_REPEATED = "A query parameter given more than once."
_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def _sse_event_schema(*, error: bool) -> dict:
    """One server-sent event: its name and its data (a JSON document); a refusal is a
    single `error` event whose data is {"detail": ...}."""
    event = {"type": "string", "enum": ["error"]} if error else {"type": "string"}
    return {
        "type": "object",
        "required": ["event", "data"] if error else ["data"],
        "properties": {
            "event": event,
            "data": {"type": "string", "description": "a JSON document"},
            "id": {"type": "string"},
        },
    }


class StudioAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema with tags from the path and the shared error answers."""

    def get_tags(self) -> list[str]:
        return [tag_for_path(self.path)]

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        common = {}
        authenticators = self.view.get_authenticators()
        if authenticators:
            common["401"] = _NOT_SIGNED_IN
            if self.method in _UNSAFE and any(isinstance(a, SessionAuthentication) for a in authenticators):
                common["403"] = _CSRF
        if self.view.get_throttles():
            common["429"] = _THROTTLED
        common["406"] = _NOT_ACCEPTABLE
        for code, description in common.items():
            if code not in responses:
                responses[code] = self._get_response_for_code(ErrorDetailOut, code, direction=direction)
                responses[code]["description"] = description
        for code, response in responses.items():
            # An error a view describes in words only still has a body: {"detail": ...}, or
            # for a 400 an object naming each offending field with its messages.
            if code >= "400" and not response.get("content"):
                described = response.get("description")
                body = OpenApiTypes.OBJECT if code == "400" else ErrorDetailOut
                responses[code] = self._get_response_for_code(body, code, direction=direction)
                if described:
                    responses[code]["description"] = described
        if not self.path.startswith("/api/") and "404" in responses:
            # Outside /api/ a path that matches no URL at all gets the site's HTML page.
            responses["404"]["content"]["text/html"] = {"schema": {"type": "string"}}
        for code, response in responses.items():
            if "text/event-stream" in response.get("content", {}):
                # A server-sent event stream: described event by event, not as one JSON body.
                response["content"]["text/event-stream"] = {"schema": _sse_event_schema(error=code >= "400")}
        if self.path.startswith("/api/") and self._query_parameter_names() and "400" not in responses:
            responses["400"] = self._get_response_for_code(ErrorDetailOut, "400", direction=direction)
            responses["400"]["description"] = _REPEATED
        return dict(sorted(responses.items()))

    def _query_parameter_names(self) -> list[str]:
        return [p["name"] for p in self._get_parameters() if p.get("in") == "query"]

    def _get_parameters(self):
        parameters = super()._get_parameters()
        for parameter in parameters:
            if parameter.get("in") == "query" and not parameter.get("required"):
                # Query strings are read by serializers (and the paginator), where an empty
                # optional value counts as absent: "?kind=" lists every kind.
                parameter["allowEmptyValue"] = True
        return parameters
