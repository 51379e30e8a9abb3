"""What the page-walking browser tests share: a site with something on every page, the
list of pages a user and an admin reach, and the checks run on each (axe-core, the page's
width, Content-Security-Policy refusals)."""

from __future__ import annotations

import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import cast

from django.core.files.base import ContentFile
from django.utils import timezone

AXE = Path(__file__).parent / "vendor" / "axe.min.js"

# Pages not checked by axe, each with its reason. Nothing else is left out.
AXE_EXCLUDED = {
    # Swagger UI's own vendored page (drf-spectacular-sidecar): its markup is not ours.
    "/api/docs/": "Swagger UI's vendored page",
}
# What the CSP may refuse on one page without the page missing anything, with the reason.
CSP_REFUSALS_ALLOWED = {
    # ReDoc's "API docs by Redocly" footer link shows a logo from its CDN; the CSP keeps it
    # out (the page loads nothing from other sites) and the link keeps its text.
    "/api/redoc/": {"img-src https://cdn.redoc.ly/redoc/logo-mini.svg"},
}
# Rules not checked on one page, each with its reason; every other rule is.
AXE_RULES_OFF = {
    # ReDoc (the sidecar's vendored bundle) draws each operation's headings h2 -> h5; our
    # part of the page (language, title, landmark, h1) is checked.
    "/api/redoc/": ["heading-order"],
}


def shots_dir(tmp_path: Path) -> Path:
    """Where screenshots go: STUDIO_SHOTS (e.g. var/shots/after) when set, else the test's tmp dir."""
    where = Path(os.environ["STUDIO_SHOTS"]) if os.environ.get("STUDIO_SHOTS") else tmp_path
    where.mkdir(parents=True, exist_ok=True)
    return where


def seed(user, admin) -> dict:
    """Rows that give each page something to show: answers with code, a three-image
    generation, a conversation, video jobs in every state, a key, spend, a pending account."""
    from accounts.api_keys import api_key_create
    from conversations.models import Conversation, Message
    from generation.markdown import render_markdown
    from generation.models import GeneratedImage, Generation
    from openrouter.fake.media import sample_video_bytes
    from tests.factories import GeneratedImageFactory, GenerationFactory, UserFactory, VideoJobFactory
    from videos.models import VideoJob

    now = timezone.now()
    answer = "Rivers **carve** valleys.\n\n```python\nprint('a river')\n```\n\n| kind | length |\n|---|---|\n| Nile | 6650 km |"
    text = GenerationFactory(
        owner=user,
        prompt="Tell me about rivers",
        text=answer,
        html=render_markdown(answer),
        route="chat",
        prompt_tokens=12,
        completion_tokens=140,
        cost=Decimal("0.00012345"),
        created_at=now - timedelta(seconds=20),
    )
    GenerationFactory(owner=user, prompt="A free one", text="Free.", html=render_markdown("Free."), cost=Decimal("0"))
    image_generation = GenerationFactory(
        owner=user,
        kind=Generation.Kind.IMAGE,
        model_id="google/gemini-2.5-flash-image",
        prompt="A harbour at dawn",
        route="chat",
        params={"n": 3, "aspect_ratio": "16:9", "image_size": "1K"},
        cost=Decimal("0.117"),
    )
    images = [
        GeneratedImageFactory(generation=image_generation, index=i, width=w, height=h)
        for i, (w, h) in enumerate([(640, 360), (360, 640), (480, 480)])
    ]
    conversation = Conversation.objects.create(
        owner=user,
        model_id="openai/gpt-4o-mini",
        title="Rivers of the world",
        system="Answer briefly.",
        share_token="walk-share-token-0123456789abcdef",
    )
    question = Message.objects.create(conversation=conversation, role="user", content="Which river is the longest?")
    # An image attached to the question (a stored upload).
    upload = GeneratedImageFactory(
        generation=GenerationFactory(owner=user, kind=Generation.Kind.IMAGE, route="upload", prompt="Uploaded image"),
        width=320,
        height=200,
    )
    question.images.add(cast(GeneratedImage, upload))
    # An answer reads its text, state and model through its history row.
    Message.objects.create(
        conversation=conversation,
        role="assistant",
        generation=GenerationFactory.create(
            owner=user,
            conversation=conversation,
            prompt="Which river is the longest?",
            text=answer,
            html=render_markdown(answer),
            model_id="openai/gpt-4o-mini",
            finished_at=now,
        ),
    )
    Message.objects.create(conversation=conversation, role="user", content="And the second?")
    Message.objects.create(
        conversation=conversation,
        role="assistant",
        generation=GenerationFactory.create(
            owner=user,
            conversation=conversation,
            prompt="And the second?",
            text="The Amazon",
            html=render_markdown("The Amazon"),
            model_id="openai/gpt-4o-mini",
            status=Generation.Status.PARTIAL,
            finished_at=now,
        ),
    )
    completed: VideoJob = VideoJobFactory.create(
        owner=user, status=VideoJob.Status.COMPLETED, progress=100, cost=Decimal("0.4"), duration=4
    )
    completed.video_file.save("v.mp4", ContentFile(sample_video_bytes()), save=False)
    VideoJob.objects.filter(pk=completed.pk).update(video_file=completed.video_file.name)
    processing = VideoJobFactory(owner=user, status=VideoJob.Status.PROCESSING, progress=40, prompt="a slow river")
    cancelled = VideoJobFactory(owner=user, status=VideoJob.Status.CANCELLED, prompt="a cancelled river")
    failed = VideoJobFactory(owner=user, status=VideoJob.Status.FAILED, error="The provider refused the prompt.")
    api_key_create(user=user, name="my script")
    api_key_create(user=admin, name="admin's script")
    pending = UserFactory(email="waiting-for-approval@example.com", is_active=False, approved_at=None)
    # Two-factor: the walker's set-up begun (its page shows the QR code), someone with one on.
    from tests.support.two_factor import enrol
    from twofactor.services import enrolment_start

    enrolment_start(user=user)
    enrol(UserFactory(email="two-factor-on@example.com"))
    return {
        "text": text,
        "image": image_generation,
        "images": images,
        "conversation": conversation,
        "completed": completed,
        "processing": processing,
        "cancelled": cancelled,
        "failed": failed,
        "pending": pending,
    }


def user_pages(rows: dict) -> list[str]:
    return [
        "/",
        "/generate/text",
        "/generate/image",
        "/history",
        f"/history/{rows['text'].pk}",
        f"/history/{rows['image'].pk}",
        "/conversations",
        f"/conversations/{rows['conversation'].pk}",
        "/conversations?q=amazon",
        "/generate/video",
        f"/generate/video/{rows['completed'].pk}",
        f"/generate/video/{rows['processing'].pk}",
        f"/generate/video/{rows['cancelled'].pk}",
        f"/generate/video/{rows['failed'].pk}",
        "/gallery",
        "/usage",
        "/users/profile",
        "/users/profile/two-factor",
        "/no-such-page",
        "/api/",
        "/api/generations",
        "/api/docs/",
        "/api/redoc/",
    ]


def admin_pages(rows: dict, admin) -> list[str]:
    return [
        "/admin-panel/",
        "/admin-panel/models",
        "/admin-panel/api-keys",
        "/admin-panel/two-factor",
        "/admin-panel/usage",
        f"/admin-panel/users/{rows['text'].owner_id}/limits",
        f"/admin-panel/users/{rows['text'].owner_id}/delete",
        f"/admin-panel/users/{admin.pk}/delete",
        "/api/admin/stats",
    ]


def anonymous_pages() -> list[str]:
    return ["/login", "/register", "/password-reset/", "/api/", "/shared/walk-share-token-0123456789abcdef"]


def check_page(page, path: str, *, shots: Path | None = None, label: str = "") -> list[str]:
    """Open ``path`` and return what is wrong with it (empty when nothing is): a page wider
    than the window, axe-core violations of any impact, scripts or styles the CSP refused."""
    page.goto(path)
    return check_loaded_page(page, path, shots=shots, label=label)


def check_loaded_page(page, path: str, *, shots: Path | None = None, label: str = "") -> list[str]:
    """check_page's checks on the page the browser shows now (one reached by a form),
    named ``path`` in the problems and screenshots."""
    page.wait_for_load_state("networkidle")
    problems = []
    refused = [r for r in page.evaluate("window.__cspRefused || []") if r not in CSP_REFUSALS_ALLOWED.get(path, ())]
    if refused:
        problems.append(f"{path}: the Content-Security-Policy refused {refused}")
    width = page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")
    if width[0] > width[1]:
        wide = page.evaluate(
            """() => Array.from(document.querySelectorAll('body *'))
                .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
                .slice(0, 5).map(e => e.tagName.toLowerCase() + '.' + e.className)"""
        )
        problems.append(f"{path}: {width[0]} px wide in a {width[1]} px window ({wide})")
    if shots is not None:
        name = (path.strip("/").replace("/", "_") or "dashboard") + (f"-{label}" if label else "")
        # Whole pages, but only the first screen of very long ones (ReDoc's reference).
        tall = page.evaluate("document.scrollingElement.scrollHeight") > 8000
        page.screenshot(path=str(shots / f"{name}.png"), full_page=not tall)
    if path not in AXE_EXCLUDED:
        # Evaluated through the DevTools protocol, so the page's CSP (script-src 'self') stays on.
        page.evaluate(AXE.read_text())
        rules = {rule: {"enabled": False} for rule in AXE_RULES_OFF.get(path, [])}
        result = page.evaluate(
            "async (rules) => (await axe.run(document, {resultTypes: ['violations'], rules})).violations", rules
        )
        for violation in result:
            nodes = "; ".join(" ".join(node["target"]) for node in violation["nodes"][:4])
            problems.append(f"{path}: axe {violation['impact']} {violation['id']} ({violation['help']}) at {nodes}")
    return problems


CSP_LISTENER = """
window.__cspRefused = [];
document.addEventListener('securitypolicyviolation', (e) => window.__cspRefused.push(e.violatedDirective + ' ' + e.blockedURI));
"""
