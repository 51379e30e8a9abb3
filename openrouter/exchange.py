"""The clients' I/O, each step a sync/async pair side by side (as Django's ``contrib.auth``
keeps ``authenticate`` and ``aauthenticate``), so a change to one half shows in the same
diff as the other.

These functions only send, read, sleep and close. What they decide comes from the
non-I/O modules, shared by both halves: what a request carries from
``ClientCore._request_parts``, retries from :class:`transport.RetryPolicy`, redirects
from :func:`transport.redirect` and the URL guard, typed errors from :mod:`transport`,
download limits from :class:`downloads.DownloadMeter`.
"""

from __future__ import annotations

import asyncio
import functools
from typing import TYPE_CHECKING, Any

import httpx

from . import observe, pools, transport
from .downloads import DownloadMeter
from .errors import ProviderError
from .urlguard import Target, UrlGuard

if TYPE_CHECKING:
    from .aclient import AsyncOpenRouterClient
    from .client import OpenRouterClient


# ----------------------------------------------------------- one request


def send(
    client: OpenRouterClient,
    method: str,
    path_or_url: str,
    *,
    json_body: dict | None = None,
    params: dict | None = None,
    stream: bool = False,
) -> httpx.Response:
    """Send one request under the retry policy; return a 2xx response (its body read
    unless ``stream``: then the caller closes it) or raise the typed error."""
    tries = client.retry_policy.start()
    while True:
        try:
            # Every attempt is seen from outside (a log line, the metrics): observe.
            url = client._url(path_or_url)
            return observe.exchange(functools.partial(_exchange, client), method, url, json_body, params, stream)
        except ProviderError as error:
            delay = tries.wait_after(error)
        client._sleep(delay)


async def asend(
    client: AsyncOpenRouterClient,
    method: str,
    path_or_url: str,
    *,
    json_body: dict | None = None,
    params: dict | None = None,
    stream: bool = False,
) -> pools.Answer:
    """:func:`send` for the async client."""
    tries = client.retry_policy.start()
    while True:
        try:
            url = client._url(path_or_url)
            return await observe.aexchange(
                functools.partial(_aexchange, client), method, url, json_body, params, stream
            )
        except ProviderError as error:
            delay = tries.wait_after(error)
        await client._sleep(delay)


# ------------------------------------------------------------ one attempt


def _exchange(
    client: OpenRouterClient, method: str, url: str, json_body: dict | None, params: dict | None, stream: bool
) -> httpx.Response:
    """One attempt: each hop of a redirect chain checked by the URL guard and sent to the
    address it checked; errors typed."""
    for _hop in range(transport.MAX_REDIRECTS + 1):
        request = client._build_request(method, client.guard.check(url), json_body, params)
        try:
            response = client.http.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise transport.error_for_exception(exc, method) from exc
        hop = transport.redirect(response, method, json_body)
        if hop is None:
            return _finish(response, method, stream)
        response.close()
        url = client.guard.redirect_url(url, hop.location)
        method, json_body, params = hop.method, hop.json_body, None
    raise transport.too_many_redirects(url)


async def _aexchange(
    client: AsyncOpenRouterClient, method: str, url: str, json_body: dict | None, params: dict | None, stream: bool
) -> pools.Answer:
    """:func:`_exchange` for the async client; host look-ups run in a thread."""
    for _hop in range(transport.MAX_REDIRECTS + 1):
        try:
            response = await client._send(method, await _acheck(client.guard, url), json_body, params)
        except httpx.HTTPError as exc:
            raise transport.error_for_exception(exc, method) from exc
        hop = transport.redirect(response, method, json_body)
        if hop is None:
            return await _afinish(response, method, stream)
        await response.aclose()
        url = client.guard.redirect_url(url, hop.location)
        method, json_body, params = hop.method, hop.json_body, None
    raise transport.too_many_redirects(url)


async def _acheck(guard: UrlGuard, url: str) -> Target:
    if guard.needs_lookup(url):
        return await asyncio.to_thread(guard.check, url)  # DNS look-ups block
    return guard.check(url)


def _finish(response: httpx.Response, method: str, stream: bool) -> httpx.Response:
    """A final answer: an error status raised as its typed error, else the body read
    unless ``stream``."""
    try:
        if response.status_code >= 400:
            raise transport.error_from_response(
                response.status_code, response.reason_phrase, response.headers, _read_quietly(response)
            )
        if not stream:
            response.read()
    except httpx.HTTPError as exc:
        raise transport.error_for_exception(exc, method) from exc
    finally:
        if not stream or response.status_code >= 400:
            response.close()
    return response


async def _afinish(response: pools.Answer, method: str, stream: bool) -> pools.Answer:
    """:func:`_finish` for the async client."""
    try:
        if response.status_code >= 400:
            raise transport.error_from_response(
                response.status_code, response.reason_phrase, response.headers, await _aread_quietly(response)
            )
        if not stream:
            await response.aread()
    except httpx.HTTPError as exc:
        raise transport.error_for_exception(exc, method) from exc
    finally:
        if not stream or response.status_code >= 400:
            await response.aclose()
    return response


def _read_quietly(response: httpx.Response) -> bytes:
    """An error answer's body, or nothing when the connection fails while reading it."""
    try:
        return response.read()
    except httpx.HTTPError:
        return b""


async def _aread_quietly(response: pools.Answer) -> bytes:
    try:
        return await response.aread()
    except httpx.HTTPError:
        return b""


# -------------------------------------------------------------- downloads


def download(client: OpenRouterClient, url: str, dest: Any, meter: DownloadMeter) -> str:
    """GET ``url`` (retried like any request), stream its body into ``dest`` within the
    meter's size cap and deadline (checked on every read); return its media type."""
    response = send(client, "GET", url, stream=True)
    try:
        meter.check_headers(response.headers)
        for chunk in response.iter_bytes():
            meter.add(chunk)
            dest.write(chunk)
        return transport.media_type(response)
    except httpx.HTTPError as exc:
        raise transport.stream_error_for_exception(exc, meter.what) from exc
    finally:
        response.close()


async def adownload(client: AsyncOpenRouterClient, url: str, dest: Any, meter: DownloadMeter) -> str:
    """:func:`download` for the async client; the deadline is also a hard timeout here,
    so a server that stops sending cannot hold the request past it."""
    try:
        async with asyncio.timeout(meter.remaining):
            response = await asend(client, "GET", url, stream=True)
            try:
                meter.check_headers(response.headers)
                async for chunk in response.aiter_bytes():
                    meter.add(chunk)
                    dest.write(chunk)
                return transport.media_type(response)
            finally:
                await response.aclose()
    except TimeoutError as exc:
        raise meter.too_slow() from exc
    except httpx.HTTPError as exc:
        raise transport.stream_error_for_exception(exc, meter.what) from exc
