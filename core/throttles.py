from rest_framework.settings import api_settings
from rest_framework.throttling import UserRateThrottle


class GenerationThrottle(UserRateThrottle):
    """Per-user rate for generation requests (THROTTLE_GENERATION, e.g. "30/min"),
    shared by the API and the web forms. The rate is read when a request comes, so a
    changed setting applies without a restart of the class."""

    scope = "generation"

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


def web_throttle_wait(request) -> int | None:
    """For web views: None when the request may go ahead, else seconds to wait."""
    throttle = GenerationThrottle()
    if throttle.allow_request(request, None):
        return None
    return max(1, int(throttle.wait() or 1))
