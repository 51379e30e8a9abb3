from csp.constants import SELF
from csp.decorators import csp_update
from django.conf import settings
from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView

from accounts.urls import api_urlpatterns as accounts_api_urlpatterns
from accounts.urls import root_urlpatterns
from admin_panel.urls import api_urlpatterns as admin_api_urlpatterns
from audit.urls import api_urlpatterns as audit_api_urlpatterns
from billing.urls import api_urlpatterns as billing_api_urlpatterns
from catalogue.urls import api_urlpatterns as catalogue_api_urlpatterns
from conversations.urls import api_urlpatterns as conversations_api_urlpatterns
from core.api import ApiRootView, SchemaView, api_not_found
from core.views import healthz
from generation.urls import api_urlpatterns as generation_api_urlpatterns
from operations.views import metrics
from teams.urls import api_urlpatterns as teams_api_urlpatterns
from twofactor.urls import api_urlpatterns as twofactor_api_urlpatterns
from usage.urls import api_urlpatterns as usage_api_urlpatterns
from videos.urls import api_urlpatterns as videos_api_urlpatterns

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics, name="metrics"),
    # For pages without the <link rel="icon"> (the API's browsable pages, direct probes).
    path("favicon.ico", RedirectView.as_view(url=static("img/favicon.svg"), permanent=True)),
    path("admin/", admin.site.urls),
    path("api/", ApiRootView.as_view(), name="api-root"),
    path("api/schema/", SchemaView.as_view(), name="schema"),
    # The split view: Swagger UI's start-up script is served from /api/docs/?script, not
    # inline, so the page runs under the site's script-src 'self' (config/settings.py).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    # ReDoc from the sidecar's vendored bundle; the page (templates/api/redoc.html) loads no web
    # fonts. Its search index runs in a worker ReDoc starts from a blob: URL of its own code,
    # which this page alone allows (scripts are still only the site's own files).
    path(
        "api/redoc/",
        csp_update({"worker-src": [SELF, "blob:"]})(
            SpectacularRedocView.as_view(url_name="schema", template_name="api/redoc.html")
        ),
        name="api-redoc",
    ),
    # The OpenAI-compatible API (personal API keys), with its own 404 for unknown paths.
    path("v1/", include("gateway.urls")),
    # The JSON API before the pages' includes (whose "" prefix every path enters), the
    # busiest first: Django builds the list of every pattern tried in an include it enters
    # and leaves (for its 404 page), a tenth of a streamed text request's event loop time.
    path("api/", include((generation_api_urlpatterns, "generation-api"))),
    path("api/", include((conversations_api_urlpatterns, "conversations-api"))),
    path("api/", include((accounts_api_urlpatterns, "accounts-api"))),
    path("api/", include((admin_api_urlpatterns, "admin-api"))),
    path("api/", include((billing_api_urlpatterns, "billing-api"))),
    path("api/", include((teams_api_urlpatterns, "teams-api"))),
    path("api/", include((twofactor_api_urlpatterns, "twofactor-api"))),
    path("api/", include((audit_api_urlpatterns, "audit-api"))),
    path("api/", include((catalogue_api_urlpatterns, "catalogue-api"))),
    path("api/", include((videos_api_urlpatterns, "videos-api"))),
    path("api/", include((usage_api_urlpatterns, "usage-api"))),
    path("", include("accounts.urls")),
    path("sso/", include("sso.urls")),
    path("admin-panel/", include("admin_panel.urls")),
    path("admin-panel/", include("billing.urls")),
    path("admin-panel/", include("teams.urls")),
    path("", include("twofactor.urls")),
    path("admin-panel/", include("audit.urls")),
    path("", include("generation.urls")),
    path("", include("conversations.urls")),
    path("", include("videos.urls")),
    path("", include("usage.urls")),
    *root_urlpatterns,
    # Last: whatever no API endpoint took is a JSON 404, never the site's HTML page.
    re_path(r"^api/", api_not_found, name="api-not-found"),
]

# JSON for /api/ paths, the site's pages (templates/404.html, 500.html...) elsewhere.
handler400 = "core.api.bad_request"
handler403 = "core.api.permission_denied"
handler404 = "core.api.page_not_found"
handler500 = "core.api.server_error"

admin.site.site_header = "Studio administration"
admin.site.site_title = "Studio admin"
if settings.DEMO_MODE:
    admin.site.site_header += " (demo mode: offline provider)"
