"""Model output as safe HTML: markdown rendered, then sanitized (no scripts, no handlers,
no javascript: links), because model text is untrusted input.

Rendered once, when an answer is saved, never on a read. The parser is markdown-it-py
(CommonMark, plus tables and strikethrough), which works in time linear in its input,
with raw HTML off; nh3 cleans its output all the same. Text past
GENERATION_MARKDOWN_MAX_CHARS is not parsed at all: it is shown escaped, as it came.

The web process renders on threads of its own (:func:`render_markdown_async`), never on
the database-step pool: a long answer takes seconds to render, and those seconds must
not hold up every request's database work. A render that takes longer than
RENDER_SECONDS is not waited for: the answer is saved escaped instead.
"""

from __future__ import annotations

import asyncio
import html as html_lib
import re
import threading
from concurrent.futures import ThreadPoolExecutor

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
# Built once: nh3.clean() builds its sanitizer on every call (about 20 µs, where the
# cleaning of an answer is a few).
_cleaner = nh3.Cleaner(
    tags=_ALLOWED_TAGS,
    attributes=_ALLOWED_ATTRIBUTES,
    url_schemes={"http", "https", "mailto"},
    link_rel="noopener noreferrer nofollow",
)


def render_markdown(text: str) -> str:
    """Markdown -> sanitized HTML fit for ``|safe`` in a template."""
    text = text or ""
    if len(text) > settings.GENERATION_MARKDOWN_MAX_CHARS:
        return escaped(text)
    tokens = _parser.parse(text)
    _as_allowed_markup(tokens)
    html = _parser.renderer.render(tokens, _parser.options, {})
    return _cleaner.clean(html)


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


def escaped(text: str) -> str:
    """The text as it came, escaped: what is shown of an answer not rendered."""
    return f"<pre>{html_lib.escape(text or '')}</pre>"


# How long an answer's render is waited for before it is saved escaped instead.
RENDER_SECONDS = 10.0
RENDER_THREADS = 2
# Answers this short are rendered on the event loop (at most about half a millisecond, a
# code block included): handing them to a thread and back cost more.
INLINE_RENDER_CHARS = 200
_render_threads: ThreadPoolExecutor | None = None
_render_threads_lock = threading.Lock()


def _render_pool() -> ThreadPoolExecutor:
    global _render_threads
    with _render_threads_lock:
        if _render_threads is None:
            _render_threads = ThreadPoolExecutor(max_workers=RENDER_THREADS, thread_name_prefix="markdown")
        return _render_threads


async def render_markdown_async(text: str) -> str:
    """:func:`render_markdown` on the renderers' own threads (a short text at once), waited for at most
    RENDER_SECONDS (past that the text is saved escaped; the render ends on its thread)."""
    if not text:
        return ""
    if len(text) <= INLINE_RENDER_CHARS:
        return render_markdown(text)
    future = asyncio.get_running_loop().run_in_executor(_render_pool(), render_markdown, text)
    try:
        return await asyncio.wait_for(asyncio.shield(future), RENDER_SECONDS)
    except TimeoutError:
        return escaped(text)
