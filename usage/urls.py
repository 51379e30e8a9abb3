from django.urls import path

from usage import api, views

app_name = "usage"

# Web pages (included at the site root).
urlpatterns = [
    path("usage", views.usage_page, name="page"),
    path("admin-panel/usage", views.admin_usage_page, name="admin"),
]

# REST API (included under /api/ with the "usage-api" namespace).
api_urlpatterns = [
    path("usage", api.UsageApi.as_view(), name="own"),
    path("admin/usage", api.AdminUsageApi.as_view(), name="site"),
]
