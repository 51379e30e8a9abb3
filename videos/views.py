"""Web pages for video jobs: the form, the job page, the gallery, and the owner-only
video file. Thin: a form in, one service call, render; the same services as the API."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from catalogue.selectors import catalogue_list, picker_options
from core.errors import DomainError, NotFound
from core.http import page_error
from core.redirects import safe_next_path
from core.throttles import web_throttle_wait
from videos import selectors, services
from videos.forms import VideoForm
from videos.models import VideoJob


def _not_found(request):
    return render(request, "videos/not_found.html", status=404)


@login_required
@require_http_methods(["GET", "POST"])
def video_generate(request):
    models = list(catalogue_list(kind="video", user=request.user))
    form = VideoForm(request.POST or None, models=models)
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        wait = web_throttle_wait(request)
        if wait is not None:
            form.add_error(None, f"Too many generation requests; try again in {wait} seconds.")
            status = 429
        else:
            try:
                job = services.video_job_create(
                    owner=request.user,
                    generation_type=data["generation_type"],
                    model=data["model"],
                    prompt=data["prompt"],
                    aspect_ratio=data["aspect_ratio"],
                    resolution=data["resolution"],
                    duration=data["duration"],
                    image_url=data["image_url"],
                    image_id=data["image_id"],
                )
            except DomainError as exc:
                answer = page_error(exc)
                form.add_error(answer.field if answer.field in form.fields else None, answer.message)
                status = answer.status
            else:
                return redirect(job)
    elif request.method == "POST":
        status = 400
    context = {
        "form": form,
        "models": models,
        "catalogue": picker_options(models),
        "images": selectors.user_source_images(user=request.user),
        "max_in_flight": settings.VIDEO_MAX_JOBS_IN_FLIGHT,
    }
    return render(request, "videos/generate.html", context, status=status)


@login_required
@require_GET
def video_job_page(request, pk):
    try:
        job = selectors.user_video_job(user=request.user, job_id=pk)
    except NotFound:
        return _not_found(request)
    return render(request, "videos/job.html", {"job": job, "poll_ms": settings.VIDEO_PAGE_POLL_MS})


@login_required
@require_POST
def video_cancel(request, pk):
    """The cancel button without JavaScript; with it, pages call the API instead. Cancels
    count against the generation throttle, as creating does (a cancel frees a slot at once)."""
    wait = web_throttle_wait(request)
    if wait is not None:
        try:
            job = selectors.user_video_job(user=request.user, job_id=pk)
        except NotFound:
            return _not_found(request)
        messages.error(request, f"Too many generation requests; try again in {wait} seconds.")
        response = render(request, "videos/job.html", {"job": job, "poll_ms": settings.VIDEO_PAGE_POLL_MS}, status=429)
        response["Retry-After"] = str(wait)
        return response
    try:
        services.video_job_cancel(job_id=pk, by=request.user)
    except NotFound:
        return _not_found(request)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            "Job cancelled. Only our polling stopped: the provider may still "
            "finish (and bill) the video, which will not be collected.",
        )
    return redirect(safe_next_path(request, default=VideoJob(pk=pk).get_absolute_url()))


@login_required
@require_POST
def video_delete(request, pk):
    """Delete a finished job and its video (the job page's Delete button)."""
    try:
        services.video_job_delete(job_id=pk, by=request.user)
    except NotFound:
        return _not_found(request)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(VideoJob(pk=pk).get_absolute_url())
    messages.success(request, "The video job and its file were deleted.")
    return redirect("videos:gallery")


@login_required
@require_GET
def gallery(request):
    page = request.GET.get("page", "1")
    # Anything odd is the first page; the cap keeps the query's LIMIT sane.
    page = min(int(page), 10_000) if page.isdigit() and int(page) > 0 else 1
    kind = request.GET.get("kind") if request.GET.get("kind") in ("image", "video") else ""
    cards, has_older = selectors.user_gallery(
        user=request.user, page=page, per_page=settings.GALLERY_PAGE_SIZE, kind=kind or None
    )
    return render(
        request,
        "videos/gallery.html",
        {
            "cards": cards,
            "page": page,
            "has_older": has_older,
            "poll_ms": settings.VIDEO_PAGE_POLL_MS,
            "kind": kind,
        },
    )
