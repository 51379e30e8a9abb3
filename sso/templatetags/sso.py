from django import template

from sso import client

register = template.Library()


@register.inclusion_tag("sso/_sign_in.html", takes_context=True)
def sso_sign_in(context, next_path: str = ""):
    """The "Sign in with …" button (nothing when single sign-on is not configured), with
    what went wrong at the last attempt."""
    return {
        "enabled": client.enabled(),
        "name": client.provider_name(),
        "next": next_path,
        "error": context.get("sso_error", ""),
    }
