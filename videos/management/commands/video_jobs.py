"""``manage.py video_jobs``: look at video jobs and nudge them (operators).

manage.py video_jobs list [--status failed] [--owner someone@example.com] [--limit 50]
manage.py video_jobs show 42
manage.py video_jobs retry 42 [--resubmit]
manage.py video_jobs cancel 42
manage.py video_jobs sweep
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from core.errors import DomainError
from videos import services, sweep
from videos.models import VideoJob


class Command(BaseCommand):
    help = "List video jobs, show one, retry a failed one, cancel one, or run the sweep now."

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        listing = commands.add_parser("list", help="List jobs, newest first.")
        listing.add_argument("--status", choices=VideoJob.Status.values)
        listing.add_argument("--owner", help="the owner's email address")
        listing.add_argument("--limit", type=int, default=50)
        show = commands.add_parser("show", help="Everything about one job, admin details included.")
        show.add_argument("job_id", type=int)
        retry = commands.add_parser(
            "retry", help="Give a failed job another go: poll again if the provider has it, else submit it."
        )
        retry.add_argument("job_id", type=int)
        retry.add_argument(
            "--resubmit", action="store_true", help="submit afresh even if the provider has the job (it may bill twice)"
        )
        cancel = commands.add_parser("cancel", help="Cancel a queued or processing job (our polling stops).")
        cancel.add_argument("job_id", type=int)
        commands.add_parser("sweep", help="Run the beat's sweep once, now.")

    def handle(self, *args, action, **options):
        try:
            getattr(self, f"_{action}")(**options)
        except DomainError as exc:
            raise CommandError(exc.message) from exc

    def _list(self, *, status=None, owner=None, limit=50, **_):
        jobs = VideoJob.objects.select_related("owner").order_by("-created_at", "-id")
        if status:
            jobs = jobs.filter(status=status)
        if owner:
            jobs = jobs.filter(owner__email=owner.strip().lower())
        rows = list(jobs[: max(1, limit)])
        if not rows:
            self.stdout.write("No video jobs.")
            return
        self.stdout.write(
            f"{'id':>6}  {'status':<10} {'progress':>8}  {'failures':>8}  {'created (UTC)':<19}  "
            f"{'type':<14}  {'owner':<28}  model / error"
        )
        for job in rows:
            progress = "" if job.progress is None else f"{job.progress}%"
            tail = job.model + (f"  -- {job.error}" if job.error else "")
            self.stdout.write(
                f"{job.pk:>6}  {job.status:<10} {progress:>8}  {job.consecutive_failures:>8}  "
                f"{job.created_at:%Y-%m-%d %H:%M:%S}  {job.generation_type:<14}  {job.owner.email:<28}  {tail}"
            )

    def _show(self, *, job_id, **_):
        job = VideoJob.objects.select_related("owner").filter(pk=job_id).first()
        if job is None:
            raise CommandError(f"No video job {job_id}.")
        for field in VideoJob._meta.fields:
            value = getattr(job, field.name)
            self.stdout.write(f"{field.name:>20}: {value}")

    def _retry(self, *, job_id, resubmit=False, **_):
        job = services.video_job_retry(job_id=job_id, resubmit=resubmit)
        how = "polling the provider again" if job.status == VideoJob.Status.PROCESSING else "submitting it again"
        self.stdout.write(self.style.SUCCESS(f"Job {job.pk} is {job.status} ({how})."))

    def _cancel(self, *, job_id, **_):
        job = services.video_job_cancel(job_id=job_id)
        self.stdout.write(self.style.SUCCESS(f"Job {job.pk} cancelled."))

    def _sweep(self, **_):
        self.stdout.write(str(sweep.video_jobs_sweep()))
