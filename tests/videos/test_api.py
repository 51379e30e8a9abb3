"""The video API: status codes, bodies, permissions."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from videos.models import VideoJob

S = VideoJob.Status
pytestmark = pytest.mark.django_db

TEXT = {"prompt": "a paper boat on a stream", "model": "google/veo-3.1"}


# ------------------------------------------------------------------ authorization matrix


def endpoints(job):
    return [
        ("post", "/api/generate/video", TEXT, 202),
        ("post", "/api/generate/video/from-image", {**TEXT, "image_url": "https://example.com/a.png"}, 202),
        ("get", f"/api/generate/video/{job.pk}/status", None, 200),
        ("post", f"/api/generate/video/{job.pk}/cancel", None, 200),
        ("get", "/api/generate/videos", None, 200),
    ]


@pytest.mark.parametrize("who", ["anonymous", "owner", "other", "admin"])
def test_authorization_matrix(catalogue, client_for, user, other_user, admin_user, make_job, who, sent_tasks):
    caller = {"anonymous": None, "owner": user, "other": other_user, "admin": admin_user}[who]
    client = client_for(caller)
    for method, url, body, owner_status in endpoints(make_job(user, status=S.PROCESSING)):
        response = getattr(client, method)(url, body, format="json")
        if who == "anonymous":
            expected = 401
        elif who == "owner" or "/video/" not in url or url.endswith(("/video", "/from-image")):
            expected = owner_status  # creating and listing are about the caller's own jobs
        else:
            expected = 404  # someone else's job: never revealed, admins included (they use the console)
        assert response.status_code == expected, (who, method, url, response.content)


def test_listing_shows_only_the_callers_jobs(client_for, user, other_user, make_job):
    mine = make_job(user, status=S.PROCESSING)
    make_job(other_user, status=S.PROCESSING)
    body = client_for(user).get("/api/generate/videos").json()
    assert [item["id"] for item in body["results"]] == [mine.pk]


# ------------------------------------------------------------------ create


def test_create_answers_202_queued_at_once(catalogue, user_api, user, sent_tasks):
    response = user_api.post(
        "/api/generate/video", {**TEXT, "aspect_ratio": "9:16", "resolution": "1080p", "duration": 6}, format="json"
    )
    assert response.status_code == 202
    body = response.json()
    job = VideoJob.objects.get()
    assert body == {
        "id": job.pk,
        "status": "queued",
        "generation_type": "text_to_video",
        "status_url": f"/api/generate/video/{job.pk}/status",
    }
    assert response["Location"] == body["status_url"]
    assert (job.owner, job.aspect_ratio, job.resolution, job.duration) == (user, "9:16", "1080p", 6)


def test_create_from_image_answers_202_image_to_video(catalogue, user_api, user, generated_image, sent_tasks):
    image = generated_image(user)
    response = user_api.post("/api/generate/video/from-image", {**TEXT, "image_id": image.pk}, format="json")
    assert response.status_code == 202
    assert response.json()["generation_type"] == "image_to_video"
    assert VideoJob.objects.get().source_image == image


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"model": "google/veo-3.1"}, "prompt", "required"),
        ({"prompt": "x"}, "model", "required"),
        ({**TEXT, "model": "nobody/nothing"}, "model", "not a known video model"),
        ({**TEXT, "aspect_ratio": "1:1"}, "aspect_ratio", "accepted: 16:9, 9:16"),
        ({**TEXT, "resolution": "8K"}, "resolution", "accepted: 720p, 1080p"),
        ({**TEXT, "duration": 5}, "duration", "accepted: 4, 6, 8"),
        ({**TEXT, "duration": "soon"}, "duration", "valid integer"),
        ({**TEXT, "duration": 0}, "duration", "greater than or equal to 1"),
    ],
)
def test_create_bad_input_is_400_naming_the_field(catalogue, user_api, body, field, words):
    response = user_api.post("/api/generate/video", body, format="json")
    assert response.status_code == 400, response.content
    assert words in " ".join(response.json()[field])
    assert not VideoJob.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**TEXT}, "image_url"),
        ({**TEXT, "image_url": "http://example.com/a.png"}, "image_url"),
        ({**TEXT, "image_url": "data:image/png;base64,AAAA"}, "image_url"),
        ({**TEXT, "image_id": 999999}, "image_id"),
        ({**TEXT, "image_id": "abc"}, "image_id"),
        ({**TEXT, "model": "openai/sora-2", "image_url": "https://example.com/a.png"}, "model"),
    ],
)
def test_create_from_image_bad_input_is_400_naming_the_field(catalogue, user_api, body, field):
    response = user_api.post("/api/generate/video/from-image", body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()


def png_claiming(width: int, height: int) -> bytes:
    """A tiny real PNG whose IHDR says it is ``width`` x ``height`` pixels (CRC fixed)."""
    import io
    import struct
    import zlib

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (1, 1)).save(buffer, format="PNG")
    png = bytearray(buffer.getvalue())
    assert png[12:16] == b"IHDR"
    png[16:24] = struct.pack(">II", width, height)
    png[29:33] = struct.pack(">I", zlib.crc32(bytes(png[12:29])))
    return bytes(png)


@pytest.mark.parametrize("pixels", [(30000, 30000), (8000, 8000)])
def test_create_from_image_refuses_a_decompression_bomb_with_400_on_image_url(
    catalogue, user_api, stored_files, pixels
):
    # 30000x30000 trips Pillow's own bomb check; 8000x8000 (64 MP) only our 50 MP cap.
    import base64

    url = "data:image/png;base64," + base64.b64encode(png_claiming(*pixels)).decode()
    response = user_api.post("/api/generate/video/from-image", {**TEXT, "image_url": url}, format="json")
    assert response.status_code == 400, response.content
    assert "too large" in " ".join(response.json()["image_url"])
    assert not VideoJob.objects.exists() and stored_files() == []


def test_create_from_image_refuses_someone_elses_image(catalogue, user_api, other_user, generated_image):
    image = generated_image(other_user)
    response = user_api.post("/api/generate/video/from-image", {**TEXT, "image_id": image.pk}, format="json")
    assert response.status_code == 400
    assert response.json() == {"image_id": ["You have no image with this id."]}


def test_jobs_beyond_the_in_flight_cap_are_429_with_a_message(catalogue, user_api, settings, sent_tasks):
    settings.VIDEO_MAX_JOBS_IN_FLIGHT = 1
    assert user_api.post("/api/generate/video", TEXT, format="json").status_code == 202
    response = user_api.post("/api/generate/video", TEXT, format="json")
    assert response.status_code == 429
    assert "1 video job in progress" in response.json()["detail"]
    assert int(response["Retry-After"]) > 0


# ------------------------------------------------------------------ status


def test_status_of_a_running_job(user_api, user, make_job):
    job = make_job(user, status=S.PROCESSING, progress=40)
    body = user_api.get(f"/api/generate/video/{job.pk}/status").json()
    assert set(body) == {"id", "status", "progress", "video_url", "error", "created_at", "updated_at"}
    assert (body["id"], body["status"], body["progress"], body["video_url"], body["error"]) == (
        job.pk,
        "processing",
        40,
        None,
        None,
    )


def test_status_of_a_completed_job_gives_our_own_video_url(user_api, user, make_job):
    job = make_job(user, status=S.COMPLETED, video_file="videos/1/x.mp4", progress=100)
    body = user_api.get(f"/api/generate/video/{job.pk}/status").json()
    assert body["status"] == "completed" and body["video_url"] == f"/generate/video/{job.pk}/file"


def test_status_of_a_failed_job_says_why(user_api, user, make_job):
    job = make_job(
        user,
        status=S.FAILED,
        error="The AI provider could not generate this video.",
        error_detail="secret provider details",
    )
    body = user_api.get(f"/api/generate/video/{job.pk}/status").json()
    assert body["error"] == "The AI provider could not generate this video."
    assert "secret" not in str(body)


def test_status_is_one_indexed_query(user_api, user, make_job):
    job = make_job(user, status=S.PROCESSING)
    with CaptureQueriesContext(connection) as queries:
        assert user_api.get(f"/api/generate/video/{job.pk}/status").status_code == 200
    # force_authenticate skips the token's user lookup, which real requests add (one more).
    assert len(queries) == 1, [q["sql"] for q in queries]
    assert '"id" = ' in queries[0]["sql"] and '"owner_id" = ' in queries[0]["sql"]


def test_status_with_a_real_token_is_two_queries(catalogue, user, make_job):
    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import AccessToken

    job = make_job(user, status=S.PROCESSING)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"/api/generate/video/{job.pk}/status").status_code == 200
    assert len(queries) <= 2, [q["sql"] for q in queries]


def test_status_of_an_unknown_job_is_404(user_api):
    assert user_api.get("/api/generate/video/999999/status").status_code == 404


# ------------------------------------------------------------------ cancel


def test_cancel_answers_200_cancelled(user_api, user, make_job):
    job = make_job(user, status=S.QUEUED)
    response = user_api.post(f"/api/generate/video/{job.pk}/cancel")
    assert response.status_code == 200
    assert response.json()["id"] == job.pk and response.json()["status"] == "cancelled"
    job.refresh_from_db()
    assert job.status == S.CANCELLED and job.cancelled_at and job.in_flight_slot is None


@pytest.mark.parametrize("status", [S.COMPLETED, S.FAILED, S.CANCELLED])
def test_cancel_of_a_finished_job_is_409(user_api, user, make_job, status):
    job = make_job(user, status=status)
    response = user_api.post(f"/api/generate/video/{job.pk}/cancel")
    assert response.status_code == 409
    assert "cannot be cancelled" in response.json()["detail"]
    job.refresh_from_db()
    assert job.status == status


def test_cancel_of_an_unknown_job_is_404(user_api):
    assert user_api.post("/api/generate/video/999999/cancel").status_code == 404


def test_session_callers_need_the_csrf_token_to_cancel(user, make_job):
    from django.test import Client

    job = make_job(user, status=S.PROCESSING)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.post(f"/api/generate/video/{job.pk}/cancel").status_code == 403
    job.refresh_from_db()
    assert job.status == S.PROCESSING


# ------------------------------------------------------------------ list


def test_list_filters_by_status_and_pages(user_api, user, make_job):
    for _ in range(3):
        make_job(user, status=S.FAILED)
    running = make_job(user, status=S.PROCESSING)
    body = user_api.get("/api/generate/videos", {"status": "processing"}).json()
    assert body["count"] == 1 and body["results"][0]["id"] == running.pk
    assert body["results"][0]["status"] == "processing"
    everything = user_api.get("/api/generate/videos").json()
    assert everything["count"] == 4 and everything["results"][0]["id"] == running.pk  # newest first
    assert user_api.get("/api/generate/videos", {"status": "", "page": 1}).json()["count"] == 4


def test_list_pages_are_twenty(user_api, user, make_job):
    for _ in range(21):
        make_job(user, status=S.FAILED)
    first = user_api.get("/api/generate/videos").json()
    assert len(first["results"]) == 20 and first["next"]
    assert len(user_api.get("/api/generate/videos", {"page": 2}).json()["results"]) == 1
    assert user_api.get("/api/generate/videos", {"page": 9}).status_code == 404


def test_list_with_an_unknown_status_is_400(user_api):
    response = user_api.get("/api/generate/videos", {"status": "exploded"})
    assert response.status_code == 400 and "status" in response.json()


def test_the_schema_documents_the_video_endpoints(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    paths = schema["paths"]
    assert set(paths["/api/generate/video/{id}/cancel"]["post"]["responses"]) >= {"200", "404", "409"}
    assert set(paths["/api/generate/video"]["post"]["responses"]) >= {"202", "400", "429"}
    assert "/api/generate/videos" in paths and "/api/generate/video/from-image" in paths
