"""Where a form may send people back to: paths on this site only."""

from django.utils.http import url_has_allowed_host_and_scheme


def safe_next_path(request, default: str = "") -> str:
    """?next= (or the form's next) when it is a path on this site, else ``default``."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    # No allowed hosts: only host-less paths pass ("//evil.example", "https://..." do not).
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target,
        allowed_hosts=set(),
        require_https=request.is_secure(),
    ):
        return target
    return default
