"""Which provider-returned URLs the clients fetch: the guard's rules, the address they
connect to, redirects and the overall download deadline."""

import asyncio
import io
import shutil
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from openrouter import exchange
from openrouter.aclient import AsyncOpenRouterClient
from openrouter.client import OpenRouterClient
from openrouter.config import ClientConfig
from openrouter.downloads import DownloadMeter, MemoryWriter
from openrouter.errors import ProviderMalformedResponse, ProviderTimeout, ProviderUnsafeURL
from openrouter.fake.media import png_bytes
from openrouter.pools import ProviderHttp
from openrouter.urlguard import UrlGuard

from .conftest import content_url, fault_headers, public_or_loopback

PUBLIC = ClientConfig(base_url="https://openrouter.ai/api/v1")
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch):
    """These tests connect to servers of their own, never through a proxy."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def resolver(table):
    def resolve(host):
        return table[host]

    return resolve


def test_a_loopback_url_is_refused_when_the_provider_is_a_public_host():
    guard = UrlGuard(PUBLIC, resolve=resolver({"cdn.example": ["127.0.0.1"]}))
    with pytest.raises(ProviderUnsafeURL, match="internal address"):
        guard.check("https://cdn.example/video.mp4?sig=secret")
    with pytest.raises(ProviderUnsafeURL):
        guard.check("http://127.0.0.1:8000/x")


def test_every_address_of_a_host_is_checked():
    guard = UrlGuard(PUBLIC, resolve=resolver({"mixed.example": ["93.184.216.34", "10.0.0.5"]}))
    with pytest.raises(ProviderUnsafeURL, match="10.0.0.5"):
        guard.check("https://mixed.example/a.png")


@pytest.mark.parametrize("address", ["169.254.169.254", "192.168.1.1", "::1", "fe80::1", "::ffff:127.0.0.1", "0.0.0.0"])
def test_private_link_local_and_loopback_addresses_are_internal(address):
    guard = UrlGuard(PUBLIC, resolve=resolver({"h.example": [address]}))
    with pytest.raises(ProviderUnsafeURL):
        guard.check("https://h.example/x")


def test_a_public_host_and_the_provider_origin_are_fetched():
    guard = UrlGuard(PUBLIC, resolve=resolver({"cdn.example": ["93.184.216.34"]}))
    guard.check("https://cdn.example/a.png")
    guard.check("https://openrouter.ai/api/v1/videos/x/content?index=0")  # no lookup needed
    assert not guard.needs_lookup("https://openrouter.ai/api/v1/videos/x")


def test_a_redirect_to_plain_http_metadata_is_refused():
    guard = UrlGuard(PUBLIC, resolve=resolver({"cdn.example": ["93.184.216.34"]}))
    with pytest.raises(ProviderUnsafeURL, match="not https"):
        guard.redirect_url("https://cdn.example/a.png", "http://169.254.169.254/latest/meta-data/")
    with pytest.raises(ProviderUnsafeURL, match="internal address"):
        guard.check(guard.redirect_url("https://cdn.example/a.png", "https://169.254.169.254/latest/meta-data/"))
    assert guard.redirect_url("https://cdn.example/a.png", "/b.png") == "https://cdn.example/b.png"


def test_a_local_provider_is_trusted_on_its_own_origin_only():
    guard = UrlGuard(ClientConfig(base_url="http://127.0.0.1:8765/api/v1"), resolve=resolver({}))
    guard.check("http://127.0.0.1:8765/files/a.png")
    with pytest.raises(ProviderUnsafeURL, match="internal address"):
        guard.check("http://127.0.0.1:9999/files/a.png")
    with pytest.raises(ProviderUnsafeURL, match="not https"):
        guard.redirect_url("http://127.0.0.1:9999/a", "http://169.254.169.254/")


SHARED_METADATA_AND_6TO4 = [
    "100.100.100.200",  # a cloud metadata service
    "100.64.0.1",  # shared address space (carrier-grade NAT), 100.64.0.0/10
    "100.127.255.254",
    "2002:a9fe:a9fe::1",  # 6to4 around 169.254.169.254
    "2002:5db8:d822::1",  # 6to4 around a public address: refused whole
]
INTERNAL_IN_IPV6_FORMS = [
    "::ffff:100.100.100.200",  # IPv4-mapped
    "::ffff:10.0.0.1",
    "64:ff9b::6464:64c8",  # NAT64 of 100.100.100.200
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    "64:ff9b:1::a00:1",  # NAT64 local-use prefix
    "::7f00:1",  # IPv4-compatible 127.0.0.1
    "224.0.1.1",  # multicast
    "ff0e::1",
    "2001:db8::1",  # documentation
]


@pytest.mark.parametrize("address", SHARED_METADATA_AND_6TO4 + INTERNAL_IN_IPV6_FORMS)
def test_addresses_that_are_not_globally_routable_are_refused_by_name_and_as_literals(address):
    guard = UrlGuard(PUBLIC, resolve=resolver({"cdn.example": [address]}))
    with pytest.raises(ProviderUnsafeURL, match="internal address"):
        guard.check("https://cdn.example/a.png")
    host = f"[{address}]" if ":" in address else address
    with pytest.raises(ProviderUnsafeURL, match="internal address"):
        guard.check(f"https://{host}/a.png")


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:4700::1", "::ffff:93.184.216.34", "64:ff9b::5db8:d822"])
def test_public_addresses_pass_in_every_form(address):
    guard = UrlGuard(PUBLIC, resolve=resolver({"cdn.example": [address]}))
    target = guard.check("https://cdn.example/a.png")
    assert (target.url, target.address) == ("https://cdn.example/a.png", address)


def test_a_checked_name_is_sent_to_its_address_with_the_name_for_host_and_tls():
    guard = UrlGuard(PUBLIC, resolve=resolver({"cdn.example": ["2606:4700::1", "93.184.216.34"]}))
    request = httpx.Client().build_request("GET", **guard.check("https://cdn.example:8443/a.png?sig=s").request_args())

    assert str(request.url) == "https://[2606:4700::1]:8443/a.png?sig=s"
    assert request.headers["Host"] == "cdn.example:8443" and request.extensions["sni_hostname"] == "cdn.example"
    assert request.headers["Connection"] == "close"


def test_the_provider_origin_and_address_literals_are_sent_as_they_are():
    guard = UrlGuard(PUBLIC, resolve=resolver({}))
    assert guard.check("https://openrouter.ai/api/v1/videos/x").address is None
    assert guard.check("https://93.184.216.34/a.png").address is None


def test_behind_a_proxy_the_addresses_are_checked_and_the_proxy_connects(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    guard = UrlGuard(PUBLIC, resolve=resolver({"cdn.example": ["93.184.216.34"], "meta.example": ["100.100.100.200"]}))
    assert guard.check("https://cdn.example/a.png").address is None
    with pytest.raises(ProviderUnsafeURL, match="internal address"):
        guard.check("https://meta.example/a.png")


def test_a_client_refuses_a_name_that_resolves_to_the_metadata_address(make_client, fake):
    looked_up = []

    def resolve(host):
        looked_up.append(host)
        return ["100.100.100.200"]

    client = make_client(resolve=resolve)
    with pytest.raises(ProviderUnsafeURL, match="100.100.100.200"):
        client.video_download(url="http://metadata.example/latest/meta-data/", dest=io.BytesIO())
    assert looked_up == ["metadata.example"] and not fake.received


def test_unsafe_urls_are_malformed_responses_to_callers():
    assert issubclass(ProviderUnsafeURL, ProviderMalformedResponse)


class _RecordingServer(ThreadingHTTPServer):
    hosts: list[str | None]


class _Recording(BaseHTTPRequestHandler):
    """Answers every GET with a small PNG and records the Host header it was sent."""

    body = png_bytes(8, 8, "pinned")

    def do_GET(self):
        self.server.hosts.append(self.headers.get("Host"))
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


@pytest.fixture
def serve():
    """``serve(tls=None)`` starts a recording server on 127.0.0.1 (TLS with that server
    context) and returns it; its port is ``server.server_address[1]``."""
    servers: list[_RecordingServer] = []

    def start(tls: ssl.SSLContext | None = None) -> _RecordingServer:
        server = _RecordingServer(("127.0.0.1", 0), _Recording)
        server.hosts = []
        if tls is not None:
            server.socket = tls.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def fetch(side: str, url: str, *, trust: ssl.SSLContext | None = None, **options) -> bytes:
    """Download ``url`` with the sync or the async half of the clients' I/O (as video and
    image downloads do), for a provider elsewhere, so the URL is never on its origin."""
    meter = DownloadMeter("image", 1_000_000, 10.0)
    dest = MemoryWriter()
    options = {"base_url": "https://openrouter.ai/api/v1", "api_key": "k", "max_retries": 0, **options}
    if side == "sync":
        client = OpenRouterClient(http=httpx.Client(verify=trust or True), **options)
        try:
            exchange.download(client, url, dest, meter)
        finally:
            client.close()
        return bytes(dest)

    async def run():
        aclient = AsyncOpenRouterClient(http=ProviderHttp(ssl_context=trust), **options)
        try:
            await exchange.adownload(aclient, url, dest, meter)
        finally:
            await aclient.aclose()

    asyncio.run(run())
    return bytes(dest)


@pytest.mark.parametrize("side", ["sync", "async"])
def test_the_address_checked_is_the_one_connected_to_with_no_second_lookup(serve, side):
    """DNS rebinding: the name first resolves to an allowed address, then to the metadata
    address. The download reaches the first (the resolver is asked once, and nobody else
    could resolve ``cdn.test``); the next download is refused at its own look-up."""
    server = serve()
    answers = iter([["127.0.0.1"], ["169.254.169.254"]])
    looked_up = []

    def rebinding(host):
        looked_up.append(host)
        return next(answers)

    url = f"http://cdn.test:{server.server_address[1]}/a.png"
    assert fetch(side, url, resolve=rebinding, allow=public_or_loopback) == _Recording.body
    assert looked_up == ["cdn.test"] and server.hosts == [f"cdn.test:{server.server_address[1]}"]

    with pytest.raises(ProviderUnsafeURL, match="169.254.169.254"):
        fetch(side, url, resolve=rebinding, allow=public_or_loopback)
    assert looked_up == ["cdn.test", "cdn.test"] and len(server.hosts) == 1


@pytest.fixture
def certificate(tmp_path):
    """A self-signed certificate for the name ``cdn.test`` only (no address in it)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        + ["-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=cdn.test"]
        + ["-addext", "subjectAltName=DNS:cdn.test"],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.mark.parametrize("side", ["sync", "async"])
def test_https_to_the_checked_address_keeps_the_name_for_sni_and_the_certificate(serve, certificate, side):
    cert, key = certificate
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert, key)
    names = []
    server_tls.sni_callback = lambda sock, name, context: names.append(name)
    server = serve(server_tls)
    trusting = ssl.create_default_context(cafile=str(cert))

    url = f"https://cdn.test:{server.server_address[1]}/a.png"
    body = fetch(side, url, trust=trusting, resolve=lambda host: ["127.0.0.1"], allow=public_or_loopback)

    # The certificate names cdn.test, not 127.0.0.1: it verified because TLS kept the name.
    assert body == _Recording.body and names == ["cdn.test"]
    assert server.hosts == [f"cdn.test:{server.server_address[1]}"]


def test_clients_built_like_the_apps_refuse_loopback_off_the_provider_origin(fake, serve):
    """Only the tests widen the address rule: a client with the default rule, whose
    provider is the double on 127.0.0.1, refuses another server on 127.0.0.1."""
    server = serve()
    client = OpenRouterClient(base_url=fake.base_url, api_key="k", max_retries=0)
    try:
        with pytest.raises(ProviderUnsafeURL, match="internal address"):
            client.video_download(url=f"http://127.0.0.1:{server.server_address[1]}/v.mp4", dest=io.BytesIO())
        assert client.video_submit(model="google/veo-3.1", prompt="x").id  # its own origin is trusted
    finally:
        client.close()
    assert server.hosts == []


@pytest.fixture
def redirecting_server():
    """A local server whose every answer is a redirect to the metadata address."""

    class Redirect(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(302)
            self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_the_clients_refuse_a_redirect_to_the_metadata_address(make_client, redirecting_server):
    client = make_client()
    with pytest.raises(ProviderUnsafeURL, match="169.254.169.254"):
        client.video_download(url=f"{redirecting_server}/video.mp4", dest=io.BytesIO())


def test_a_trickling_download_stops_at_the_overall_deadline(make_client, fake, fake_clock):
    job = make_client().video_submit(model="google/veo-3.1", prompt="x")
    fake_clock.advance(1.0)
    # 4 KiB every 0.05 s (trickle_interval 0.5 x time_scale 0.1): ~1 s for the sample video
    client = make_client(headers=fault_headers("trickle"), real_time=True, video_download_deadline=0.2)
    dest = io.BytesIO()

    with pytest.raises(ProviderTimeout, match="took longer than 0.2 s"):
        client.video_download(url=content_url(client, job.id), dest=dest)

    assert 0 < len(dest.getvalue()) < 79_000


def test_a_trickling_download_within_the_deadline_completes(make_client, fake, fake_clock):
    from openrouter.fake.media import sample_video_bytes

    job = make_client().video_submit(model="google/veo-3.1", prompt="x")
    fake_clock.advance(1.0)
    fake.trickle_interval = 0.0
    client = make_client(headers=fault_headers("trickle"), real_time=True, video_download_deadline=30)
    dest = io.BytesIO()
    assert client.video_download(url=content_url(client, job.id), dest=dest) == len(sample_video_bytes())
