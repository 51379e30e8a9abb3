"""The async client's connections: one aiohttp session, spoken to directly.

aiohttp's HTTP/1.1 parser (in C) and per-host pool cost about a fifth of httpcore's CPU
per request, and need no walk over every connection when one is taken or given back, so
hundreds of concurrent streams share one pool. The requests go out as aiohttp's own:
building an httpx request and response around each exchange was a tenth of the web
process's CPU while 500 streams opened (docs/PERFORMANCE.md, sixth round). The sync
client (the worker's) stays on httpx.

An answer (:class:`Answer`) offers what the clients' I/O reads of httpx's responses
(``status_code``, ``reason_phrase``, ``headers``, ``content``, ``aread``, ``aiter_bytes``,
``aclose``), so the decisions of :mod:`.transport` serve both clients. aiohttp's failures
are raised as httpx's, chosen so that ``transport.error_for_exception`` keeps its
meaning: only a failure to connect is a ConnectTimeout/ConnectError (safe to send
again); a timeout or a dropped connection after the request went out is a read error,
never retried for a POST.
"""

from __future__ import annotations

import contextlib
import json
import ssl
import urllib.request
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

import aiohttp
import httpx
from multidict import CIMultiDictProxy

from .config import ClientConfig

# Enough connections for hundreds of concurrent streams from one async client.
MAX_CONNECTIONS = 1024
KEEPALIVE_SECONDS = 5.0


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


def request_timeout(config: ClientConfig) -> aiohttp.ClientTimeout:
    """Connect timeout, and the read timeout for every wait on the provider's bytes
    (made once per client: aiohttp's timeout objects are not free to build)."""
    return aiohttp.ClientTimeout(
        total=None, connect=config.connect_timeout, sock_connect=config.connect_timeout, sock_read=config.read_timeout
    )


def json_bytes(body: Mapping[str, Any]) -> bytes:
    """A request body as JSON, as httpx's ``json=`` writes it."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


class Answer:
    """An answer's status and headers, and its body read whole (``aread``, then
    ``content``) or as it arrives (``aiter_bytes``). ``aclose`` gives a connection read
    to its end back to the pool and closes one cut short, so the provider sees it."""

    def __init__(self, answer: aiohttp.ClientResponse) -> None:
        self._answer = answer
        self.status_code = answer.status
        self.reason_phrase = answer.reason or ""
        self.headers: CIMultiDictProxy[str] = answer.headers
        self._content: bytes | None = None

    @property
    def content(self) -> bytes:
        if self._content is None:
            raise httpx.ResponseNotRead()
        return self._content

    async def aread(self) -> bytes:
        if self._content is None:
            self._content = b"".join([chunk async for chunk in self.aiter_bytes()])
        return self._content

    async def aiter_bytes(self) -> AsyncIterator[bytes]:
        """Bytes as they arrive (a streamed answer's events are not held back to fill a
        buffer)."""
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


class ProviderHttp:
    """One aiohttp session (made on first use, on the running loop) for one async client.

    ``headers`` go on every request (the tests' faults for the double); ``ssl_context``
    replaces the system's CA bundle (a test's own certificate authority)."""

    def __init__(self, *, headers: Mapping[str, str] | None = None, ssl_context: ssl.SSLContext | None = None) -> None:
        self._headers = dict(headers or {})
        # One TLS context for the session: building one loads the CA bundle.
        self._tls = ssl_context or httpx.create_ssl_context()
        self._session: aiohttp.ClientSession | None = None
        self.is_closed = False

    def _session_now(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=MAX_CONNECTIONS, keepalive_timeout=KEEPALIVE_SECONDS, ssl=self._tls)
            self._session = aiohttp.ClientSession(
                connector=connector,
                cookie_jar=aiohttp.DummyCookieJar(),  # every request carries only what the client sets
                headers=self._headers,
                # A proxy named in the environment (HTTPS_PROXY and the like) is honoured;
                # only then does the session look, as it reads the proxy settings and
                # ~/.netrc again, in threads, for every request.
                trust_env=bool(urllib.request.getproxies()),
            )
        return self._session

    async def send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        body: bytes | None,
        params: Mapping[str, Any] | None,
        timeout: aiohttp.ClientTimeout,
        sni_hostname: str | None,
    ) -> Answer:
        """Send one request, its body whole; return the answer with its headers read
        (the clients follow redirects themselves, through the URL guard)."""
        with httpx_errors(sent=False):
            answer = await self._session_now().request(
                method,
                url,
                headers=headers,
                params=params,
                data=body,
                allow_redirects=False,
                timeout=timeout,
                server_hostname=sni_hostname,
            )
        return Answer(answer)

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
        self.is_closed = True
        if self._session is not None:
            await self._session.close()
            self._session = None
