from django import template

from videos import selectors

register = template.Library()


@register.simple_tag
def recent_video_jobs(user, limit: int = 5):
    """The user's latest video jobs (the dashboard's section)."""
    if not getattr(user, "is_authenticated", False):
        return []
    return list(selectors.user_video_jobs(user=user)[:limit])
