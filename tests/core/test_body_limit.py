"""MAX_REQUEST_BODY_BYTES in the served ASGI app (core/bodylimit.py), through uvicorn as
`make run` serves it: an oversized Content-Length is refused before a byte of the body
is read, and a chunked body is cut at the limit with nothing left in the temporary folder."""

from __future__ import annotations

import os
import socket
import tempfile
import threading
import time

import pytest

pytestmark = pytest.mark.django_db(transaction=True)

MB = 1024 * 1024


@pytest.fixture
def spool_dir(tmp_path, monkeypatch):
    """Django spools request bodies to tempfile's folder: here, one the test can watch."""
    folder = tmp_path / "spool"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def spooled_bytes(folder) -> int:
    total = 0
    for entry in os.scandir(folder):
        try:
            total += entry.stat().st_size
        except FileNotFoundError:
            pass
    return total


def connect(server) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    sock.settimeout(10)
    return sock


def read_status(sock) -> tuple[int, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), head + b"\r\n\r\n" + rest


@pytest.mark.parametrize("path", ["/healthz", "/api/auth/login", "/api/generate/image"])
def test_a_huge_content_length_is_refused_before_its_body_is_read(asgi_server, spool_dir, path):
    sock = connect(asgi_server)
    sock.sendall(
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {400 * MB}\r\n\r\n".encode()
    )
    status, raw = read_status(sock)  # not a byte of the body was sent
    sock.close()
    assert status == 413 and b"too large" in raw
    assert spooled_bytes(spool_dir) == 0


def test_a_chunked_body_past_the_limit_is_cut_and_nothing_stays_spooled(asgi_server, spool_dir, settings):
    limit = settings.MAX_REQUEST_BODY_BYTES
    sock = connect(asgi_server)
    sock.sendall(b"POST /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n")
    chunk = b"x" * MB
    framed = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    sent = [0]
    biggest = [0]
    done = threading.Event()

    def send_until_refused():
        try:
            for _ in range(400):  # 400 MB if nobody stops us
                sock.sendall(framed)
                sent[0] += len(chunk)
        except OSError:
            pass  # the server answered and closed the connection
        finally:
            done.set()

    def watch_spool():
        while not done.is_set():
            biggest[0] = max(biggest[0], spooled_bytes(spool_dir))
            time.sleep(0.005)

    threads = [threading.Thread(target=send_until_refused), threading.Thread(target=watch_spool)]
    for thread in threads:
        thread.start()
    status, raw = read_status(sock)
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # the server may have closed the connection first: nothing left to shut down
    sock.close()
    for thread in threads:
        thread.join(timeout=30)

    assert status == 413 and b"too large" in raw
    assert sent[0] < 200 * MB, "the server stopped reading at the limit"
    assert biggest[0] <= limit + MB, "never more than the limit spooled"
    deadline = time.monotonic() + 5
    while spooled_bytes(spool_dir) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert spooled_bytes(spool_dir) == 0, "the cut body's temporary file is gone"


def test_an_image_edit_sized_body_still_reaches_the_app(asgi_server, spool_dir, settings):
    """A data-URL edit of GENERATION_SOURCE_IMAGE_MAX_BYTES fits: anonymous, so Django answers 401."""
    body = (
        b'{"prompt": "x", "model": "m", "source_image_url": "data:image/png;base64,'
        + b"A" * (settings.GENERATION_SOURCE_IMAGE_MAX_BYTES * 4 // 3)
        + b'"}'
    )
    sock = connect(asgi_server)
    sock.sendall(
        f"POST /api/generate/image HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    status, _ = read_status(sock)
    sock.close()
    assert status == 401


def test_django_limits_fit_inside_the_body_limit(settings):
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE <= settings.MAX_REQUEST_BODY_BYTES
    assert settings.FILE_UPLOAD_MAX_MEMORY_SIZE <= settings.MAX_REQUEST_BODY_BYTES
    assert settings.MAX_REQUEST_BODY_BYTES >= settings.GENERATION_SOURCE_IMAGE_MAX_BYTES * 4 // 3
