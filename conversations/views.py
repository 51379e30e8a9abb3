"""The conversation pages: your conversations beside the open thread. Sending and
streaming go through the API (static/js/conversation.js); new, rename and delete are
plain forms."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from catalogue.selectors import catalogue_list
from conversations import selectors, services
from conversations.api import export_response
from core.errors import DomainError

LIST_PAGE_SIZE = 20


def _page(request, conversation=None, *, status=200):
    search = (request.GET.get("q") or "").strip()
    page = Paginator(selectors.user_conversations(user=request.user, search=search), LIST_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    page.object_list = selectors.with_snippets(page.object_list, search)
    models = list(catalogue_list(kind="text"))
    context = {"page": page, "q": search, "models": models, "conversation": conversation}
    if conversation is not None:
        thread = selectors.thread(conversation)
        context.update(
            thread=thread, last_answer=next((m for m in reversed(thread[-1:]) if m.role == "assistant"), None)
        )
        context["page_data"] = {
            "conversation": conversation.pk,
            "model": conversation.model_id,
            "messages_api": f"/api/conversations/{conversation.pk}/messages",
            "conversation_api": f"/api/conversations/{conversation.pk}",
        }
        if conversation.share_token:
            context["share_url"] = request.build_absolute_uri(f"/shared/{conversation.share_token}")
    return render(request, "conversations/page.html", context, status=status)


@login_required
def conversations_page(request):
    return _page(request)


@login_required
def conversation_page(request, pk):
    try:
        conversation = selectors.user_conversation(user=request.user, conversation_id=pk)
    except DomainError:
        return render(request, "conversations/not_found.html", status=404)
    return _page(request, conversation)


@login_required
@require_POST
def conversation_new_page(request):
    model = request.POST.get("model") or next(iter(catalogue_list(kind="text").values_list("pk", flat=True)), "")
    try:
        conversation = services.conversation_create(user=request.user, model=model)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("conversations:list")
    return redirect("conversations:detail", pk=conversation.pk)


@login_required
@require_POST
def conversation_rename_page(request, pk):
    try:
        conversation = selectors.user_conversation(user=request.user, conversation_id=pk)
        services.conversation_update(conversation=conversation, by=request.user, title=request.POST.get("title", ""))
    except DomainError as exc:
        if exc.kind == "not_found":
            return render(request, "conversations/not_found.html", status=404)
        messages.error(request, exc.message)
    return redirect("conversations:detail", pk=pk)


@login_required
@require_POST
def conversation_delete_page(request, pk):
    try:
        conversation = selectors.user_conversation(user=request.user, conversation_id=pk)
    except DomainError:
        return render(request, "conversations/not_found.html", status=404)
    services.conversation_delete(conversation=conversation, by=request.user)
    messages.success(request, "The conversation was deleted.")
    return redirect("conversations:list")


@login_required
def conversation_export_page(request, pk, kind):
    """Download the conversation as Markdown or JSON (the API's export, for the page's links)."""
    try:
        conversation = selectors.user_conversation(user=request.user, conversation_id=pk)
    except DomainError:
        return render(request, "conversations/not_found.html", status=404)
    return export_response(conversation, kind)


def _share_change(request, pk, change, done: str):
    try:
        conversation = selectors.user_conversation(user=request.user, conversation_id=pk)
    except DomainError:
        return render(request, "conversations/not_found.html", status=404)
    change(conversation=conversation, by=request.user)
    messages.success(request, done)
    return redirect("conversations:detail", pk=pk)


@login_required
@require_POST
def conversation_share_page(request, pk):
    return _share_change(
        request, pk, services.conversation_share, "Anyone with the link can now read this conversation."
    )


@login_required
@require_POST
def conversation_unshare_page(request, pk):
    return _share_change(request, pk, services.conversation_unshare, "The share link no longer works.")


@require_GET
@never_cache
def shared_conversation_page(request, token):
    """A shared conversation, read-only, for anyone holding its link (no sign-in)."""
    try:
        conversation = selectors.shared_conversation(token=token)
    except DomainError:
        return render(request, "conversations/not_found.html", {"shared": True}, status=404)
    response = render(
        request, "conversations/shared.html", {"conversation": conversation, "thread": selectors.thread(conversation)}
    )
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response
