"""Web pages for text and image generation and the history. Thin: forms in, one
service call, render; the same services as the API."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from catalogue.selectors import catalogue_list, picker_options
from core.db import in_db
from core.errors import DomainError
from core.http import page_error
from core.throttles import web_throttle_wait
from generation import selectors, services
from generation.forms import HistoryFilterForm, ImageEditForm, ImageForm, TextForm
from openrouter.errors import ProviderError

HISTORY_PAGE_SIZE = 20


async def _run(request, form, call):
    """Await a service for a valid form; failures become form errors. Returns
    (generation or None, HTTP status for the re-rendered page)."""
    wait = await in_db(web_throttle_wait)(request)
    if wait is not None:
        form.add_error(None, f"Too many generation requests; try again in {wait} seconds.")
        return None, 429
    try:
        return await call(), 200
    except (ProviderError, DomainError) as exc:
        answer = page_error(exc)
        form.add_error(answer.field if answer.field in form.fields else None, answer.message)
        return None, answer.status


def _bound_form(request, form_class, kind: str):
    """The kind's models and the form (bound on POST, and checked), made in a worker thread."""
    models = list(catalogue_list(kind=kind, user=request.user))
    form = form_class(request.POST or None, models=models)
    return models, form, request.method == "POST" and form.is_valid()


@login_required
@require_http_methods(["GET", "POST"])
async def text_page(request):
    """The text page. With JavaScript the answer streams in through the API; this POST
    is the plain-form fallback (it waits for the whole answer)."""
    models, form, valid = await in_db(_bound_form)(request, TextForm, "text")
    status = 400 if request.method == "POST" and not valid else 200
    if valid:
        data, user = form.cleaned_data, await request.auser()
        generation, status = await _run(
            request,
            form,
            lambda: services.text_generate(
                user=user,
                model=data["model"],
                prompt=data["prompt"],
                system=data["system"],
                max_tokens=data["max_tokens"],
                temperature=data["temperature"],
            ),
        )
        if generation is not None:
            return redirect("generation:detail", pk=generation.pk)
    return await in_db(render)(request, "generation/text.html", {"form": form, "models": models}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
async def image_page(request):
    models, form, valid = await in_db(_bound_form)(request, ImageForm, "image")
    status = 400 if request.method == "POST" and not valid else 200
    if valid:
        data, user = form.cleaned_data, await request.auser()
        generation, status = await _run(
            request,
            form,
            lambda: services.image_generate(
                user=user,
                model=data["model"],
                prompt=data["prompt"],
                n=data["n"] or 1,
                size=data["size"],
                aspect_ratio=data["aspect_ratio"],
                image_size=data["image_size"],
            ),
        )
        if generation is not None:
            return redirect("generation:detail", pk=generation.pk)
    return await in_db(render)(
        request,
        "generation/image.html",
        {"form": form, "models": models, "catalogue": picker_options(models)},
        status=status,
    )


@login_required
def history_page(request):
    filters = HistoryFilterForm(request.GET or None)
    kind = filters.cleaned_data.get("kind") if filters.is_valid() else None
    page = Paginator(selectors.HistoryFeed(user=request.user, kind=kind or None), HISTORY_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "generation/history.html", {"page": page, "filters": filters, "kind": kind or ""})


def editor_models(user) -> list:
    """The image models this person may use that can edit an image: they take image
    input and answer with images on the chat route."""
    return [
        model
        for model in catalogue_list(kind="image", user=user)
        if "image" in (model.input_modalities or []) and model.image_route == "chat"
    ]


def _edit_form(models, images, data=None) -> ImageEditForm:
    return ImageEditForm(data, models=models, images=images, auto_id="id_edit_%s")


def _detail_context(request, generation, *, edit_form=None) -> dict:
    """The detail page's context: its images and, for the owner's images when some model
    can edit, ONE edit form that picks which image (the submitted one, bound, on errors)."""
    images = list(generation.images.all())
    if edit_form is None and generation.owner_id == request.user.id and generation.kind == "image" and images:
        models = editor_models(request.user)
        edit_form = _edit_form(models, images) if models else None
    return {"generation": generation, "images": images, "edit_form": edit_form}


@login_required
def generation_page(request, pk):
    try:
        generation = selectors.user_generation(user=request.user, generation_id=pk, allow_admin=True)
    except DomainError:
        return render(request, "generation/not_found.html", status=404)
    return render(request, "generation/detail.html", _detail_context(request, generation))


def _bound_edit_form(request, pk, image_id):
    """The owner's generation (None when it is not theirs, or ``image_id`` is not one of its
    images) and the bound edit form, checked; in a worker thread. The image is the URL's
    ``image_id``, else the form's ``image`` field."""
    try:
        generation = selectors.user_generation(user=request.user, generation_id=pk)
    except DomainError:
        return None, None, False
    images = list(generation.images.all())
    data = request.POST
    if image_id is not None:
        if image_id not in {image.pk for image in images}:
            return None, None, False
        data = data.copy()
        data["image"] = str(image_id)
    form = _edit_form(editor_models(request.user), images, data)
    return generation, form, form.is_valid()


@login_required
@require_POST
async def image_edit_page(request, pk, image_id=None):
    """Edit one of the generation's images (picked in the form, or named by the URL) with
    an instruction; the new generation's page on success, the detail page with the form's
    errors otherwise."""
    generation, form, valid = await in_db(_bound_edit_form)(request, pk, image_id)
    if generation is None:
        return await in_db(render)(request, "generation/not_found.html", status=404)
    status = 200 if valid else 400
    if valid:
        data, user = form.cleaned_data, await request.auser()
        edit, status = await _run(
            request,
            form,
            lambda: services.image_generate(
                user=user, model=data["model"], prompt=data["instruction"], source_image_id=int(data["image"])
            ),
        )
        if edit is not None:
            return redirect("generation:detail", pk=edit.pk)
    context = await in_db(_detail_context)(request, generation, edit_form=form)
    return await in_db(render)(request, "generation/detail.html", context, status=status)


@login_required
@require_POST
def generation_delete_page(request, pk):
    try:
        generation = selectors.user_generation(user=request.user, generation_id=pk)
    except DomainError:
        return render(request, "generation/not_found.html", status=404)
    services.generation_delete(generation=generation, by=request.user)
    messages.success(request, "The generation and its files were deleted.")
    return redirect("generation:history")
