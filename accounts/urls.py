from django.urls import path

from accounts import api, password_reset, views

app_name = "accounts"

# Web pages (included at the site root).
urlpatterns = [
    path("login", views.login_view, name="login"),
    path("logout", views.logout_view, name="logout"),
    path("register", views.register_view, name="register"),
    path("users/profile", views.profile_view, name="profile"),
    path("users/profile/instructions", views.default_system_view, name="default-system"),
    path("users/profile/logout-all", views.logout_all_view, name="logout-all"),
    path("users/profile/keys", views.api_key_create_view, name="api-key-create"),
    path("users/profile/keys/<int:pk>/revoke", views.api_key_revoke_view, name="api-key-revoke"),
    *password_reset.urlpatterns,
]

# The dashboard lives at the site root, outside the namespace.
root_urlpatterns = [path("", views.dashboard, name="dashboard")]

# REST API (included under /api/ with the "accounts-api" namespace).
api_urlpatterns = [
    path("auth/register", api.RegisterApi.as_view(), name="register"),
    path("auth/login", api.LoginApi.as_view(), name="login"),
    path("auth/refresh", api.RefreshApi.as_view(), name="refresh"),
    path("auth/logout", api.LogoutApi.as_view(), name="logout"),
    path("users/me", api.MeApi.as_view(), name="me"),
    path("users/me/logout-all", api.LogoutAllApi.as_view(), name="logout-all"),
    path("keys", api.ApiKeyListApi.as_view(), name="keys"),
    path("keys/<int:pk>", api.ApiKeyDetailApi.as_view(), name="key"),
]
