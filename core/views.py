from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core import health


@never_cache
@require_GET
def healthz(request):
    """200 when the database and the broker answer; 503 naming what failed otherwise."""
    checks = {"database": health.database_reachable(), "broker": health.broker_reachable()}
    healthy = all(ok for ok, _ in checks.values())
    body = {
        "status": "ok" if healthy else "unavailable",
        "checks": {name: {"ok": ok, "detail": detail} for name, (ok, detail) in checks.items()},
    }
    if not healthy:
        body["failing"] = [name for name, (ok, _) in checks.items() if not ok]
    return JsonResponse(body, status=200 if healthy else 503)
