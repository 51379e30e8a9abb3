"""Video jobs: one row per text-to-video or image-to-video request, and its lifecycle.

    queued --submit--> processing --poll--> completed
       |                   |         \\----> failed
       +----cancel---------+--------------> cancelled

Every change of ``status`` is a conditional UPDATE from the states it may leave
(videos.transitions.transition); nothing reads a job, edits it in Python and saves it.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

# The only places that name a job's stored files: save through the field
# (``job.video_file.save(name, file, save=False)``) and these choose the name.


def video_file_path(instance: VideoJob, filename: str) -> str:
    # A random part keeps names unguessable and lets a re-download never clash.
    return f"videos/{instance.owner_id}/{instance.pk}-{uuid.uuid4().hex[:10]}.mp4"


def source_image_path(instance: VideoJob, filename: str) -> str:
    extension = filename.rsplit(".", 1)[-1] if "." in filename else "png"
    return f"videos/{instance.owner_id}/sources/{uuid.uuid4().hex}.{extension}"


class VideoJob(models.Model):
    class GenerationType(models.TextChoices):
        TEXT_TO_VIDEO = "text_to_video", "Text to video"
        IMAGE_TO_VIDEO = "image_to_video", "Image to video"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        PROCESSING = "processing", "Processing"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    ACTIVE = (Status.QUEUED, Status.PROCESSING)
    TERMINAL = (Status.COMPLETED, Status.FAILED, Status.CANCELLED)

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="video_jobs")
    generation_type = models.CharField(
        max_length=16, choices=GenerationType.choices, default=GenerationType.TEXT_TO_VIDEO
    )
    model = models.CharField(max_length=200)
    prompt = models.TextField()

    # Image-to-video: exactly one of these names the first frame.
    source_image_url = models.CharField(
        max_length=2048, blank=True, default="", help_text="an https URL given by the user"
    )
    source_image = models.ForeignKey(
        "generation.GeneratedImage",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="video_jobs",
        help_text="one of the owner's generated images",
    )
    source_image_file = models.FileField(
        upload_to=source_image_path,
        max_length=300,
        blank=True,
        default="",
        help_text="an image the user sent as a data URL, stored",
    )
    # Its size while it is kept (0 once the job ends and it goes): counted in the owner's storage.
    source_image_bytes = models.PositiveBigIntegerField(default=0)

    aspect_ratio = models.CharField(max_length=20, blank=True, default="")
    resolution = models.CharField(max_length=20, blank=True, default="")
    duration = models.PositiveSmallIntegerField(null=True, blank=True, help_text="seconds")

    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    # 1..VIDEO_MAX_JOBS_IN_FLIGHT while the job is active, NULL once terminal. Unique per
    # owner, so the database itself refuses a job beyond the cap, even under races.
    in_flight_slot = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)

    provider_job_id = models.CharField(max_length=200, null=True, blank=True, unique=True)
    polling_url = models.CharField(max_length=2048, blank=True, default="")
    consecutive_failures = models.PositiveIntegerField(
        default=0, help_text="provider calls that failed in a row and were retried (drives backoff)"
    )
    # When a worker should next act on the job: submit it (queued) or poll it (processing).
    # A worker that takes the job pushes it forward by a lease, so no other worker acts at once.
    next_action_at = models.DateTimeField(null=True, blank=True)
    deadline_at = models.DateTimeField()
    progress = models.PositiveSmallIntegerField(null=True, blank=True, help_text="percent, when reported")

    provider_video_url = models.CharField(max_length=2048, blank=True, default="")
    video_file = models.FileField(upload_to=video_file_path, max_length=300, blank=True, default="")
    video_bytes = models.PositiveBigIntegerField(default=0)

    error = models.TextField(blank=True, default="", help_text="shown to the user")
    error_detail = models.TextField(blank=True, default="", help_text="for administrators only")
    usage = models.JSONField(default=dict, blank=True)
    cost = models.DecimalField(max_digits=14, decimal_places=8, null=True, blank=True)

    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # The personal API key the job was created with (None: the pages, a token or a session).
    api_key = models.ForeignKey(
        "accounts.ApiKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="video_jobs"
    )

    class Meta:
        db_table = "generated_videos"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="video_owner_recent"),
            models.Index(fields=["status", "next_action_at"], name="video_status_due"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["owner", "in_flight_slot"], name="video_owner_in_flight_slot"),
        ]

    def __str__(self) -> str:
        return f"video job {self.pk} ({self.status})"

    @property
    def is_terminal(self) -> bool:
        return self.status in self.TERMINAL

    @property
    def video_url(self) -> str:
        """Our own owner-only URL of the stored file, once there is one."""
        if self.status != self.Status.COMPLETED or not self.video_file:
            return ""
        return reverse("videos:file", kwargs={"pk": self.pk})

    def get_absolute_url(self) -> str:
        return reverse("videos:job", kwargs={"pk": self.pk})
