"""Serializer helpers for the requests and answers of the hottest endpoints."""

from __future__ import annotations

import threading

from django.utils.functional import cached_property
from rest_framework import serializers


class FieldsBuiltOnce(serializers.Serializer):
    """A serializer whose fields are built once per thread and class, then lent to each
    instance, instead of deep-copied from the class for every instance as DRF does.

    For a chat completion's body (27 fields and a nested message serializer) the copies
    were most of the 0.6 ms its validation took per request; for a streamed answer's
    last event (a text generation's eight fields) about as much. Only for serializers of
    plain fields that keep no state between uses, used alone (not as a nested field of
    another): validation and representation run to their end without awaiting anything,
    so on one thread no two instances use the fields at once."""

    _built = threading.local()

    @cached_property
    def fields(self):
        kept: dict = self._built.__dict__.setdefault("by_class", {})
        fields = kept.get(type(self))
        if fields is None:
            fields = kept[type(self)] = super().fields
            return fields
        fields.serializer = self
        for field in fields.values():
            field.parent = self  # what field.root and field.context read
        return fields
