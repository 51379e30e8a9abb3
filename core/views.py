from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core import diskfull, health


@never_cache
@require_GET
def healthz(request):
    """200 when the database and the broker answer and storage has room (STORAGE_MIN_FREE_MB);
    503 naming which part failed otherwise.

    Only ok/failed per part: the reason is logged (core.health), not answered.
    """
    checks = {
        "database": health.database_reachable(),
        "broker": health.broker_reachable(),
        "storage": diskfull.has_room(),
    }
    failing = [name for name, ok in checks.items() if not ok]
    body = {
        "status": "unavailable" if failing else "ok",
        "checks": {name: {"ok": ok} for name, ok in checks.items()},
        "failing": failing,
    }
    return JsonResponse(body, status=503 if failing else 200)
