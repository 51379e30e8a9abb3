"""A request-shaped ORM mix, for bench/duckdb_request_bench.py."""

from django.http import JsonResponse

from .testapp.models import Job


def request_mix(request):
    # Session lookup and user by pk (AuthenticationMiddleware, lazily).
    user_id = request.user.pk
    # An indexed filter.
    recent = list(
        Job.objects.filter(owner_id=user_id, status="queued").order_by("-id").values_list("id", flat=True)[:5]
    )
    # An insert and a conditional update.
    job = Job.objects.create(owner_id=user_id, worker="web")
    moved = Job.objects.filter(pk=job.pk, status="queued").update(status="done")
    return JsonResponse({"recent": recent, "job": job.pk, "moved": moved})
