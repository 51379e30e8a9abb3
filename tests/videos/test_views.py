"""The web pages: the form, the job page, the gallery, cancel without JavaScript, and the
owner-only video file."""

import datetime
import json
import re

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from videos.models import VideoJob

S = VideoJob.Status
pytestmark = pytest.mark.django_db


@pytest.fixture
def web(client, user):
    client.force_login(user)
    return client


def test_pages_need_a_sign_in(client, user, make_job):
    job = make_job(user, status=S.COMPLETED, video_file="videos/z.mp4")
    for url in ("/generate/video", f"/generate/video/{job.pk}", "/gallery"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response["Location"], url
    assert client.post(f"/generate/video/{job.pk}/cancel").status_code == 302
    assert client.get(f"/generate/video/{job.pk}/file").status_code == 401


def test_the_form_offers_video_models_with_what_each_accepts(catalogue, web, user, generated_image):
    image = generated_image(user)
    response = web.get("/generate/video")
    assert response.status_code == 200
    html = response.content.decode()
    carried = html.split('<script id="video-models" type="application/json">', 1)[1].split("</script>", 1)[0]
    models = {m["id"]: m for m in json.loads(carried)}
    assert set(models) == {"google/veo-3.1", "openai/sora-2"}
    assert models["google/veo-3.1"]["durations"] == [4, 6, 8] and models["google/veo-3.1"]["from_image"] is True
    assert models["openai/sora-2"]["from_image"] is False
    assert 'id="video-models"' in html and 'value="image_to_video"' in html
    assert f'value="{image.pk}"' in html and image.url in html, "the user's own images to start from"


def test_submitting_the_form_shows_the_job_page_at_once(catalogue, web, user, sent_tasks):
    response = web.post(
        "/generate/video",
        {
            "generation_type": "text_to_video",
            "model": "google/veo-3.1",
            "prompt": "a kite over the sea",
            "duration": "4",
        },
    )
    job = VideoJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/generate/video/{job.pk}"
    assert job.duration == 4 and job.owner == user
    page = web.get(response["Location"])
    assert page.status_code == 200
    assert b'data-testid="job-status"' in page.content and b"queued" in page.content
    assert b"Cancel job" in page.content


def test_image_to_video_from_the_form_with_one_of_my_images(catalogue, web, user, generated_image, sent_tasks):
    image = generated_image(user)
    response = web.post(
        "/generate/video",
        {
            "generation_type": "image_to_video",
            "model": "google/veo-3.1",
            "prompt": "make it move",
            "image_id": str(image.pk),
        },
    )
    assert response.status_code == 302
    job = VideoJob.objects.get()
    assert job.generation_type == "image_to_video" and job.source_image == image


def test_text_tab_ignores_the_image_fields(catalogue, web, sent_tasks):
    web.post(
        "/generate/video",
        {
            "generation_type": "text_to_video",
            "model": "openai/sora-2",
            "prompt": "x",
            "image_url": "http://not-https.example.com",
        },
    )
    assert VideoJob.objects.get().generation_type == "text_to_video"


def test_form_errors_are_shown_on_the_form(catalogue, web):
    response = web.post(
        "/generate/video",
        {"generation_type": "text_to_video", "model": "google/veo-3.1", "prompt": "x", "aspect_ratio": "1:1"},
    )
    assert response.status_code == 400
    assert "accepted: 16:9, 9:16" in response.content.decode()
    assert not VideoJob.objects.exists()


def test_the_cap_is_explained_on_the_form(catalogue, web, user, make_job, settings):
    settings.VIDEO_MAX_JOBS_IN_FLIGHT = 1
    make_job(user, status=S.PROCESSING)
    response = web.post(
        "/generate/video", {"generation_type": "text_to_video", "model": "google/veo-3.1", "prompt": "one more"}
    )
    assert response.status_code == 429
    assert "1 video job in progress" in response.content.decode()


def test_job_page_of_someone_else_is_404(web, other_user, make_job):
    job = make_job(other_user, status=S.PROCESSING)
    assert web.get(f"/generate/video/{job.pk}").status_code == 404
    assert web.post(f"/generate/video/{job.pk}/cancel").status_code == 404
    job.refresh_from_db()
    assert job.status == S.PROCESSING


def test_job_page_shows_the_video_when_completed_and_the_error_when_failed(web, user, make_job):
    done = make_job(user, status=S.COMPLETED, video_file="videos/x.mp4")
    html = web.get(f"/generate/video/{done.pk}").content.decode()
    assert f'<video controls preload="metadata" playsinline src="/generate/video/{done.pk}/file"' in html
    failed = make_job(user, status=S.FAILED, error="The AI provider could not generate this video.")
    html = web.get(f"/generate/video/{failed.pk}").content.decode()
    assert "The AI provider could not generate this video." in html and "<video" not in html


def test_cancel_without_javascript_cancels_and_returns(web, user, make_job):
    job = make_job(user, status=S.PROCESSING)
    response = web.post(f"/generate/video/{job.pk}/cancel", {"next": "/gallery"}, follow=True)
    assert response.redirect_chain[-1][0] == "/gallery"
    assert "Job cancelled" in response.content.decode()
    job.refresh_from_db()
    assert job.status == S.CANCELLED


def test_cancel_without_javascript_never_redirects_elsewhere(web, user, make_job):
    job = make_job(user, status=S.COMPLETED)
    response = web.post(f"/generate/video/{job.pk}/cancel", {"next": "https://evil.example.com/"})
    assert response["Location"] == f"/generate/video/{job.pk}"


def test_gallery_shows_my_images_and_videos_not_others(web, user, other_user, make_job, generated_image):
    pending = make_job(user, status=S.PROCESSING)
    done = make_job(user, status=S.COMPLETED, video_file="videos/y.mp4")
    image = generated_image(user)
    theirs = make_job(other_user, status=S.PROCESSING)
    html = web.get("/gallery").content.decode()
    assert html.count('data-testid="video-card"') == 2 and html.count('data-testid="image-card"') == 1
    assert f'data-job-id="{pending.pk}"' in html and f'data-job-id="{theirs.pk}"' not in html
    assert f'src="/generate/video/{done.pk}/file"' in html and image.url in html
    assert html.count("Cancel job") >= 1


def test_gallery_filters_by_kind(web, user, make_job, generated_image):
    make_job(user, status=S.PROCESSING)
    generated_image(user)
    images = web.get("/gallery?kind=image").content.decode()
    assert images.count('data-testid="image-card"') == 1 and 'data-testid="video-card"' not in images
    videos = web.get("/gallery?kind=video").content.decode()
    assert videos.count('data-testid="video-card"') == 1 and 'data-testid="image-card"' not in videos
    everything = web.get("/gallery?kind=nonsense").content.decode()
    assert 'data-testid="video-card"' in everything and 'data-testid="image-card"' in everything


@pytest.fixture
def stored_video(make_job, user):
    name = default_storage.save("videos/test.mp4", ContentFile(b"\x00\x00\x00\x18ftypmp42fake"))
    return make_job(user, status=S.COMPLETED, video_file=name)


def test_video_file_is_served_to_its_owner(web, stored_video):
    response = web.get(f"/generate/video/{stored_video.pk}/file")
    assert response.status_code == 200 and response["Content-Type"] == "video/mp4"
    assert b"".join(response.streaming_content).startswith(b"\x00\x00\x00\x18ftyp")
    assert "private" in response["Cache-Control"]


def test_video_file_is_served_to_an_api_client_with_a_token(stored_video, user):
    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import AccessToken

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    assert client.get(f"/generate/video/{stored_video.pk}/file").status_code == 200


def test_video_file_is_served_to_admins(client, admin_user, stored_video):
    client.force_login(admin_user)
    assert client.get(f"/generate/video/{stored_video.pk}/file").status_code == 200


def test_video_file_is_404_for_anyone_else(client, other_user, stored_video):
    client.force_login(other_user)
    assert client.get(f"/generate/video/{stored_video.pk}/file").status_code == 404


def test_video_file_is_404_until_completed_or_when_missing(web, user, make_job):
    assert web.get(f"/generate/video/{make_job(user, status=S.PROCESSING).pk}/file").status_code == 404
    gone = make_job(user, status=S.COMPLETED, video_file="videos/not-there.mp4")
    assert web.get(f"/generate/video/{gone.pk}/file").status_code == 404


def test_nav_links_to_the_video_pages(web):
    html = web.get("/gallery").content.decode()
    assert 'href="/generate/video"' in html and 'href="/gallery"' in html


def test_dashboard_lists_my_recent_videos(web, user, other_user, make_job):
    mine = make_job(user, status=S.PROCESSING, prompt="my sunrise timelapse")
    make_job(other_user, status=S.PROCESSING, prompt="someone else's video")
    html = web.get("/").content.decode()
    assert 'data-testid="dashboard-videos"' in html
    assert "my sunrise timelapse" in html and f'href="/generate/video/{mine.pk}"' in html
    assert "someone else" not in html


def test_video_file_answers_byte_ranges_so_players_can_seek(web, stored_video):
    url = f"/generate/video/{stored_video.pk}/file"
    whole = b"\x00\x00\x00\x18ftypmp42fake"
    full = web.get(url)
    assert full["Accept-Ranges"] == "bytes"
    cases = {
        "bytes=0-": (0, len(whole) - 1),
        "bytes=4-7": (4, 7),
        "bytes=-4": (len(whole) - 4, len(whole) - 1),
        "bytes=10-1000": (10, len(whole) - 1),
    }
    for header, (first, last) in cases.items():
        response = web.get(url, HTTP_RANGE=header)
        assert response.status_code == 206, header
        assert response["Content-Range"] == f"bytes {first}-{last}/{len(whole)}"
        body = b"".join(response.streaming_content)
        assert body == whole[first : last + 1] and response["Content-Length"] == str(len(body))
        assert response["Content-Type"] == "video/mp4" and "private" in response["Cache-Control"]


def test_video_file_range_past_the_end_is_416_and_odd_ranges_get_everything(web, stored_video):
    url = f"/generate/video/{stored_video.pk}/file"
    size = len(b"\x00\x00\x00\x18ftypmp42fake")
    past = web.get(url, HTTP_RANGE=f"bytes={size}-")
    assert past.status_code == 416 and past["Content-Range"] == f"bytes */{size}"
    for header in ("bytes=0-1,4-5", "items=0-3", "bytes=5-2", "nonsense"):
        response = web.get(url, HTTP_RANGE=header)
        assert response.status_code == 200, header
        assert len(b"".join(response.streaming_content)) == size


def test_another_users_video_is_404_even_with_a_range(client, other_user, stored_video):
    client.force_login(other_user)
    assert client.get(f"/generate/video/{stored_video.pk}/file", HTTP_RANGE="bytes=0-").status_code == 404


def test_gallery_pages_through_older_items_newest_first(web, user, make_job, generated_image, settings):
    settings.GALLERY_PAGE_SIZE = 3
    jobs = [make_job(user, status=S.PROCESSING) for _ in range(4)]
    images = [generated_image(user) for _ in range(3)]
    now = timezone.now()
    # A known timeline: job 0 oldest ... image 2 newest, kinds interleaved.
    timeline = [jobs[0], images[0], jobs[1], images[1], jobs[2], images[2], jobs[3]]
    for age, item in enumerate(reversed(timeline)):
        moment = now - datetime.timedelta(minutes=age)
        if isinstance(item, type(jobs[0])):
            type(item).objects.filter(pk=item.pk).update(created_at=moment)
        else:
            type(item.generation).objects.filter(pk=item.generation_id).update(created_at=moment)

    def shown(page):
        html = web.get(f"/gallery?page={page}").content.decode()
        return [int(n) for n in dict.fromkeys(re.findall(r'data-job-id="(\d+)"', html))], html

    first, html = shown(1)
    assert first == [jobs[3].pk, jobs[2].pk] and html.count('data-testid="image-card"') == 1
    assert 'href="?page=2"' in html and "?page=0" not in html
    second, html = shown(2)
    assert second == [jobs[1].pk] and html.count('data-testid="image-card"') == 2
    assert 'href="?page=1"' in html and 'href="?page=3"' in html
    third, html = shown(3)
    assert third == [jobs[0].pk] and 'href="?page=4"' not in html
    assert "No more items" in web.get("/gallery?page=9").content.decode()
    assert web.get("/gallery?page=nonsense").status_code == 200
    assert web.get("/gallery?page=" + "9" * 40).status_code == 200
