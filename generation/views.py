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


def _edit_form(models, image, data=None) -> ImageEditForm:
    # Every image on the page has its own form: ids are made unique per image.
    return ImageEditForm(data, models=models, auto_id=f"id_edit{image.pk}_%s")


def _detail_context(request, generation, *, edit_image=None, edit_form=None) -> dict:
    """The detail page's context: its images, each of the owner's with an Edit form
    (the submitted one, bound, for ``edit_image``) when some model can edit."""
    images = list(generation.images.all())
    if generation.owner_id == request.user.id and generation.kind == "image" and images:
        models = editor_models(request.user)
        for image in images if models else ():
            image.edit_form = (
                edit_form if edit_image is not None and image.pk == edit_image.pk else _edit_form(models, image)
            )
    return {"generation": generation, "images": images}


@login_required
def generation_page(request, pk):
    try:
        generation = selectors.user_generation(user=request.user, generation_id=pk, allow_admin=True)
    except DomainError:
        return render(request, "generation/not_found.html", status=404)
    return render(request, "generation/detail.html", _detail_context(request, generation))


def _bound_edit_form(request, pk, image_id):
    """The owner's generation and image (None when either is not theirs, or the image is
    not this generation's) and the bound edit form, checked; in a worker thread."""
    try:
        generation = selectors.user_generation(user=request.user, generation_id=pk)
        image = selectors.user_image(user=request.user, image_id=image_id)
    except DomainError:
        return None, None, None, False
    if image.generation_id != generation.pk:
        return None, None, None, False
    form = _edit_form(editor_models(request.user), image, request.POST)
    return generation, image, form, form.is_valid()


@login_required
@require_POST
async def image_edit_page(request, pk, image_id):
    """Edit one of the owner's images with an instruction; the new generation's page on
    success, the detail page with the form's errors otherwise."""
    generation, image, form, valid = await in_db(_bound_edit_form)(request, pk, image_id)
    if generation is None:
        return await in_db(render)(request, "generation/not_found.html", status=404)
    status = 200 if valid else 400
    if valid:
        data, user = form.cleaned_data, await request.auser()
        edit, status = await _run(
            request,
            form,
            lambda: services.image_generate(
                user=user, model=data["model"], prompt=data["instruction"], source_image_id=image.pk
            ),
        )
        if edit is not None:
            return redirect("generation:detail", pk=edit.pk)
    context = await in_db(_detail_context)(request, generation, edit_image=image, edit_form=form)
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
