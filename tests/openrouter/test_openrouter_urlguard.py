"""Which provider-returned URLs the clients fetch: the guard's rules, redirects and the
overall download deadline."""

import io
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from openrouter.config import ClientConfig
from openrouter.errors import ProviderMalformedResponse, ProviderTimeout, ProviderUnsafeURL
from openrouter.urlguard import UrlGuard

from .conftest import content_url, fault_headers

PUBLIC = ClientConfig(base_url="https://openrouter.ai/api/v1")


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
        guard.redirect_target("https://cdn.example/a.png", "http://169.254.169.254/latest/meta-data/")
    with pytest.raises(ProviderUnsafeURL, match="internal address"):
        guard.redirect_target("https://cdn.example/a.png", "https://169.254.169.254/latest/meta-data/")
    assert guard.redirect_target("https://cdn.example/a.png", "/b.png") == "https://cdn.example/b.png"


def test_a_local_provider_may_hand_out_local_urls():
    guard = UrlGuard(ClientConfig(base_url="http://127.0.0.1:8765/api/v1"), resolve=resolver({}))
    guard.check("http://127.0.0.1:9999/files/a.png")
    with pytest.raises(ProviderUnsafeURL, match="not https"):
        guard.redirect_target("http://127.0.0.1:9999/a", "http://169.254.169.254/")


def test_unsafe_urls_are_malformed_responses_to_callers():
    assert issubclass(ProviderUnsafeURL, ProviderMalformedResponse)


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
