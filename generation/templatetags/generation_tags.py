from django import template

from generation import selectors

register = template.Library()


@register.simple_tag
def recent_generations(user, count: int = 5):
    """The user's newest generations (for the dashboard)."""
    if not getattr(user, "is_authenticated", False):
        return []
    return list(selectors.user_generations(user=user)[:count])


@register.simple_tag
def usage_summary(user):
    """The user's generation counts, tokens and cost (for the profile page)."""
    if not getattr(user, "is_authenticated", False):
        return {}
    return selectors.user_usage_summary(user=user)
