"""What the generation sections on other apps' pages show (registered in apps.py)."""
from django.http import HttpRequest

from generation import selectors

RECENT_COUNT = 5


def dashboard_context(request: HttpRequest) -> dict:
    """The user's newest generations."""
    return {"recent": list(selectors.user_generations(user=request.user)[:RECENT_COUNT])}


def profile_context(request: HttpRequest) -> dict:
    """The user's generation counts, tokens and cost."""
    return {"usage": selectors.user_usage_summary(user=request.user)}
