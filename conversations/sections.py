"""What the conversations section of the dashboard shows (registered in apps.py)."""

from django.http import HttpRequest

from conversations import selectors

RECENT_COUNT = 5


def dashboard_context(request: HttpRequest) -> dict:
    return {"recent_conversations": list(selectors.user_conversations(user=request.user)[:RECENT_COUNT])}
