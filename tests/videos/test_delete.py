"""Deleting a finished video job (DELETE /api/generate/video/{id}, the job page's Delete
button): its file goes and its storage is freed; only its owner may; a running job is 409."""

import pytest
from django.core.files.base import ContentFile
from rest_framework.test import APIClient

from accounts.api_keys import api_key_create
from storage.quota import used_bytes
from tests.support.accounts import bearer_client
from videos.models import VideoJob

S = VideoJob.Status
pytestmark = pytest.mark.django_db


@pytest.fixture
def finished(user, make_job):
    job = make_job(user, status=S.COMPLETED)
    job.video_file.save("video.mp4", ContentFile(b"\0" * 5000), save=False)
    job.video_bytes = 5000
    job.save()
    return job


def caller(who, user, other_user, admin_user):
    if who == "anonymous":
        return APIClient()
    if who == "api key":
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_create(user=user, name='k').secret}")
        return client
    return bearer_client({"owner": user, "other": other_user, "admin": admin_user}[who])


@pytest.mark.parametrize(
    "who, status", [("anonymous", 401), ("owner", 204), ("api key", 204), ("other", 404), ("admin", 404)]
)
def test_authorization_matrix(
    finished, user, other_user, admin_user, stored_files, django_capture_on_commit_callbacks, who, status
):
    name = finished.video_file.name
    with django_capture_on_commit_callbacks(execute=True):
        response = caller(who, user, other_user, admin_user).delete(f"/api/generate/video/{finished.pk}")
    assert response.status_code == status
    assert VideoJob.objects.filter(pk=finished.pk).exists() == (status != 204)
    assert (name in stored_files()) == (status != 204)
    assert used_bytes(user_id=user.pk) == (0 if status == 204 else 5000)


@pytest.mark.parametrize("state", [S.QUEUED, S.PROCESSING])
def test_a_running_job_is_409(user, make_job, state):
    job = make_job(user, status=state)
    response = bearer_client(user).delete(f"/api/generate/video/{job.pk}")
    assert response.status_code == 409 and "cancel it first" in response.json()["detail"]
    assert VideoJob.objects.filter(pk=job.pk).exists()


def test_the_job_page_deletes_its_owners_finished_job(client, user, other_user, finished):
    client.force_login(other_user)
    assert client.post(f"/generate/video/{finished.pk}/delete").status_code == 404
    client.force_login(user)
    page = client.get(f"/generate/video/{finished.pk}").content.decode()
    assert 'data-testid="delete-video"' in page
    response = client.post(f"/generate/video/{finished.pk}/delete")
    assert response.status_code == 302 and response["Location"] == "/gallery"
    assert not VideoJob.objects.filter(pk=finished.pk).exists()
