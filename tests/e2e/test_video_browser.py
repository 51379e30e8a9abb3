"""The video pages in a real Chromium, against the whole stack as real processes (web,
Celery worker and beat, the offline double): submit a video and watch it complete; cancel
another job from the gallery."""

import re

import pytest

from openrouter.fake import FakeOpenRouter
from tests.conftest import SUBPROCESS_ENV
from tests.support.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

EMAIL = "video-browser@example.com"
PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("video-browser")
    with (
        FakeOpenRouter(video_duration=3) as fake,
        Stack(data_dir, fake=fake, env={**SUBPROCESS_ENV, "VIDEO_PAGE_POLL_MS": "1000"}) as stack,
    ):
        stack.prepare(users=[(EMAIL, PASSWORD)], extra_models={"google/veo-3.1:fault=never_finish": "google/veo-3.1"})
        stack.start()
        yield stack


@pytest.fixture
def page(browser, stack):
    context = browser.new_context(base_url=stack.url(""), viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto("/login")
    page.fill("input[name=username]", EMAIL)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.card button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)
    yield page
    context.close()


def options(page, name):
    return page.eval_on_selector_all(f"select[name={name}] option", "els => els.map(e => e.value)")


def test_submit_a_video_and_watch_it_complete(page, stack):
    page.goto("/generate/video")
    page.select_option("select[name=model]", "openai/sora-2")
    assert options(page, "resolution") == ["", "720p"]
    assert options(page, "duration") == ["", "4", "8", "12"]
    page.select_option("select[name=model]", "google/veo-3.1")
    assert options(page, "duration") == ["", "4", "6", "8"]
    assert page.is_hidden('[data-testid="image-source"]'), "the image picker belongs to the other tab"
    page.click('[data-testid="tab-image_to_video"]')
    assert page.is_visible('[data-testid="image-source"]')
    assert page.eval_on_selector('select[name=model] option[value="openai/sora-2"]', "o => o.disabled"), (
        "a model that cannot start from an image is not offered for image-to-video"
    )
    page.click('[data-testid="tab-text_to_video"]')
    page.fill("textarea[name=prompt]", "a hot air balloon over hills")
    page.select_option("select[name=duration]", "4")
    page.click('[data-testid="generate-video"]')

    page.wait_for_url(re.compile(r"/generate/video/\d+$"))
    status = page.locator('[data-testid="job-status"]')
    assert status.inner_text() in ("Queued", "Processing")
    assert page.is_visible('[data-testid="job-progress"]')
    page.wait_for_function("() => document.querySelector('[data-testid=job-elapsed]').textContent.includes('elapsed')")
    page.wait_for_function(
        "() => document.querySelector('[data-video-job]').dataset.status === 'completed'", timeout=60_000
    )
    video = page.locator('video[data-testid="job-video"]')
    video.wait_for()
    # The element loads the stored file: metadata read means the browser got a playable video.
    page.wait_for_function(
        "() => document.querySelector('video[data-testid=job-video]').readyState >= 1", timeout=20_000
    )
    assert page.eval_on_selector("video[data-testid=job-video]", "v => v.duration") > 0
    # Seeking needs byte ranges from the file view; without them Chromium can't seek.
    assert page.eval_on_selector("video[data-testid=job-video]", "v => v.seekable.length") > 0
    landed = page.eval_on_selector(
        "video[data-testid=job-video]",
        """v => new Promise(done => {
        v.addEventListener('seeked', () => done(v.currentTime), {once: true});
        v.currentTime = v.duration / 2;
    })""",
    )
    assert landed > 0
    assert page.is_hidden('[data-testid="cancel-job"]'), "nothing to cancel once completed"
    assert "took" in page.inner_text('[data-testid="job-elapsed"]')


def test_cancel_a_pending_job_from_the_gallery(page, stack):
    stack_api = stack.api(EMAIL, PASSWORD)
    response = stack_api.post(
        stack.url("/api/generate/video"),
        json={"model": "google/veo-3.1:fault=never_finish", "prompt": "a job that never ends"},
        timeout=30,
    )
    assert response.status_code == 202, response.text
    job_id = response.json()["id"]
    finished = stack_api.post(
        stack.url("/api/generate/video"),
        json={"model": "google/veo-3.1", "prompt": "a finished one", "duration": 4},
        timeout=30,
    ).json()["id"]
    stack.wait_for_status(stack_api, finished, "completed", timeout=60)
    stack.wait_for_status(stack_api, job_id, "processing")

    page.goto("/gallery")
    card = page.locator(f'[data-testid="video-card"][data-job-id="{job_id}"]')
    assert card.locator('[data-testid="job-status"]').inner_text() == "Processing"
    page.once("dialog", lambda dialog: dialog.accept())  # "Cancel this video?"
    card.locator('[data-testid="cancel-job"]').click()
    card.locator('[data-testid="job-cancelled"]').wait_for()
    assert card.locator('[data-testid="job-status"]').inner_text() == "Cancelled"
    assert "Cancelled." in card.locator('[data-testid="job-cancelled"]').inner_text()
    assert card.locator('[data-testid="job-progress-box"]').is_hidden()
    assert card.locator('[data-testid="cancel-job"]').is_hidden()
    assert stack_api.get(stack.url(f"/api/generate/video/{job_id}/status"), timeout=30).json()["status"] == "cancelled"
    # Finished videos in the gallery play inline.
    done = page.locator(f'[data-testid="video-card"][data-job-id="{finished}"] video')
    assert (
        done.get_attribute("src") == f"/generate/video/{finished}/file" and done.get_attribute("controls") is not None
    )
