"""Log records as one JSON object per line (LOG_FORMAT=json), each with the request id of
the request or task it belongs to; nothing that looks like a secret gets through.

``RequestIdFilter`` (on the handler, so every logger's records pass it) stamps the id from
operations.context; ``JsonFormatter`` writes the record's message and the fields passed as
``extra=``. Both formats pass each line through ``redact()``: bearer tokens, Studio and
provider keys, JWTs and ``password=``-like pairs are replaced, whoever logged them.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime

from operations import context

REDACTED = "[redacted]"
_SECRETS = [
    re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]+"),
    re.compile(r"\bsk-[A-Za-z0-9_-]{8,}"),  # sk-studio-..., sk-or-v1-..., OpenAI-style keys
    re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"),  # a JWT
    re.compile(
        r"(?i)([\"']?\b(?:password|passwd|secret|token|api_key|apikey|access|refresh|authorization)\b[\"']?\s*[:=]\s*)"
        r"(\"[^\"]*\"|'[^']*'|[^\s,&;}]+)"
    ),
]
# Attributes every LogRecord has; anything else on a record came through ``extra=``.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request_id"}
_SECRET_FIELDS = re.compile(r"(?i)password|secret|token|authorization|api_key|apikey|cookie")


def redact(text: str) -> str:
    for pattern in _SECRETS:
        if pattern.groups == 2:
            text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
        else:
            text = pattern.sub(lambda m: (m.group(1) + " " if m.groups() else "") + REDACTED, text)
    return text


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = context.current_request_id()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
            "request_id": getattr(record, "request_id", "") or None,
        }
        for key, value in vars(record).items():
            if key in _STANDARD or key.startswith("_"):
                continue
            if _SECRET_FIELDS.search(key):
                value = REDACTED
            elif isinstance(value, str):
                value = redact(value)
            line[key] = value
        if record.exc_info:
            line["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(line, default=str)


class TextFormatter(logging.Formatter):
    """The plain format, with the request id when there is one, and the same redaction."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        request_id = getattr(record, "request_id", "")
        return redact(f"[{request_id}] {text}" if request_id else text)
