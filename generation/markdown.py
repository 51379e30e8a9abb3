"""Model output as safe HTML: markdown rendered, then sanitized (no scripts, no handlers,
no javascript: links), because model text is untrusted input.

Rendered once, when an answer is saved (generation.records), never on a read. The parser
is markdown-it-py (CommonMark, plus tables and strikethrough), which works in time
linear in its input, with raw HTML off; nh3 cleans its output all the same. Text past
GENERATION_MARKDOWN_MAX_CHARS is not parsed at all: it is shown escaped, as it came.
"""

from __future__ import annotations

import html as html_lib
import re

import nh3
from django.conf import settings
from markdown_it import MarkdownIt

_ALLOWED_TAGS = {
    "p",
    "br",
    "hr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "strong",
    "em",
    "b",
    "i",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "del",
    "sup",
    "sub",
}
_ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}, "ol": {"start"}}
_TEXT_ALIGN = re.compile(r"^text-align:(left|right|center)$")

# Shared by every thread: parsing keeps its state per call, never on the parser.
_parser = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])


def render_markdown(text: str) -> str:
    """Markdown -> sanitized HTML fit for ``|safe`` in a template."""
    text = text or ""
    if len(text) > settings.GENERATION_MARKDOWN_MAX_CHARS:
        return f"<pre>{html_lib.escape(text)}</pre>"
    tokens = _parser.parse(text)
    _as_allowed_markup(tokens)
    html = _parser.renderer.render(tokens, _parser.options, {})
    return nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


def _as_allowed_markup(tokens) -> None:
    """Strikethrough as <del>, table alignment as align="..." (what the sanitizer keeps)
    rather than markdown-it's <s> and style="text-align:..."."""
    for token in tokens:
        if token.type in ("s_open", "s_close"):
            token.tag = "del"
        elif token.type in ("th_open", "td_open"):
            match = _TEXT_ALIGN.match(str(token.attrs.pop("style", "")))
            if match:
                token.attrs["align"] = match.group(1)
        if token.children:
            _as_allowed_markup(token.children)
