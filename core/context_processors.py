from django.conf import settings


def site(request):
    """What every page's header needs: the demo-mode banner flag."""
    return {"demo_mode": settings.DEMO_MODE, "prompt_max_chars": settings.GENERATION_PROMPT_MAX_CHARS}
