from django.urls import path

from audit import api, views

app_name = "audit"

# Web pages (included under /admin-panel/).
urlpatterns = [
    path("audit", views.audit_list, name="list"),
]

# REST API (included under /api/ with the "audit-api" namespace).
api_urlpatterns = [
    path("admin/audit", api.AuditApi.as_view(), name="list"),
]
