from django.urls import path

from admin_panel import api, views

app_name = "admin_panel"

# Web pages (included under /admin-panel/).
urlpatterns = [
    path("", views.index, name="index"),
    path("users/<int:user_id>/role", views.user_role, name="user-role"),
    path("users/<int:user_id>/delete", views.user_delete, name="user-delete"),
    path("users/add", views.user_add, name="user-add"),
    path("users/<int:user_id>/approve", views.user_approve, name="user-approve"),
    path("models", views.model_list, name="models"),
    path("models/access", views.model_access, name="model-access"),
    path("api-keys", views.api_key_list, name="api-keys"),
    path("api-keys/<int:key_id>/revoke", views.api_key_revoke, name="api-key-revoke"),
]

# REST API (included under /api/ with the "admin-api" namespace).
api_urlpatterns = [
    path("admin/stats", api.AdminStatsApi.as_view(), name="stats"),
    path("users/<int:user_id>", api.UserDeleteApi.as_view(), name="user-delete"),
    path("users/<int:user_id>/role", api.UserRoleApi.as_view(), name="user-role"),
    path("users/<int:user_id>/approve", api.UserApproveApi.as_view(), name="user-approve"),
]
