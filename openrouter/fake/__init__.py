"""An offline OpenRouter double: a real HTTP server speaking the provider's wire formats.

Used by the test suite and by demo mode (``python manage.py run_fake_openrouter``).
Built on the standard library only. Everything under ``/api/v1`` needs an
``Authorization: Bearer <key>`` header (any non-empty key, or exactly ``api_key``
when one is given), like the real API: without it the answer is 401.

Endpoints (prefix ``/api/v1``)
------------------------------
``POST /chat/completions``   text, whole or streamed (SSE, word by word, with
                             ``: OPENROUTER PROCESSING`` keep-alive comments); with
                             ``modalities`` containing ``image``, images as data URLs;
                             ``tools`` (tool calls, streamed as OpenAI's deltas),
                             ``response_format`` (JSON fitting the schema), ``logprobs``,
                             ``reasoning`` (``answers.py``); usage with ``cost`` always
``POST /embeddings``         OpenAI's shape; deterministic unit vectors, ``dimensions``,
                             ``encoding_format`` float or base64 (``embeddings.py``)
``POST /responses``          OpenAI's Responses API, whole or as ``response.*`` events
                             (``responses.py``)
``POST /images``, ``POST /images/generations``
                             image-only models: ``b64_json`` items (FLUX: hosted URLs);
                             ``input_references`` (data URLs) edits the first image
``POST /videos``             202 + job; ``GET /videos/{id}`` polls it;
                             ``GET /videos/{id}/content?index=0`` the MP4 bytes
``GET /models[?output_modalities=...]``, ``GET /images/models``, ``GET /videos/models``,
``GET /key``
``GET /files/{name}``        (no prefix, no key) hosted images handed out as URLs

Images are real PNGs whose pixel size follows the request (chat route: aspect
ratio and image_size, 1K = 1024 px on the long side; images route: ``size``
exactly, else aspect ratio and resolution) and whose colours follow the prompt.
Video jobs go pending -> in_progress -> completed over ``video_duration`` seconds
(times ``time_scale``); the content is a small bundled MP4.

Long streamed answers
---------------------
The model ``fake/long-stream`` streams P pieces (``word1 word2 ...``) spaced S seconds
apart (times ``time_scale``), for load tests of many concurrent streams. P and S
default to the constructor's ``stream_pieces`` and ``stream_interval``, whose own
defaults come from the environment variables ``FAKE_OPENROUTER_STREAM_PIECES`` (100)
and ``FAKE_OPENROUTER_STREAM_INTERVAL`` (0.1 s): a 10 s stream. Per request, the
model suffixes ``:pieces=N`` and ``:interval=S`` (``fake/long-stream:pieces=20:interval=0.5``)
or the headers ``X-Fake-Stream-Pieces`` / ``X-Fake-Stream-Interval`` override them.
Unstreamed, the same model answers the whole text at once.

What the double records
-----------------------
``received``      every request (method, path, headers, body, id), in arrival order
``spans``         one :class:`.server.RequestSpan` per finished request: its id, model and
                  ``started``/``ended`` monotonic times, so tests can see requests overlap
``disconnects``   one :class:`.server.Disconnect` per answer the client abandoned (a write to
                  its connection failed, e.g. a stream closed mid-way): request id,
                  model, path and how many chunks had gone out

The server accepts a backlog of 1024 connections and serves each on its own thread,
so it holds 500+ concurrent streams.

Fault injection
---------------
A fault is chosen per request by the header ``X-Fake-Fault: <name>`` or by the
model name: ``fake/fault-<name>`` (behaves like a permissive model of the
endpoint's kind) or any model with the suffix ``:fault=<name>`` (e.g.
``openai/gpt-4o-mini:fault=rate_limit``). ``<name>*N`` or the header
``X-Fake-Fault-Count: N`` makes the fault hit only the first N identical requests
(same method, path and body), so retries then succeed. Faults:

=================  ==========================================================
``rate_limit``     429 with ``Retry-After`` (``retry_after`` x time_scale
                   seconds; header ``X-Fake-Retry-After`` sets it verbatim, and
                   adds it to the other error faults below too)
``server_error``   500
``bad_gateway``    502
``unavailable``    503
``request_timeout`` 408
``bad_request``    400
``auth``           401 (as for a wrong key)
``out_of_credits`` 402
``moderation``     403 with ``metadata.reasons``
``not_found``      404
``slow``           answers normally after ``slow_seconds`` x time_scale (trips timeouts)
``malformed``      200 whose body is not JSON
``disconnect``     closes the connection without answering
``drop_stream``    sends part of the body, then drops the connection (streams:
                   after the first pieces)
``truncated``      the body ends early but cleanly (streams: no final chunk, no
                   ``[DONE]``; JSON: cut in half, with a matching Content-Length)
``stream_error``   streams: an error event mid-stream; otherwise 200 with only an
                   ``error`` object
``chunked``        the body is sent chunked, without Content-Length
``trickle``        the body is sent chunked in 4 KiB pieces, ``trickle_interval``
                   x time_scale seconds apart (trips download deadlines)
=================  ==========================================================

Per-job faults, chosen the same way on ``POST /videos``: ``fail`` (ends
``failed``), ``never_finish`` (stays ``in_progress``), ``expire`` (ends
``expired``), ``no_urls`` (``completed`` without ``unsigned_urls``).
"""

from .faults import ALL_FAULTS
from .server import FakeOpenRouter

__all__ = ["ALL_FAULTS", "FakeOpenRouter"]
