"""The async client's connections: httpx's interface over aiohttp's connection pool.

Requests are built and answers read through httpx (the sync client, the retry policy,
the URL guard's pinned requests and every typed error stay as they are), but the
sockets are aiohttp's: its HTTP/1.1 parser and per-host pool cost about a fifth of
httpcore's CPU per request (bench/gateway_throughput.py's provider client was a
quarter of a short /v1/ request's time), and it needs no walk over every connection
when one is taken or given back, so hundreds of concurrent streams share one pool.

aiohttp's failures are raised as httpx's, chosen so that ``transport.error_for_exception``
keeps its meaning: only a failure to connect is a ConnectTimeout/ConnectError (safe to
send again); a timeout or a dropped connection after the request went out is a read
error, never retried for a POST.
"""

from __future__ import annotations

import contextlib
import ssl
import urllib.request
from collections.abc import AsyncIterator, Iterator

import aiohttp
import httpx

# Enough connections for hundreds of concurrent streams from one async client.
POOL_LIMITS = httpx.Limits(max_connections=1024, max_keepalive_connections=64)


@contextlib.contextmanager
def httpx_errors(*, sent: bool) -> Iterator[None]:
    """aiohttp's exceptions as httpx's. ``sent``: the request may have reached the server."""
    try:
        yield
    except aiohttp.ConnectionTimeoutError as exc:
        raise httpx.ConnectTimeout(str(exc) or "connect timeout") from exc
    except aiohttp.SocketTimeoutError as exc:
        raise httpx.ReadTimeout(str(exc) or "read timeout") from exc
    except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
        error = httpx.ReadTimeout if sent else httpx.ConnectTimeout
        raise error(str(exc) or "timeout") from exc
    except aiohttp.ClientConnectorError as exc:  # no connection was made
        raise httpx.ConnectError(str(exc)) from exc
    except aiohttp.ClientPayloadError as exc:
        raise httpx.ReadError(str(exc)) from exc
    except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError, aiohttp.ClientResponseError) as exc:
        # The request went out (or may have): what failed is reading its answer.
        raise httpx.RemoteProtocolError(str(exc) or type(exc).__name__) from exc
    except aiohttp.ClientError as exc:
        raise httpx.NetworkError(str(exc) or type(exc).__name__) from exc


class _AnswerStream(httpx.AsyncByteStream):
    """An aiohttp answer's body as httpx reads it: bytes as they arrive (a streamed
    answer's events are not held back to fill a buffer)."""

    def __init__(self, answer: aiohttp.ClientResponse) -> None:
        self._answer = answer

    async def __aiter__(self) -> AsyncIterator[bytes]:
        content = self._answer.content
        with httpx_errors(sent=True):
            try:
                async for chunk in content.iter_any():
                    yield chunk
            except aiohttp.ClientError:
                # When the connection fails, aiohttp raises at once, dropping bytes it had
                # received but not yet handed over (a stream's last pieces): they arrived,
                # so they go first (tests/openrouter/test_openrouter_chat.py pins this).
                unread = _unread(content)
                if unread:
                    yield unread
                raise

    async def aclose(self) -> None:
        if self._answer.content.at_eof():
            self._answer.release()  # read to its end: the connection goes back to the pool
        else:
            self._answer.close()  # cut short: the connection closes, so the provider sees it


def _unread(content: aiohttp.StreamReader) -> bytes:
    """What a StreamReader holds and has not handed over (its buffer is not public)."""
    chunks = list(getattr(content, "_buffer", ()))
    if not chunks:
        return b""
    chunks[0] = chunks[0][getattr(content, "_buffer_offset", 0) :]
    content._buffer.clear()  # read out: not handed over twice
    return b"".join(chunks)


class AiohttpTransport(httpx.AsyncBaseTransport):
    """An httpx transport sending through one aiohttp session (made on first use, on the
    running loop). Honours the per-request timeouts httpx sets and the URL guard's
    ``sni_hostname`` (TLS checks the name while the URL holds the checked address)."""

    def __init__(self, *, limits: httpx.Limits = POOL_LIMITS, verify: ssl.SSLContext | None = None) -> None:
        self._limits = limits
        # One TLS context for the session: building one loads the CA bundle.
        self._tls = verify or httpx.create_ssl_context()
        self._session: aiohttp.ClientSession | None = None

    def _session_now(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=self._limits.max_connections or 0,
                keepalive_timeout=self._limits.keepalive_expiry or 5.0,
                ssl=self._tls,
            )
            # No cookie jar: every request carries only what the client sets.
            self._session = aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar())
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeout = request.extensions.get("timeout", {})
        body = await request.aread()
        with httpx_errors(sent=False):
            answer = await self._session_now().request(
                request.method,
                str(request.url),
                headers=request.headers.multi_items(),
                data=body or None,
                allow_redirects=False,  # the clients follow redirects themselves, through the URL guard
                auto_decompress=False,  # httpx decodes, as it would its own answers
                skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"),
                timeout=aiohttp.ClientTimeout(
                    total=None,
                    connect=timeout.get("pool"),
                    sock_connect=timeout.get("connect"),
                    sock_read=timeout.get("read"),
                ),
                server_hostname=request.extensions.get("sni_hostname"),
            )
        return httpx.Response(
            status_code=answer.status,
            headers=list(answer.raw_headers),
            stream=_AnswerStream(answer),
            request=request,
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": (answer.reason or "").encode()},
        )

    def __del__(self) -> None:
        # Dropped with its event loop, never closed (a test's loop, a process at exit):
        # close the sockets quietly, as httpx's pool would, without aiohttp's warnings
        # about an unclosed session (its ``_close`` is the sync half of ``close()``).
        session = self._session
        if session is None or session.closed:
            return
        connector = session.connector
        session.detach()
        if connector is not None:
            with contextlib.suppress(Exception):
                connector._close(abort_ssl=True)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


class _NoCookies(httpx.Cookies):
    def extract_cookies(self, response: httpx.Response) -> None:
        pass


class CookielessAsyncClient(httpx.AsyncClient):
    """An httpx client that keeps no cookies: the provider authenticates by API key, and
    reading every answer's headers into a cookie jar was a tenth of httpx's share."""

    @property
    def cookies(self) -> httpx.Cookies:
        return _NoCookies()

    @cookies.setter
    def cookies(self, cookies) -> None:
        pass


def async_http_client() -> httpx.AsyncClient:
    """The async client's httpx client: over aiohttp's pool, or, when the environment
    names a proxy (HTTPS_PROXY and the like), httpx's own pool, which is what honours it."""
    if urllib.request.getproxies():
        return CookielessAsyncClient(limits=POOL_LIMITS)
    return CookielessAsyncClient(transport=AiohttpTransport())
