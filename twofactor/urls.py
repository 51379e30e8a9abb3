from django.urls import path

from twofactor import api, views

app_name = "twofactor"

# Web pages (included at the site root).
urlpatterns = [
    path("login/two-factor", views.login_code_view, name="login-code"),
    path("login/two-factor/setup", views.login_setup_view, name="login-setup"),
    path("users/profile/two-factor", views.manage_view, name="manage"),
    path("users/profile/two-factor/setup", views.setup_start_view, name="setup-start"),
    path("users/profile/two-factor/confirm", views.setup_confirm_view, name="setup-confirm"),
    path("users/profile/two-factor/recovery-codes", views.recovery_codes_view, name="recovery-codes"),
    path("users/profile/two-factor/disable", views.disable_view, name="disable"),
    path("admin-panel/two-factor", views.admin_view, name="admin"),
    path("admin-panel/two-factor/users/<int:user_id>/reset", views.admin_reset_view, name="admin-reset"),
]

# REST API (included under /api/ with the "twofactor-api" namespace).
api_urlpatterns = [
    path("auth/login/2fa", api.LoginSecondStepApi.as_view(), name="login-2fa"),
    path("users/me/two-factor", api.MyTwoFactorApi.as_view(), name="me"),
    path("users/<int:user_id>/two-factor", api.TwoFactorResetApi.as_view(), name="reset"),
    path("admin/two-factor", api.TwoFactorPolicyApi.as_view(), name="policy"),
]
