"""What the videos section on the dashboard shows (registered in apps.py)."""

from django.http import HttpRequest

from videos import selectors

RECENT_COUNT = 5


def dashboard_context(request: HttpRequest) -> dict:
    """The user's latest video jobs."""
    return {"recent": list(selectors.user_video_jobs(user=request.user)[:RECENT_COUNT])}
