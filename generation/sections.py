"""What the generation sections on other apps' pages show (registered in apps.py)."""

from django.http import HttpRequest

from generation import selectors
from videos.selectors import user_video_usage

RECENT_COUNT = 5


def dashboard_context(request: HttpRequest) -> dict:
    """The user's newest history entries: generations and conversations, as on the history page."""
    return {"recent": selectors.HistoryFeed(user=request.user)[:RECENT_COUNT]}


def profile_context(request: HttpRequest) -> dict:
    """The user's generation and video job counts, tokens and cost (``total_cost`` is
    text, image and video together)."""
    usage = selectors.user_usage_summary(user=request.user)
    videos = user_video_usage(user=request.user)
    return {
        "usage": {
            **usage,
            "videos": videos,
            "generation_cost": usage["total_cost"],
            "total_cost": usage["total_cost"] + videos["cost"],
        }
    }
